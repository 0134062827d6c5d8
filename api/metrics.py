"""Prometheus metrics in multiprocess mode: counters per event, gauges read from the store at scrape time.

The API runs as several worker processes (``uvicorn --workers 2``), so a scrape reaching one worker
must see every worker's counts: prometheus-client's multiprocess mode keeps each process's values in
files of ``PROMETHEUS_MULTIPROC_DIR`` and sums them at scrape time. When the variable is unset the app
uses ``<state dir>/metrics`` (one directory per deployment). :func:`configure` runs in every worker
before the first metric exists; the first worker of a server start empties the directory (files left
by an earlier start would otherwise be added to the new counts): every live worker holds a shared
``flock`` on ``.live.lock`` for its lifetime, so a worker that can take it exclusively (under a setup
lock, so two starting workers never both wipe) knows no other worker of this deployment is alive.
A worker that crashes and is restarted keeps its siblings' and its own earlier counts.

Labels are low-cardinality only — category, status, decision type, token kind — never a ticket,
thread, customer or workspace id. Event metrics are counted where the event happens (the service);
pending reviews, their age, the queues and knowledge gaps are read from the store when scraped, so
they are right whichever worker (or CLI run) changed them.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tools import schema as t
from tools.settings import Settings

log = logging.getLogger("support_desk.metrics")

#: Where this process joined the deployment's metrics: (directory, the fd holding the shared live lock).
_joined: tuple[Path, int] | None = None

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900)


def metrics_dir(settings: Settings) -> Path:
    """``PROMETHEUS_MULTIPROC_DIR``, else ``<state dir>/metrics``."""
    return Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.state_dir / "metrics")


def configure(settings: Settings) -> Path:
    """Put this process in multiprocess mode on the deployment's directory (idempotent); returns the directory."""
    global _joined
    directory = metrics_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    if _joined is None or _joined[0] != directory:
        with open(directory / ".setup.lock", "a") as setup:
            fcntl.flock(setup, fcntl.LOCK_EX)  # one worker at a time decides whether it is the first
            live = os.open(directory / ".live.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(live, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # a sibling is alive: keep the counts
            else:
                stale = list(directory.glob("*.db"))
                for path in stale:
                    path.unlink(missing_ok=True)
                if stale:
                    log.info("metrics: first worker of this start removed %d stale files from %s", len(stale), directory)
            fcntl.flock(live, fcntl.LOCK_SH)  # held until this process exits
        _joined = (directory, live)
    from prometheus_client import values

    # prometheus-client picks its value class when first imported; if something imported it before
    # the variable was set, switch now — before any metric of ours exists (they are created lazily).
    if values.ValueClass is values.MutexValue:
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    return directory


@dataclass(frozen=True)
class Instruments:
    """The event metrics (created on first use, after :func:`configure`)."""

    tickets: Any
    latency: Any
    decisions: Any
    llm_fallbacks: Any
    llm_tokens: Any


@lru_cache(maxsize=1)
def instruments() -> Instruments:
    """The event metrics of this process (registered nowhere: the multiprocess collector reads their files)."""
    from prometheus_client import Counter, Histogram

    return Instruments(
        tickets=Counter("support_tickets_processed", "Tickets run to their packet, by category and status at that point.",
                        ["category", "status"], registry=None),
        latency=Histogram("support_packet_latency_seconds", "From submit (a queued submit: its arrival) to the packet.",
                          buckets=LATENCY_BUCKETS, registry=None),
        decisions=Counter("support_decisions", "Review decisions applied, by type (expired: the approval deadline passed).",
                          ["type"], registry=None),
        llm_fallbacks=Counter("support_llm_fallbacks", "Drafts that fell back to the offline draft (LLM mode).", registry=None),
        llm_tokens=Counter("support_llm_tokens", "Model tokens used by drafts, by kind (input, output).", ["kind"], registry=None),
    )


def ticket_processed(view: dict[str, Any], seconds: float) -> None:
    """A new ticket reached its packet after ``seconds``."""
    packet = view.get("packet") or {}
    instruments().tickets.labels(category=str(packet.get("category") or "unknown"), status=str(view.get("status"))).inc()
    instruments().latency.observe(max(0.0, seconds))


def decision(kind: str) -> None:
    """A review decision of type ``kind`` was applied."""
    instruments().decisions.labels(type=kind).inc()


def observe_node(name: str, outputs: Any) -> None:
    """A node finished (called by the tracer): count the draft's model tokens and fallbacks."""
    if name != "draft" or not isinstance(outputs, dict):
        return
    draft = outputs.get("draft")
    if not isinstance(draft, dict) or "llm_usage" not in draft:
        return  # offline mode: no model, nothing to count
    usage = draft.get("llm_usage") or {}
    for kind in ("input", "output"):
        tokens = int(usage.get(f"{kind}_tokens") or 0)
        if tokens:
            instruments().llm_tokens.labels(kind=kind).inc(tokens)
    if draft.get("llm_fallback"):
        instruments().llm_fallbacks.inc()


class StoreCollector:
    """Gauges read from the store when scraped: pending reviews and their age, queues; the knowledge-gap count."""

    def __init__(self, store: Any) -> None:
        """Read ``store`` (the desk's)."""
        self.store = store

    def collect(self) -> Iterator[Any]:
        """The store's metrics, and ``support_store_up`` (0 when the database did not answer)."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        up = GaugeMetricFamily("support_store_up", "Whether the store answered this scrape's queries.")
        try:
            families = list(self._families(CounterMetricFamily, GaugeMetricFamily))
        except Exception as exc:  # a scrape during an outage still answers, with up = 0
            log.warning("metrics: the store did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, counter: Any, gauge: Any) -> Iterator[Any]:
        r, a, m = t.runs.c, t.api_tickets.c, t.messages.c
        pending = gauge("support_pending_reviews", "Runs waiting for a review decision, by category.", labels=["category"])
        oldest = gauge("support_pending_review_oldest_seconds", "Age of the oldest pending review (0 when none).")
        rows = self.store.query(select(r.category, func.count().label("n"), func.min(r.updated_at).label("since"))
                                .where(r.status == "awaiting_review").group_by(r.category))
        now, first = datetime.now(UTC), None
        for row in rows:
            pending.add_metric([str(row["category"] or "unknown")], int(row["n"]))
            since = datetime.fromisoformat(str(row["since"]))
            first = since if first is None or since < first else first
        oldest.add_metric([], max(0.0, (now - first).total_seconds()) if first else 0.0)
        queue = gauge("support_queue_depth", "Work waiting to run: accepted submits (queued, running) and customer "
                      "messages not yet processed.", labels=["queue"])
        counts = {str(x["status"]): int(x["n"]) for x in self.store.query(
            select(a.status, func.count().label("n")).where(a.status.in_(("queued", "running"))).group_by(a.status))}
        for status in ("queued", "running"):
            queue.add_metric([f"submits_{status}"], counts.get(status, 0))
        received = self.store.query(select(func.count().label("n")).where(m.status == "received").select_from(t.messages))
        queue.add_metric(["messages"], int(received[0]["n"]))
        gaps = counter("support_knowledge_gaps", "Knowledge gaps logged (questions the knowledge base did not answer).")
        gaps.add_metric([], int(self.store.query(select(func.count().label("n")).select_from(t.knowledge_gaps))[0]["n"]))
        lanes = gauge("support_queue_lane_waiting", "Queue jobs waiting per lane (PostgreSQL queue).", labels=["lane"])
        waits = gauge("support_queue_lane_oldest_wait_seconds", "Oldest waiting job per lane (PostgreSQL queue).", labels=["lane"])
        jobs = gauge("support_queue_jobs", "Queue jobs by status (PostgreSQL queue); failed = dead letters, retried "
                     "no more (GET /v1/queue?status=failed).", labels=["status"])
        depth, statuses = _queue_state(self.store)
        for lane, row in depth.items():
            lanes.add_metric([lane], row["waiting"])
            waits.add_metric([lane], row["oldest_wait_s"])
        for status, n in statuses.items():
            jobs.add_metric([status], n)
        yield from (pending, oldest, queue, gaps, lanes, waits, jobs)


def _queue_state(store: Any) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Waiting jobs and the oldest wait per lane, and jobs per status, of the procrastinate queue (empty without one).

    A job's wait starts when it was deferred (its ``deferred`` event) or, for a retry, when it is due again.
    """
    from sqlalchemy import inspect, text

    if getattr(store, "dialect", "") != "postgres" or "procrastinate_jobs" not in inspect(store.engine).get_table_names():
        return {}, {}
    lanes = text("SELECT coalesce(j.args->>'lane', 'standard') AS lane, count(*) AS n, "
                 "greatest(0, coalesce(extract(epoch FROM now() - min(coalesce(j.scheduled_at, e.at))), 0)) AS age "
                 "FROM procrastinate_jobs j LEFT JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred' "
                 "WHERE j.status = 'todo' GROUP BY 1")
    statuses = text("SELECT status::text AS status, count(*) AS n FROM procrastinate_jobs "
                    "WHERE status IN ('todo', 'doing', 'failed') GROUP BY 1")
    with store.engine.connect() as conn:
        depth = {str(r.lane): {"waiting": float(r.n), "oldest_wait_s": float(r.age)} for r in conn.execute(lanes)}
        counts = {str(r.status): float(r.n) for r in conn.execute(statuses)}
    return depth, {status: counts.get(status, 0.0) for status in ("todo", "doing", "failed")}


def exposition(store: Any) -> bytes:
    """The text exposition of every worker's event metrics plus the store's gauges."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(StoreCollector(store))
    return generate_latest(registry)
