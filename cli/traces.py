"""``support-agent trace THREAD``: the node timeline of a thread's graph runs, read from the store.

Read-only and fast: like ``show`` it reads the store through :class:`cli.runs.ReadStore` and never
imports the graph, the engine or the embedding runtime.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from sqlalchemy import select

from cli.common import CliError
from tools import schema as t
from tools.schema import thread_id_for


def read_trace(store: Any, thread_id: str) -> list[dict[str, Any]]:
    """The thread's trace records, oldest first (inputs and outputs parsed)."""
    c = t.traces.c
    rows = store.query(select(t.traces).where(c.thread_id == thread_id).order_by(c.started_at, c.kind, c.run_id))
    for row in rows:
        for key in ("inputs", "outputs"):
            row[key] = json.loads(row[key]) if row[key] else None
    return list(rows)


def _keys(summary: Any) -> str:
    if not isinstance(summary, dict):
        return ""
    return ", ".join(str(k) for k in summary if not str(k).startswith("__"))


def timeline(records: list[dict[str, Any]], thread_id: str) -> Any:
    """A rich table: each graph run, then its nodes with start time, duration, status and the keys they wrote."""
    from rich.table import Table
    from rich.text import Text

    from cli.render import clean

    table = Table(title=Text(f"Trace of {clean(thread_id)}: {sum(r['kind'] == 'graph' for r in records)} graph run(s)"))
    for column, justify in (("run", "right"), ("node", "left"), ("started (UTC)", "left"), ("ms", "right"),
                            ("status", "left"), ("wrote", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    graph_runs: dict[str, int] = {}
    for record in records:
        if record["kind"] == "graph":
            graph_runs[record["run_id"]] = len(graph_runs) + 1
    for record in records:
        number = graph_runs.get(record["run_id"] if record["kind"] == "graph" else record["parent_id"] or "", 0)
        duration = "" if record["duration_ms"] is None else f"{record['duration_ms']:.1f}"
        name = f"▶ {record['name']}" if record["kind"] == "graph" else f"  {record['name']}"
        status = record["status"] + (f": {record['error']}" if record.get("error") else "")
        table.add_row(str(number), Text(clean(name)), str(record["started_at"])[11:23], duration, Text(clean(status)),
                      Text(clean(_keys(record["outputs"])) if record["kind"] == "node" else ""))
    return table


def cmd_trace(args: argparse.Namespace) -> None:
    """Print the node timeline of a thread (or of a workspace's ticket id)."""
    from cli.runs import ReadStore
    from tools.settings import get_settings

    store = ReadStore(get_settings())
    try:
        thread_id = args.thread
        records = read_trace(store, thread_id)
        if not records and thread_id_for(args.workspace, args.thread) != thread_id:
            thread_id = thread_id_for(args.workspace, args.thread)
            records = read_trace(store, thread_id)
    finally:
        store.close()
    if not records:
        raise CliError(f"no trace for '{args.thread}' (unknown ticket/thread, or it ran before traces were kept)")
    if args.json:
        print(json.dumps({"thread_id": thread_id, "records": records}, indent=2, default=str))
        return
    from cli.render import make_console

    make_console().print(timeline(records, thread_id))
