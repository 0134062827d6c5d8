"""``support-agent``: process tickets, review pending approvals, inspect runs and the knowledge base.

Bad input (missing fields, invalid JSON, unknown thread) prints one clear line on stderr
and exits with code 2; nothing already recorded is lost.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from cli.common import EXIT_USAGE, CliError, build_workspace, engine_of


def _desk(*preload: str) -> Any:
    """The desk; ``preload`` lists the workspaces whose engines are loaded up front (none for reads)."""
    from api.service import SupportDesk

    return SupportDesk(preload=preload)


def _read_json(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{source}:{exc.lineno}: invalid JSON: {exc.msg}") from exc


def _ticket_error(exc: Exception, where: str) -> CliError:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'ticket'}: {e['msg']}" for e in exc.errors())
        return CliError(f"{where}: invalid ticket: {reasons}")
    return CliError(f"{where}: {exc}")


def _print_view(view: dict[str, Any], as_json: bool) -> None:
    from graph.packet import packet_markdown

    if as_json:
        print(json.dumps(view, indent=2, default=str))
        return
    if view.get("packet"):  # the packet's escapes (customer text is data, not markup) are for renderers, not terminals
        print(re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>~])", r"\1", packet_markdown(view["packet"])))
    print(f"\nStatus: {view['status']}")
    for item in view.get("interrupts", []):
        print(f"Pending approval {item['id']} — resume with:\n  support-agent review {view['thread_id']} --accept"
              f"   (or --edit FILE | --respond TEXT | --reject)")
    for row in view.get("ledger", []):
        print(f"Ledger: {row['action_id']} {row['action']} applied {row['applied_at']}")


def cmd_process(args: argparse.Namespace) -> None:
    """Process one JSON ticket."""
    from api.service import DeskError

    ticket = _read_json(args.file)
    desk = _desk()
    try:
        view = desk.submit(ticket, workspace=args.workspace)
    except DeskError as exc:
        raise CliError(str(exc)) from exc
    except ValueError as exc:
        raise _ticket_error(exc, args.file) from exc
    _print_view(view, args.json)


def cmd_batch(args: argparse.Namespace) -> None:
    """Process a JSONL file of tickets with a progress bar."""
    from pydantic import ValidationError
    from rich.progress import Progress

    path = Path(args.file)
    if not path.exists():
        raise CliError(f"{path}: file not found")
    lines = [(n, line) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    from api.service import DeskError

    desk, results, errors = _desk(), [], []
    with Progress(transient=True, disable=args.json) as progress:
        task = progress.add_task("processing tickets", total=len(lines))
        for number, line in lines:
            try:
                results.append(desk.submit(json.loads(line), workspace=args.workspace))
            except DeskError as exc:
                raise CliError(str(exc)) from exc
            except (json.JSONDecodeError, ValidationError, ValueError) as exc:
                errors.append(f"{path}:{number}: {_ticket_error(exc, 'line') if isinstance(exc, ValidationError) else exc}")
            progress.advance(task)
    if args.json:
        print(json.dumps({"results": results, "errors": errors}, indent=2, default=str))
    else:
        for view in results:
            _print_view(view, False)
            print("\n" + "─" * 80 + "\n")
        waiting = sum(1 for v in results if v["status"] == "awaiting_review")
        print(f"Processed {len(results)} tickets: {waiting} awaiting review, {len(results) - waiting} completed.")
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        raise SystemExit(EXIT_USAGE)


def cmd_reviews(args: argparse.Namespace) -> None:
    """List pending approvals, tightest SLA first."""
    desk = _desk()
    rows = desk.pending(args.workspace)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        print("No pending approvals.")
        return
    print(f"{len(rows)} pending approval(s):")
    for row in rows:
        print(f"  {row['thread_id']:<14} {row['priority']:<7} SLA {row['sla_hours']:>4g} h  {row['category']:<16} "
              f"{', '.join(row['risk_flags'][:4])}")
    ready = next((r for r in rows[:10] if _acceptable(desk, str(r["thread_id"]))), None)
    if ready is not None:
        print(f"\nResume one with: support-agent review {ready['thread_id']} --accept   "
              "(or --edit FILE | --respond TEXT | --reject)")
    else:
        print(f"\nThe first reviews propose incomplete actions: see `support-agent show {rows[0]['thread_id']}`, "
              "then --edit FILE to supply what is missing (or drop the action)")


def _acceptable(desk: Any, thread_id: str) -> bool:
    """Whether a plain accept would go through (no gated action is incomplete)."""
    view = desk.view(thread_id)
    return all(not a.get("missing") for i in view["interrupts"] for a in i["action_request"]["args"]["actions"])


def cmd_review(args: argparse.Namespace) -> None:
    """Decide a pending approval."""
    from api.service import DeskError, NotPending

    if args.accept:
        value: dict[str, Any] = {"type": "accept"}
    elif args.reject:
        value = {"type": "ignore"}
    elif args.respond:
        value = {"type": "response", "args": args.respond}
    else:
        edited = _read_json(args.edit)
        value = {"type": "edit", "args": edited if isinstance(edited, dict) else {"reply": str(edited)}}
    value["reviewer"] = args.reviewer
    desk = _desk()
    try:
        view = desk.decide(desk.thread_of(args.thread, args.workspace), value)
    except NotPending as exc:
        who = exc.decided
        detail = f" (decided '{who['decision']}' by {who['reviewer']} at {who['decided_at']})" if who else ""
        raise CliError(f"{exc}{detail}; nothing changed") from exc
    except DeskError as exc:
        raise CliError(str(exc)) from exc
    _print_view(view, args.json)


def cmd_show(args: argparse.Namespace) -> None:
    """Show a run's packet, status, decisions and ledger."""
    from api.service import NotFound

    try:
        desk = _desk()
        view = desk.view(desk.thread_of(args.thread, args.workspace))
    except NotFound as exc:
        raise CliError(str(exc)) from exc
    _print_view(view, args.json)


