"""Traces of graph runs: a local one always (in the store, with the thread), LangSmith only when asked.

:class:`NodeTracer` is a LangChain callback handler the service attaches to every invocation of the
graph (submit, resume, follow-up round, recovery). It records the graph run and each of its node
runs — run id, parent id, name, start, end, duration, status — with small summaries of the inputs
and outputs: keys, numbers and strings of at most :data:`SHORT` characters, PII-redacted with
:func:`tools.pii.redact_for_logs` (cards, IBANs, CVVs, emails, phones). Longer text, lists and
embeddings are reduced to their size. The rows go to the ``traces`` table when the invocation ends,
whether it stopped at a review, finished or failed; ``support-agent trace THREAD`` prints them.

LangSmith: with ``LANGSMITH_API_KEY`` set, :func:`langsmith_callbacks` adds LangChain's tracer for the
project ``SUPPORT_LANGSMITH_PROJECT``; without it no LangSmith client is created, so nothing is sent.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from tools import schema as t
from tools.store import Store, insert_for

log = logging.getLogger("support_desk.tracing")

#: Strings longer than this are summarised by their length only.
SHORT = 120
#: Keys kept per mapping in a summary.
MAX_KEYS = 40

NodeObserver = Callable[[str, Any], None]


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _text(value: str) -> str:
    if len(value) > SHORT:
        return f"<text, {len(value)} chars>"
    from tools.pii import redact_for_logs

    return redact_for_logs(value).text


@lru_cache(maxsize=4096)
def _key(name: str) -> str:
    """A mapping key as :func:`_text` shows it; cached: a run's state has the same few dozen keys at every node."""
    return _text(name)


def summarise(value: Any, depth: int = 1) -> Any:
    """A small, PII-redacted picture of ``value``: mappings to ``depth`` levels (then their keys), short strings, numbers.

    One level by default: a node's output shows which state keys it wrote and their scalar values
    (status, counts), and only the keys of nested records (a customer's record holds names).
    """
    if isinstance(value, dict):
        keys = [str(k) for k in value][:MAX_KEYS]
        if depth <= 0:
            return {"keys": [_key(k) for k in keys]}
        return {_key(str(k)): summarise(v, depth - 1) for k, v in list(value.items())[:MAX_KEYS]}
    if isinstance(value, list | tuple):
        return f"<list of {len(value)}>"
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return f"<{type(value).__name__}>"


class NodeTracer(BaseCallbackHandler):
    """Records one graph invocation: the graph run and its node runs (not the routing functions inside them)."""

    raise_error = False  # a tracing bug must never fail a run

    def __init__(self, nodes: Iterable[str], label: str, observe: NodeObserver | None = None) -> None:
        """Trace runs of ``nodes``; the graph run is named ``label`` (submit, resume …); ``observe`` sees each node's raw output."""
        self.nodes, self.label, self.observe = frozenset(nodes), label, observe
        self.root: UUID | None = None
        self._runs: dict[UUID, dict[str, Any]] = {}
        self._lock = threading.Lock()  # parallel nodes (gather_context ∥ retrieve) report from pool threads

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        """A run starts: keep it if it is the graph run or one of its nodes."""
        name = str(kwargs.get("name") or (serialized or {}).get("name") or "")
        with self._lock:
            if self.root is None:
                self.root, kind, name = run_id, "graph", self.label
            elif parent_run_id == self.root and name in self.nodes:
                kind = "node"
            else:
                return
            self._runs[run_id] = {
                "run_id": str(run_id), "parent_id": str(parent_run_id) if kind == "node" else None, "name": name,
                "kind": kind, "status": "running", "started_at": _stamp(), "ended_at": None, "duration_ms": None,
                "inputs": summarise(inputs), "outputs": None, "error": None, "_t0": time.perf_counter(),
            }

    def _end(self, run_id: UUID, status: str, outputs: Any = None, error: str | None = None) -> dict[str, Any] | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return None
            run.update(status=status, ended_at=_stamp(), duration_ms=round(1000 * (time.perf_counter() - run["_t0"]), 2),
                       outputs=None if outputs is None else summarise(outputs), error=error)
            return run

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A run finished."""
        run = self._end(run_id, "ok", outputs)
        if run is not None and run["kind"] == "node" and self.observe is not None:
            self.observe(run["name"], outputs)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A run raised: an ``interrupt()`` (waiting for review) or an error (its type and a redacted message)."""
        from langgraph.errors import GraphBubbleUp

        if isinstance(error, GraphBubbleUp):
            self._end(run_id, "interrupted")
        else:
            self._end(run_id, "error", error=_text(f"{type(error).__name__}: {error}"[:SHORT]))

    def rows(self, thread_id: str) -> list[dict[str, Any]]:
        """The recorded runs as ``traces`` rows (a run still open when the invocation ended is ``unfinished``)."""
        with self._lock:
            runs = [dict(r) for r in self._runs.values()]
        rows = []
        for run in runs:
            run.pop("_t0")
            if run["status"] == "running":
                run["status"] = "unfinished"
            rows.append({**run, "thread_id": thread_id, "inputs": json.dumps(run["inputs"], ensure_ascii=False),
                         "outputs": None if run["outputs"] is None else json.dumps(run["outputs"], ensure_ascii=False)})
        return rows


def save(store: Store, thread_id: str, tracer: NodeTracer) -> None:
    """Write the invocation's trace with its thread (a failure is logged: the run itself already happened)."""
    rows = tracer.rows(thread_id)
    if not rows:
        return
    try:
        with store.transaction() as tx:  # one statement, executemany: a row per node run
            tx.execute(insert_for(tx, t.traces).on_conflict_do_nothing(), rows)
    except Exception as exc:  # e.g. the database went away after the run committed: the trace is lost, not the run
        log.warning("trace of %s not stored (%s)", thread_id, type(exc).__name__)


def langsmith_callbacks(project: str) -> list[Any]:
    """LangChain's LangSmith tracer for ``project`` when ``LANGSMITH_API_KEY`` is set; else nothing (no client, no network)."""
    if not os.environ.get("LANGSMITH_API_KEY"):
        return []
    from langchain_core.tracers import LangChainTracer
    from langsmith import Client

    return [LangChainTracer(project_name=project, client=Client())]
