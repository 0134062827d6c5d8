"""``support-agent workspace …``, ``import kb`` and ``eval retrieval``: a team's own data, end to end.

A workspace is one company: a data directory (knowledge/ required; playbook.yaml,
customers.jsonl and tickets.jsonl optional), its own index and classifier, its own rows.
``import kb PATH --workspace W`` copies a help-centre export into W's knowledge folder
(creating the workspace under the state directory when it does not exist), reports what it
skipped and why, and builds W's index with per-step progress.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cli.common import CliError, build_workspace, open_workspaces


def cmd_workspace_create(args: argparse.Namespace) -> None:
    """Register a workspace reading ``--data DIR``."""
    data_dir = Path(args.data)
    if not data_dir.is_dir():
        raise CliError(f"{data_dir}: not a folder (a workspace needs a data folder with knowledge/ inside)")
    try:
        info = open_workspaces().create(args.name, data_dir)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    hint = "" if (info.data_dir / "knowledge").is_dir() else \
        f"; it has no knowledge/ folder yet: support-agent import kb PATH --workspace {info.id}"
    print(f"Workspace '{info.id}' reads {info.data_dir}{hint}")


def cmd_workspace_list(args: argparse.Namespace) -> None:
    """List the registered workspaces."""
    rows = [{"id": w.id, "data_dir": str(w.data_dir), "created_at": w.created_at} for w in open_workspaces().list()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        print(f"  {row['id']:<20} {row['data_dir']}")


def cmd_import_kb(args: argparse.Namespace) -> None:
    """Copy an export into the workspace's knowledge, report skipped files, then index it."""
    from cli.importing import format_report, import_kb
    from tools.settings import get_settings

    source = Path(args.path)
    if not source.exists():
        raise CliError(f"{source}: no such file or folder")
    workspaces = open_workspaces()
    if workspaces.exists(args.workspace):
        data_dir = workspaces.info(args.workspace).data_dir
    else:
        try:
            data_dir = get_settings().state_dir / "workspaces" / args.workspace
            data_dir.mkdir(parents=True, exist_ok=True)
            workspaces.create(args.workspace, data_dir)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        print(f"Created workspace '{args.workspace}' in {data_dir}", file=sys.stderr)
    report = import_kb(source, data_dir)  # raises DataError (exit 2) when nothing usable was imported
    for problem in report.skipped:
        print(f"skipped {problem}", file=sys.stderr)
    engine = build_workspace(args.workspace)
    print(format_report(report, show_skipped=False))
    print(f"Index: {len(engine.data.documents)} documents searchable in workspace '{args.workspace}' "
          f"({'rebuilt' if engine.rebuilt['index'] else 'up to date'}). Try: support-agent kb search "
          f"\"your question\" --workspace {args.workspace}")


def cmd_eval_retrieval(args: argparse.Namespace) -> None:
    """Recall@1/5/10 and MRR@10 of the product and of BM25 and dense baselines, in one run."""
    from evals.retrieval import evaluate, format_table, load_queries

    try:
        queries = load_queries(Path(args.queries))
    except (OSError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    engine = build_workspace(args.workspace)
    unknown = sorted({g for q in queries for g in q["gold"]} - set(engine.data.documents))
    if unknown:
        print(f"note: {len(unknown)} gold ids are not documents of workspace '{args.workspace}' "
              f"(e.g. {', '.join(unknown[:3])}); those queries can never hit", file=sys.stderr)
    result: dict[str, Any] = evaluate(engine.kb, queries, engine.embedder)
    print(json.dumps(result, indent=2) if args.json else format_table(result))


def add_commands(sub: Any, command: Any) -> None:
    """Register the subcommands on the ``support-agent`` parser."""
    ws = sub.add_parser("workspace", help="workspaces: one company's data, index and queue each")
    ws_sub = ws.add_subparsers(dest="workspace_command", required=True)
    p = command(ws_sub, "create", cmd_workspace_create, "register a workspace reading a data folder", "name", json_output=False)
    p.add_argument("--data", required=True, metavar="DIR", help="data folder: knowledge/ (+ optional playbook.yaml, "
                                                                "customers.jsonl, tickets.jsonl)")
    command(ws_sub, "list", cmd_workspace_list, "list workspaces")
    imp = sub.add_parser("import", help="import a team's data").add_subparsers(dest="import_command", required=True)
    p = command(imp, "kb", cmd_import_kb, "import a help-centre export (Markdown, HTML, text, JSON/JSONL) and index it",
                "path", json_output=False)
    return None


def add_eval_retrieval(evals: Any, command: Any) -> None:
    """``support-agent eval retrieval --queries FILE``."""
    p = command(evals, "retrieval", cmd_eval_retrieval, "retrieval recall/MRR of the product vs BM25 and dense baselines")
    p.add_argument("--queries", required=True, metavar="FILE", help='JSONL: {"id", "query", "gold": [doc ids]} per line')
