"""The durable ticket queue on PostgreSQL (procrastinate), and the worker that drains it.

With ``SUPPORT_QUEUE=procrastinate`` (PostgreSQL only), ``POST /v1/tickets?wait=false`` registers the
ticket (as before: the registry row is the idempotency claim) and defers a ``run_ticket`` job instead of
running it inside the web worker. ``support-agent worker [--concurrency N] [--once]`` runs workers on any
host that reaches the database. A ticket id is enqueued at most once at a time (``queueing_lock`` = its
thread); a job that raises is retried (``SUPPORT_QUEUE_ATTEMPTS``) and then stays ``failed`` — the
dead-letter state, listed by ``GET /v1/queue``; a worker killed mid-job leaves a stalled job that the next
worker start retries (its heartbeat is older than ``SUPPORT_STALLED_AFTER_S``). The run itself resumes from
the thread's checkpoint, and approved actions stay exactly-once through the ledger. SQLite deployments keep
the in-process path.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from functools import cache
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

from tools.faults import crash_point
from tools.settings import Settings, get_settings

log = logging.getLogger("support_desk.queue")
QUEUE = "tickets"


def enabled(settings: Settings) -> bool:
    """Whether submits go through the queue (PostgreSQL and ``SUPPORT_QUEUE=procrastinate``)."""
    return settings.queue == "procrastinate" and settings.uses_postgres


def conninfo(url: str) -> str:
    """A libpq URL from the store's (SQLAlchemy's driver suffix dropped; ``options=-csearch_path…`` kept)."""
    return url.replace("postgresql+psycopg://", "postgresql://").replace("postgres://", "postgresql://", 1)


def timers_cron(every_s: float) -> str:
    """The cron of the periodic timers job for ``SUPPORT_TIMERS_EVERY_S`` (seconds below a minute, else minutes)."""
    if every_s < 60:
        return f"* * * * * */{max(1, int(every_s))}"  # croniter's sixth field: seconds
    return f"*/{max(1, min(59, round(every_s / 60)))} * * * *"


@cache
def app_for(url: str, attempts: int, timers_every_s: float = 0) -> procrastinate.App:
    """The procrastinate app on the deployment's database (workers and schema; not opened here)."""
    return _new_app(url, attempts, timers_every_s)


_DEFER_LOCK = threading.Lock()
_DEFER_APPS: dict[tuple[str, int], procrastinate.App] = {}


def _deferring_app(settings: Settings) -> procrastinate.App:
    """An app opened once per process for deferring, its pool shared by every request thread.

    Not opened and closed per call: the sync connector (and its pool) is shared by the app's users, so one
    request's ``close()`` closed the pool under another request's defer, which then waited for a connection
    until psycopg_pool's 30 s timeout (a 503 under concurrent ``wait=false`` submits; ``benchmarks/scale.py``).
    """
    key = (settings.database_url, settings.queue_attempts)
    with _DEFER_LOCK:
        app = _DEFER_APPS.get(key)
        if app is None:
            app = _DEFER_APPS[key] = _new_app(*key).open()
        return app


def _new_app(url: str, attempts: int, timers_every_s: float = 0) -> procrastinate.App:
    """A procrastinate app with the tasks.

    ``run_ticket`` runs a submitted ticket, ``run_message`` the round a customer's reply starts, and
    ``fire_timers`` (periodic, when ``timers_every_s``) the SLA and approval timers — procrastinate defers
    each periodic run once across all workers.
    """
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)))
    retry = procrastinate.RetryStrategy(max_attempts=attempts, wait=1)

    @app.task(name="run_ticket", queue=QUEUE, retry=retry)
    def run_ticket(thread_id: str, workspace: str = "", lane: str = "standard") -> None:
        from api import registry

        crash_point("worker_job")
        desk, started = worker_desk(), time.perf_counter()
        view = registry.run_submission(desk, thread_id, takeover=True)  # the claim finds the ticket in one statement
        if view is None and not registry.exists(desk.store, thread_id):
            raise LookupError(f"no registered ticket for thread {thread_id!r}")  # a poison job: retried, then failed
        log.info("ticket %s [%s lane]: %s in %.0f ms", thread_id, lane, view["status"] if view else "already run",
                 1000 * (time.perf_counter() - started))

    @app.task(name="run_message", queue=QUEUE, retry=retry)
    def run_message(thread_id: str, message_id: str, workspace: str = "", lane: str = "priority") -> None:
        from api import threads

        crash_point("worker_job")
        started = time.perf_counter()
        view = threads.process(worker_desk(), thread_id, message_id)  # a processed message is a no-op: runs once
        log.info("reply %s on %s: %s in %.0f ms", message_id, thread_id, view["status"], 1000 * (time.perf_counter() - started))

    if timers_every_s:
        @app.periodic(cron=timers_cron(timers_every_s), periodic_id="timers", priority=LANE_BOOST["priority"],
                      task_kwargs={"lane": "priority"})
        @app.task(name="fire_timers", queue=QUEUE, queueing_lock="fire_timers")
        def fire_timers(timestamp: int, lane: str = "priority") -> None:
            from api.app import fire_timers as fire

            fire(worker_desk())  # logs what fired

    return app


def app_of(settings: Settings) -> procrastinate.App:
    """The app for ``settings``."""
    return app_for(settings.database_url, settings.queue_attempts, settings.timers_every_s)


@cache
def worker_desk() -> Any:
    """The service this worker process runs its jobs with (one engine per process)."""
    from api.service import SupportDesk

    return SupportDesk(get_settings())


