"""``support-agent eval requests``: policy questions vs action requests on a labelled CSV, and P/R on the eval set.

Register it with :func:`add_eval_requests` on the ``eval`` subparser (``cli/main.py`` does).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cli.common import CliError

GOALS = {"policy_action_rate": 0.01, "request_none_rate": 0.03}


def _rate(value: float) -> str:
    return f"{100 * value:.2f} %"


def format_bitext(name: str, m: dict[str, Any]) -> list[str]:
    """Lines of one detector's Bitext numbers (untrained or trained)."""
    lines = [
        f"{name}: {m['tickets']} test tickets, {m['ms_per_ticket']:.2f} ms/ticket",
        f"  policy questions with a money/account/data action  {_rate(m['policy_action_rate']):>8}  "
        f"({m['policy_action_tickets']}/{m['policy_questions']}; goal < {_rate(GOALS['policy_action_rate'])})",
        f"  action requests that get no action                 {_rate(m['request_none_rate']):>8}  "
        f"({m['request_none_tickets']}/{m['action_requests']}; goal < {_rate(GOALS['request_none_rate'])})",
        f"  action requests that get another action            {_rate(m['wrong_action_rate']):>8}",
        f"  other tickets that get an action                   {_rate(m['false_action_rate']):>8}",
        f"  micro precision {m['micro']['precision']:.3f} · recall {m['micro']['recall']:.3f}",
    ]
    return lines + _per_type(m["per_type"])


def _per_type(table: dict[str, dict[str, float]]) -> list[str]:
    rows = [f"    {'request type':<28} {'precision':>9} {'recall':>7} {'n':>5}"]
    rows += [f"    {name:<28} {v['precision']:>9.3f} {v['recall']:>7.3f} {int(v['support']):>5}"
             for name, v in table.items() if v["support"] or v["precision"] < 1]
    return rows


def format_eval_set(m: dict[str, Any]) -> list[str]:
    """Lines of the eval-set request-detection P/R."""
    return [f"eval set: {m['tickets']} labelled tickets ({Path(m['labels']).name}), {m['ms_per_ticket']:.2f} ms/ticket "
            f"(embedding the ticket itself: {m['ticket_embedding_ms']:.2f} ms)",
            f"  request types: micro precision {m['micro']['precision']:.3f} · recall {m['micro']['recall']:.3f} · "
            f"exact match {m['exact_match']:.3f}",
            f"  proposed actions: precision {m['actions']['precision']:.3f} · recall {m['actions']['recall']:.3f}",
            *_per_type(m["per_type"])]


def cmd_eval_requests(args: argparse.Namespace) -> None:
    """Detect requests on ``--test`` (and with a classifier fitted on ``--train``), then on the labelled eval set."""
    from evals.requests import EVAL_LABELS, run_bitext, run_eval_set

    def say(message: str) -> None:
        print(f"... {message}", file=sys.stderr, flush=True)

    try:
        result: dict[str, Any] = {"bitext": run_bitext(args.test, args.train, progress=say)}
        if not args.skip_eval_set:
            result["eval_set"] = run_eval_set(args.labels or EVAL_LABELS, progress=say)
    except (OSError, ValueError, KeyError) as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(result, indent=2))
        return
    lines = format_bitext("without training (examples + patterns)", result["bitext"]["untrained"])
    if "trained" in result["bitext"]:
        train = result["bitext"]["train"]
        lines += ["", *format_bitext(f"with a classifier trained on {train['texts']} texts ({train['seconds']} s)",
                                     result["bitext"]["trained"])]
    if "eval_set" in result:
        lines += ["", *format_eval_set(result["eval_set"])]
    print("\n".join(lines))


def add_eval_requests(evals: Any, command: Any) -> None:
    """``support-agent eval requests --test F [--train F] [--json]`` on the ``eval`` subparser."""
    p = command(evals, "requests", cmd_eval_requests,
                "request detection: policy questions vs action requests (CSV text,label; Bitext mapping) and eval-set P/R")
    p.add_argument("--test", type=Path, required=True, help="labelled CSV (text,label) whose intents are in evals/bitext_requests.yaml")
    p.add_argument("--train", type=Path, help="labelled CSV to fit a request classifier on (also reports the untrained numbers)")
    p.add_argument("--labels", type=Path, help="request labels of the eval set (default evals/datasets/sample_requests.jsonl)")
    p.add_argument("--skip-eval-set", action="store_true", help="only the CSV numbers")