def cmd_index(args: argparse.Namespace) -> None:
    """Rebuild the knowledge index and the classifier when the data changed."""
    engine = build_workspace(args.workspace)
    data = engine.data
    print(f"Workspace {args.workspace}: {data.root} — {len(data.documents)} documents, {len(data.customers)} customers, "
          f"{len(data.tickets)} labeled tickets")
    for part, rebuilt in engine.rebuilt.items():
        print(f"  {part}: {'rebuilt' if rebuilt else 'up to date (content hash unchanged)'}")
    for note in engine.corpus.notes:
        print(f"  note: {note}")
    for problem in data.problems:
        print(f"skipped {problem}", file=sys.stderr)



def cmd_kb_search(args: argparse.Namespace) -> None:
    """Ranked sources for a query, with scores and authority."""
    engine = engine_of(args.workspace)
    hits, conflicts = engine.kb.search(args.query, engine.embed(args.query), k=args.k)
    if args.json:
        print(json.dumps({"hits": [h.as_source() for h in hits], "conflicts": conflicts}, indent=2))
        return
    for rank, h in enumerate(hits, 1):
        updated = h.doc.updated_at if h.doc.date_source == "document" else "unknown"
        section = f" › {h.section}" if h.section else ""
        print(f"{rank}. {h.doc.id:<42} score {h.score:.3f} (relevance {h.relevance:.3f}, {h.doc.authority}) "
              f"{h.doc.audience}, updated {updated}")
        print(f"   {h.doc.title}{section}")
        print(f"   {h.passage[:160]}")
    for c in conflicts:
        print(f"⚠ conflict: {c['reason']}")


def cmd_retention(args: argparse.Namespace) -> None:
    """Archive finished runs older than N days and drop their checkpoints (packets, decisions, ledger kept)."""
    from api.retention import prune

    if args.older_than < 0:
        raise CliError("--older-than must be 0 or more days")
    report = prune(_desk(), args.older_than)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"Archived {report['pruned']} finished runs (last updated before {report['cutoff']}): checkpoints "
          f"{report['bytes_before']:,} bytes → archive {report['bytes_after']:,} bytes "
          f"({report['bytes_per_ticket_before']:,} → {report['bytes_per_ticket_after']:,} bytes per ticket).")


def cmd_report(args: argparse.Namespace) -> None:
    """What the agent learned: edit/override rates per category and knowledge gaps."""
    report = _desk().learning_report(args.workspace)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return
    print("Reviewer decisions per category (edit rate = share not accepted as drafted):")
    for category, counts in report["decisions_by_category"].items():
        print(f"  {category:<16} {counts['total']:>4} decided  accept {counts.get('accept', 0):>3}  edit {counts.get('edit', 0):>3}  "
              f"respond {counts.get('response', 0):>3}  reject {counts.get('ignore', 0):>3}  edit rate {counts['edit_rate_pct']}%")
    print("Knowledge gaps (tickets without a confident source):")
    for gap in report["knowledge_gaps"] or [{"category": "none", "n": 0, "worst": 0, "examples": ""}]:
        print(f"  {gap['category']:<16} {gap['n']:>4}  e.g. {str(gap['examples'] or '')[:100]}")


