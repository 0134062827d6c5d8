"""The HTTP API: ``create_app()`` builds the FastAPI app; the lifespan opens the desk.

Run it with ``uvicorn --factory api.app:create_app --workers 2``. Each worker process loads
the engine, opens the configured database (SQLite files, or PostgreSQL with one pool per
worker), creates missing tables and, once across workers, finishes work a stopped process
left behind: claimed-but-unfinished decisions and submits accepted with ``wait=false``.
``GET /metrics`` serves every worker's Prometheus metrics (:mod:`api.metrics`, multiprocess mode).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import metrics, queue, registry, threads, timers
from api.logging import install as install_log_redaction
from api.logging import safe_errors, summary
from api.retention import prune
from api.routers import console, docs, gaps, health, keys, reports, reviews, tickets, webhooks
from api.routers import metrics as metrics_router
from api.routers import queue as queue_router
from api.service import SupportDesk
from tools.settings import Settings, get_settings
from tools.store import database_errors, now

log = logging.getLogger("support_desk.api")


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        """Wrap ``app``."""
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer the body up to the limit, then replay it to the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"detail": f"request body larger than {self.limit} bytes"}, status_code=413,
                                headers={"Connection": "close"})
        await response(scope, receive, send)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """400 for malformed JSON, 422 for a body or parameter that does not validate; always with the reason."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()  # never echoed raw: inputs may hold NaN, lone surrogates or card numbers
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse({"detail": f"malformed JSON: {summary(errors)}"}, status_code=400)
    return JSONResponse({"detail": summary(errors), "errors": safe_errors(errors)}, status_code=422)


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database does not answer: 503 with Retry-After, fast; the request changed nothing it did not commit."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse({"detail": "the database is unavailable; retry shortly"}, status_code=503,
                        headers={"Retry-After": "5"})


async def server_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug or an outage: logged with its traceback; the client gets a short reason."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": f"internal error ({type(exc).__name__}); see the server log"}, status_code=500)


def startup(settings: Settings) -> SupportDesk:
    """Open the desk and, once across worker processes, finish what a stopped process left."""
    # Only work left before this process started is "left behind": a sibling worker that
    # started earlier may be running its own fresh submits and decisions right now.
    started = now()
    desk = SupportDesk(settings)
    if queue.enabled(settings):
        queue.ensure_schema(settings, desk.store)
    if settings.recover_on_start:
        with desk.store.leader("recover") as leader:
            if leader:
                finished = desk.recover(before=started)
                finished += threads.recover_messages(desk, before=started, run=_message_runner(desk))
                for thread_id in registry.queued(desk.store, before=started):
                    if queue.enabled(settings):  # the workers run it; enqueued twice, it still runs once
                        queue.enqueue(settings, desk.store, thread_id)
                    else:
                        registry.run_submission(desk, thread_id, queued=True)
                    finished.append(thread_id)
                if finished:
                    log.info("recovered %d runs: %s", len(finished), ", ".join(finished))
                if settings.retention_days:
                    report = prune(desk, settings.retention_days)
                    log.info("retention: %d finished runs archived, %d → %d bytes", report["pruned"],
                             report["bytes_before"], report["bytes_after"])
    return desk


def _message_runner(desk: SupportDesk) -> Any:
    """How recovery runs a stored reply's round: the queue's workers when there is one, else here."""
    if not queue.enabled(desk.settings):
        return None
    return lambda thread_id, message_id: queue.enqueue_message(desk.settings, thread_id, message_id)


def recover_periodically(desk: SupportDesk, settings: Settings) -> list[str]:
    """One round of the periodic recovery: if this worker wins the lock, finish what was left behind.

    Only work older than ``recover_after_s`` counts as left behind, so a decision a live sibling
    is applying right now is not touched (and the ledger would apply each action once anyway).
    """
    cutoff = (datetime.now(UTC) - timedelta(seconds=settings.recover_after_s)).isoformat(timespec="seconds")
    with desk.store.leader("recover") as leader:
        if not leader:
            return []
        finished = desk.recover(before=cutoff) + threads.recover_messages(desk, before=cutoff, run=_message_runner(desk))
    if finished:
        log.info("periodic recovery finished %d runs: %s", len(finished), ", ".join(finished))
    return finished


def fire_timers(desk: SupportDesk) -> dict[str, list[str]]:
    """One scheduler round, by one worker at a time (the timers table makes each fire once anyway)."""
    with desk.store.leader("timers") as leader:
        if not leader:
            return {}
        fired = timers.tick(desk)
    if any(fired.values()):
        log.info("timers fired: %s", {k: len(v) for k, v in fired.items() if v})
    return fired


async def _timers_loop(desk: SupportDesk, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.timers_every_s)
        try:
            await run_in_threadpool(fire_timers, desk)
        except Exception:  # an outage or a bug must not stop the loop (or the worker)
            log.exception("timers failed; retrying in %s s", settings.timers_every_s)


async def _recovery_loop(desk: SupportDesk, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.recover_every_s)
        try:
            await run_in_threadpool(recover_periodically, desk, settings)
        except Exception:  # an outage or a bug must not stop the loop (or the worker)
            log.exception("periodic recovery failed; retrying in %s s", settings.recover_every_s)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI app (nothing is opened until the lifespan starts)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics.configure(settings)  # before any metric exists (recovery at start may already count)
        app.state.desk = await run_in_threadpool(startup, settings)
        loops = [asyncio.create_task(_recovery_loop(app.state.desk, settings))] if settings.recover_every_s else []
        if settings.timers_every_s and not queue.enabled(settings):  # else a periodic job of the workers
            loops.append(asyncio.create_task(_timers_loop(app.state.desk, settings)))
        try:
            yield
        finally:
            for loop in loops:
                loop.cancel()
            app.state.desk.close()

    app = FastAPI(
        title="Support Desk Agent", version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None,
        description="Submit tickets, review gated actions (exactly once), read runs and their audit trail. "
                    "Authenticate with `Authorization: Bearer <API key>`.",
    )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_exception_handler(RequestValidationError, validation_error)
    for error in database_errors():
        app.add_exception_handler(error, database_unavailable)
    app.add_exception_handler(Exception, server_error)
    app.include_router(health.router)
    app.include_router(metrics_router.router)
    app.include_router(tickets.router)
    app.include_router(reviews.router)
    app.include_router(console.router)
    app.include_router(keys.router)
    app.include_router(reports.router)
    app.include_router(docs.router)
    app.include_router(gaps.router)
    app.include_router(queue_router.router)
    app.include_router(webhooks.router)
    install_log_redaction()  # no log line carries a raw card number, IBAN, email or phone
    return app


def openapi_json() -> str:
    """The OpenAPI document (for docs; builds the app without starting it)."""
    spec: dict[str, Any] = create_app().openapi()
    return json.dumps(spec, indent=2)
