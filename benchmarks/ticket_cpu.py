"""Where a ticket's worker CPU goes: the model passes, the rest of triage, retrieval, the database, LangGraph.

Runs ``--tickets`` sample tickets (new ids) through the service a queue worker runs (``SupportDesk.submit``) in
this process, on a fresh PostgreSQL schema (or SQLite with ``--sqlite``), after a warm-up that is not counted.
Each part is timed with the CPU time of the thread it runs on (``time.thread_time``), exclusive of the parts
nested in it (a request detection that embeds counts its embedding under the model); the total is the process's
CPU over the timed tickets, all threads included. Each graph node's own Python (drafting, risk, packet …) is a row,
LangGraph's machinery is what ``graph.invoke`` costs on the calling thread beyond the nodes and the checkpoint, the
service is ``submit`` around the run; what no part claims is LangGraph's work on its pool threads (the parallel
nodes run there) and garbage collection.

    python benchmarks/ticket_cpu.py --tickets 120
    python benchmarks/ticket_cpu.py --tickets 120 --embed-threads 2    # the default embedder of a process

The compute floor of ``benchmarks/scale.py`` is the model row plus classify and retrieval, batched; this is the
same work one ticket at a time with everything a real run does around it. Loopback only.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.load import index_dir, postgres_schema  # noqa: E402

#: (label, module, attribute path) of what is timed; the label is the row of the table.
#: The model's own rows are named after the part that called it ("model, for " + that part).
MODEL = "model, for "
PARTS = [
    (MODEL, "tools.embeddings", "MiniLMEmbeddings._embed_batch"),
    ("tokenizer", "tools.embeddings", "MiniLMEmbeddings.token_ids"),
    ("triage: the ticket's vector", "tools.engine", "Engine.embed"),
    ("triage: classifier", "tools.classifier", "TextClassifier.predict_proba"),
    ("triage: request detection", "tools.requests", "RequestDetector.detect_many"),
    ("triage: sentiment", "graph.nodes.triage", "_sentiment"),
    ("triage: language", "graph.nodes.triage", "detect_language"),
    ("triage: injection check", "graph.nodes.triage", "injection_attempt"),
    ("retrieval (BM25 + dense + ranking)", "tools.knowledge", "KnowledgeBase.retrieve"),
    ("LangGraph: machinery (tasks, channels, callbacks, pool)", "langgraph.pregel.main", "Pregel.invoke"),
    ("service: submit around the run", "api.service", "SupportDesk.submit"),
    ("traces: node input/output summaries", "api.tracing", "summarise"),
    ("ticket intake: PII scrub", "api.service", "SupportDesk.scrub"),
    ("checkpoint: write", "langgraph.checkpoint.postgres", "PostgresSaver.put"),
    ("checkpoint: write", "langgraph.checkpoint.postgres", "PostgresSaver.put_writes"),
    ("checkpoint: read", "langgraph.checkpoint.postgres", "PostgresSaver.get_tuple"),
    ("checkpoint: write", "langgraph.checkpoint.sqlite", "SqliteSaver.put"),
    ("checkpoint: write", "langgraph.checkpoint.sqlite", "SqliteSaver.put_writes"),
    ("checkpoint: read", "langgraph.checkpoint.sqlite", "SqliteSaver.get_tuple"),
]
#: Nodes, by their name in ``graph.builder`` (patched before the service compiles its graph): a node's own Python,
#: without the parts above that it calls.
NODES = ["triage", "gather_context", "retrieve", "draft", "assess_risk", "review", "apply_actions"]
SQL = "SQL: run row, helpdesk, ledger, traces …"


class Clock:
    """Exclusive thread-CPU seconds per label; each thread keeps its own stack of open parts."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.on = False
        self._local = threading.local()

    def _stack(self) -> list[list[Any]]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        stack: list[list[Any]] = self._local.stack
        return stack

    def enter(self, label: str) -> None:
        """A part starts on this thread: the part it interrupts stops counting."""
        stack, now = self._stack(), time.thread_time()
        if stack:
            top = stack[-1]
            self.seconds[top[0]] += (now - top[1]) if self.on else 0.0
        stack.append([label, now])

    def leave(self, label: str | None = None) -> None:
        """The innermost part ends (only if it is ``label``, when given): the part around it counts again."""
        stack, now = self._stack(), time.thread_time()
        if not stack or (label is not None and stack[-1][0] != label):
            return
        label, since = stack.pop()
        if self.on:
            self.seconds[label] += now - since
        if stack:
            stack[-1][1] = now

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` timed under ``label`` (its signature and annotations kept: LangGraph reads a node's).

        ``MODEL`` is completed with the label of the part that called it (the ticket's pass, the request pieces' …).
        """

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            stack = self._stack()
            name = label if label != MODEL else MODEL + (stack[-1][0].removesuffix(" (own Python)") if stack else "other")
            self.enter(name)
            try:
                return fn(*args, **kwargs)
            finally:
                self.leave(name)

        return timed


def instrument(clock: Clock) -> None:
    """Time every part in ``PARTS`` (where its module is importable) and the graph's nodes (before it is compiled)."""
    import importlib

    from graph import builder

    for name in NODES:
        setattr(builder, name, clock.wrap(f"node {name} (own Python)", getattr(builder, name)))
    for label, module_name, path in PARTS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        owner_name, _, attribute = path.rpartition(".")
        owner = getattr(module, owner_name) if owner_name else module
        setattr(owner, attribute, clock.wrap(label, getattr(owner, attribute)))


def instrument_sql(clock: Clock, engine: Any) -> None:
    """Time each SQL statement of the product's engine (compile, execute, fetch)."""
    from sqlalchemy import event

    event.listen(engine, "before_execute", lambda *a, **k: clock.enter(SQL))
    event.listen(engine, "after_execute", lambda *a, **k: clock.leave(SQL))
    # A statement that raises never reaches after_execute: close its part so the stack stays balanced.
    event.listen(engine, "handle_error", lambda *a, **k: clock.leave(SQL))


def main() -> None:
    """Parse arguments, run the tickets, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=120, help="timed tickets (bounded)")
    parser.add_argument("--warmup", type=int, default=12, help="tickets run first and not counted")
    parser.add_argument("--embed-threads", type=int, default=1, help="threads of the embedder (a worker per core: 1)")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--database-url", default=os.environ.get("SUPPORT_TEST_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--chart", type=Path, help="also draw the parts as a bar chart (PNG)")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="ticket-cpu-"))
    (state / "index").symlink_to(index_dir(), target_is_directory=True)
    schema = None
    if args.sqlite:
        url = f"sqlite:///{state / 'desk.db'}"
    else:
        made = postgres_schema(args.database_url)
        if made is None:
            sys.exit(1)
        url, schema = made
    os.environ.update({"SUPPORT_STATE_DIR": str(state), "SUPPORT_DATABASE_URL": url, "ORT_DISABLE_TELEMETRY": "1",
                       "SUPPORT_EMBED_THREADS": str(args.embed_threads)})
    from api.service import SupportDesk
    from tools.settings import Settings

    samples = [json.loads(line) for line in (REPO / "data" / "sample_tickets.jsonl").read_text().splitlines() if line.strip()]
    clock = Clock()
    instrument(clock)
    desk = SupportDesk(Settings())
    try:
        instrument_sql(clock, desk.store.engine)
        run = uuid.uuid4().hex[:6]
        for i in range(args.warmup):
            desk.submit({**samples[i % len(samples)], "id": f"warm-{run}-{i}"})
        print(f"{args.tickets} tickets through SupportDesk.submit on {'SQLite' if args.sqlite else 'PostgreSQL'}, "
              f"embedder at {args.embed_threads} thread(s) …", flush=True)
        clock.on = True
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i in range(args.tickets):
            desk.submit({**samples[i % len(samples)], "id": f"cpu-{run}-{i:04d}"})
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        clock.on = False
    finally:
        desk.close()
        if schema is not None:
            import psycopg

            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    report(clock.seconds, cpu, wall, args)


def report(seconds: dict[str, float], cpu: float, wall: float, args: argparse.Namespace) -> None:
    """Print ms a ticket per part, the unclaimed rest and the total."""
    n = args.tickets
    rows = sorted(((label, 1000 * s / n) for label, s in seconds.items()), key=lambda r: -r[1])
    claimed = sum(ms for _, ms in rows)
    total = 1000 * cpu / n
    rows.append(("unclaimed: LangGraph's pool threads, GC", total - claimed))
    print(f"\n{'part':<62} | {'CPU ms/ticket':>13} | {'share':>5}")
    for label, ms in rows:
        print(f"{label:<62} | {ms:>13.2f} | {100 * ms / total:>4.0f}%")
    model = sum(ms for label, ms in rows if label.startswith(MODEL))
    print(f"{'total (process CPU, all threads)':<62} | {total:>13.2f} | 100%")
    print(f"\nwall {1000 * wall / n:.1f} ms a ticket; model passes {model:.1f} ms = {100 * model / total:.0f}% of the CPU; "
          f"everything else {total - model:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps({"tickets": n, "embed_threads": args.embed_threads, "sqlite": args.sqlite,
                                         "total_ms": total, "wall_ms": 1000 * wall / n,
                                         "parts_ms": dict(rows)}, indent=2))
    if args.chart:
        chart(rows, total, args)
        print(f"chart: {args.chart}")


def chart(rows: list[tuple[str, float]], total: float, args: argparse.Namespace) -> None:
    """Horizontal bars, biggest first, coloured by kind: the model, the rest of the ticket's own work, the machinery."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def colour(label: str) -> str:
        if label.startswith("model"):
            return "#c44e52"
        if label.startswith(("triage", "retrieval", "node", "ticket intake", "tokenizer")):
            return "#4c72b0"
        return "#8c8c8c"

    shown = [r for r in rows if r[1] >= 0.05][::-1]
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(shown) + 1.2))
    bars = ax.barh([label for label, _ in shown], [ms for _, ms in shown], color=[colour(label) for label, _ in shown])
    ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    ax.set(xlabel="CPU ms per ticket",
           title=f"A ticket's worker CPU: {total:.0f} ms ({'SQLite' if args.sqlite else 'PostgreSQL'}, "
                 f"{args.embed_threads} embedding thread{'s' if args.embed_threads > 1 else ''})")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(args.chart, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