def cmd_keys_create(args: argparse.Namespace) -> None:
    """Create an API key (printed once; only its hash is stored)."""
    from api.auth import create_key

    try:
        key = create_key(args.role, args.key_workspace or args.workspace, args.name)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    print(key)
    print(f"Created a {args.role} key for workspace '{args.key_workspace or args.workspace}'. It is shown only once.",
          file=sys.stderr)


def cmd_eval_triage(args: argparse.Namespace) -> None:
    """Train the offline classifier on any labeled export and report accuracy, macro-F1 and speed."""
    from evals.triage_bench import run_triage_benchmark

    try:
        result = run_triage_benchmark(args.train, args.test, progress=lambda m: print(f"... {m}", file=sys.stderr, flush=True))
    except (OSError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"train {result['train_size']} · test {result['test_size']} · {result['classes']} classes")
    print(f"accuracy {result['accuracy']:.4f} · macro-F1 {result['macro_f1']:.4f} · "
          f"{result['ms_per_ticket']:.2f} ms/ticket (embedding + classify) · trained in {result['train_seconds']:.1f} s")


def _command(sub: Any, name: str, func: Any, help_text: str, *positionals: str, json_output: bool = True) -> argparse.ArgumentParser:
    """Add a subcommand with its positional arguments, ``--workspace`` and, for most, ``--json``."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
    # SUPPRESS: without the flag here, the value given before the subcommand (or its default) stays.
    p.add_argument("--workspace", default=argparse.SUPPRESS, metavar="W",
                   help="workspace (company) to use; default: $SUPPORT_WORKSPACE or 'default' (SUPPORT_DATA_DIR)")
    for positional in positionals:
        p.add_argument(positional)
    if json_output:
        p.add_argument("--json", action="store_true")
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``support-agent``."""
    from cli.workspace_commands import add_commands, add_eval_retrieval

    parser = argparse.ArgumentParser(prog="support-agent", description="Supervised customer-support agent (offline).")
    parser.add_argument("--workspace", default=os.environ.get("SUPPORT_WORKSPACE", "default"), metavar="W",
                        help="workspace (company) to use; default: $SUPPORT_WORKSPACE or 'default' (SUPPORT_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)
    _command(sub, "process", cmd_process, "process one JSON ticket (FILE or - for stdin)", "file")
    _command(sub, "batch", cmd_batch, "process a JSONL file of tickets", "file")
    _command(sub, "reviews", cmd_reviews, "list pending approvals")
    p = _command(sub, "review", cmd_review, "decide a pending approval", "thread")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--accept", action="store_true")
    group.add_argument("--edit", metavar="FILE", help='JSON file: {"reply": "...", "actions": ["a4-send_reply"]} or a string')
    group.add_argument("--respond", metavar="TEXT", help="comment for a redraft")
    group.add_argument("--reject", action="store_true")
    p.add_argument("--reviewer", default=os.environ.get("USER", "reviewer"))
    _command(sub, "show", cmd_show, "show a run: packet, status, decisions, ledger", "thread")
    _command(sub, "report", cmd_report, "learning report: edit rates, overrides, knowledge gaps")
    p = _command(sub, "retention", cmd_retention, "drop checkpoints of finished runs (packets, decisions, audit, ledger kept)")
    p.add_argument("--older-than", type=float, required=True, metavar="DAYS", help="runs finished more than DAYS ago")
    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    p = _command(keys, "create", cmd_keys_create, "create an API key", json_output=False)
    p.add_argument("--role", required=True, choices=["submitter", "reviewer", "admin"])
    p.add_argument("--tenant", dest="key_workspace", metavar="W", help="old name of --workspace")
    p.add_argument("--name", default="")
    from cli.keys import add_key_commands

    add_key_commands(keys, _command)
    from cli.db_commands import add_db_commands

    add_db_commands(sub, _command)
    evals = sub.add_parser("eval", help="evaluations").add_subparsers(dest="eval_command", required=True)
    p = _command(evals, "triage", cmd_eval_triage, "train and test the triage classifier on CSV exports (text,label)")
    p.add_argument("--train", type=Path, required=True)
    p.add_argument("--test", type=Path, required=True)
    add_eval_retrieval(evals, _command)
    from cli.eval_requests import add_eval_requests

    add_eval_requests(evals, _command)
    add_commands(sub, _command)
    _command(sub, "index", cmd_index, "rebuild the index and the classifier", json_output=False)
    kb = sub.add_parser("kb", help="knowledge base tools").add_subparsers(dest="kb_command", required=True)
    p = _command(kb, "search", cmd_kb_search, "ranked sources for a query", "query")
    p.add_argument("-k", type=int, default=5)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    from tools.data import DataError
    from tools.workspaces import UnknownWorkspace

    try:
        args.func(args)
    except (CliError, DataError, UnknownWorkspace) as exc:
        print(f"support-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