def ensure_schema(settings: Settings, store: Any) -> None:
    """Create procrastinate's tables once (serialised across processes); a no-op when they exist."""
    from sqlalchemy import inspect

    with store.leader("procrastinate-schema") as leader:
        if not leader or "procrastinate_jobs" in inspect(store.engine).get_table_names():
            return
        app = app_of(settings)
        with app.open():
            app.schema_manager.apply_schema()


#: Jobs of the priority lane (a VIP customer or an SLA at risk, customer replies, timer ticks) go before the standard lane's.
LANE_BOOST = {"priority": 1000, "standard": 0}


def lane_of(customer: dict[str, Any] | None, playbook: Any = None) -> str:
    """``priority`` for a VIP customer or one whose SLA is at risk, else ``standard`` — known before triage.

    SLA at risk: the customer's plan's first-response target at normal priority is within the playbook's
    ``sla_risk_hours`` (the sample playbook: enterprise, 4 h). Without a playbook, enterprise counts as at risk.
    """
    if not customer:
        return "standard"
    if customer.get("vip"):
        return "priority"
    if playbook is None:
        return "priority" if customer.get("plan") == "enterprise" else "standard"
    try:
        at_risk = playbook.sla_at_risk(playbook.sla_hours(str(customer.get("plan") or ""), "normal"))
    except (KeyError, TypeError, ValueError, StopIteration):  # a playbook without a normal priority or SLA table
        at_risk = False
    return "priority" if at_risk else "standard"


def enqueue(settings: Settings, store: Any, thread_id: str, workspace: str = "", lane: str = "standard") -> bool:
    """Defer the ticket's run; False when a job for it is already waiting (enqueued twice, runs once).

    Fairness: within a lane a job's priority drops by the workspace's backlog (its jobs waiting now), so a
    burst from one workspace queues behind the next ticket of another instead of starving it.
    """
    app = _deferring_app(settings)
    priority = LANE_BOOST.get(lane, 0) - backlog(store, workspace)
    try:
        app.tasks["run_ticket"].configure(queueing_lock=thread_id, priority=priority).defer(
            thread_id=thread_id, workspace=workspace, lane=lane)
    except AlreadyEnqueued:
        return False
    return True


def enqueue_ticket(desk: Any, thread_id: str, workspace: str, ticket: dict[str, Any]) -> bool:
    """Defer a registered ticket's run in its customer's lane (the CRM and the playbook decide, before triage)."""
    from graph.nodes.triage import customer_facts

    engine = desk.engine_of(workspace)
    return enqueue(desk.settings, desk.store, thread_id, workspace, lane_of(customer_facts(engine, ticket), engine.playbook))


def enqueue_message(settings: Settings, thread_id: str, message_id: str, workspace: str = "") -> bool:
    """Defer the round a stored customer message starts; False when it is already waiting."""
    app = _deferring_app(settings)
    try:
        # Replies go first: a customer is waiting on an open conversation (and a reply supersedes a review).
        app.tasks["run_message"].configure(queueing_lock=f"message:{message_id}", priority=LANE_BOOST["priority"]).defer(
            thread_id=thread_id, message_id=message_id, workspace=workspace, lane="priority")
    except AlreadyEnqueued:
        return False
    return True


def backlog(store: Any, workspace: str) -> int:
    """How many of ``workspace``'s jobs wait in the queue now (through the store's pooled connections)."""
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' "
                                     "AND args->>'workspace' = :workspace"), {"workspace": workspace}).scalar() or 0)


def retry_stalled(settings: Settings, seconds: float) -> int:
    """Put back the jobs of workers that stopped sending heartbeats (killed mid-job); returns how many."""
    app = app_of(settings)

    async def run() -> int:
        async with app.open_async():
            stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds))
            for job in stalled:
                await app.job_manager.retry_job(job)
            return len(stalled)

    return asyncio.run(run())


def work(settings: Settings, concurrency: int = 1, once: bool = False) -> None:
    """Run a worker: ``once`` drains what is queued (after retrying stalled jobs) and returns."""
    retried = retry_stalled(settings, settings.stalled_after_s)
    if retried:
        log.warning("retrying %d stalled job(s) of stopped workers", retried)
    log.info("worker: queue %r, %d job(s) at a time, %s", QUEUE, concurrency, "until the queue is empty" if once else
             "until stopped (Ctrl-C / SIGTERM finishes the running jobs first)")
    app_of(settings).run_worker(queues=[QUEUE], concurrency=concurrency, wait=not once, install_signal_handlers=not once)


def jobs(settings: Settings, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Jobs of the queue, newest first (``status='failed'``: the dead letters)."""
    import psycopg
    from psycopg.rows import dict_row

    # thread_id: the ticket's (run_ticket, run_message); empty for the periodic timers job.
    sql = ("SELECT id, task_name AS task, COALESCE(args->>'thread_id', '') AS thread_id, args->>'message_id' AS message_id, "
           "status, attempts, scheduled_at FROM procrastinate_jobs")
    params: list[Any] = []
    if status:
        sql += " WHERE status = %s"
        params.append(status)
    sql += " ORDER BY id DESC LIMIT %s"
    params.append(limit)
    with psycopg.connect(conninfo(settings.database_url), row_factory=dict_row) as conn:
        rows = conn.execute(sql, params).fetchall()
    return [{**r, "status": str(r["status"]), "scheduled_at": str(r["scheduled_at"] or "")} for r in rows]
