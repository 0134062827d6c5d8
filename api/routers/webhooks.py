"""Webhook intake: a help desk's signed ticket events start runs exactly like ``POST /v1/tickets?wait=false``.

No API key: the request is authenticated by its HMAC signature (:mod:`api.webhooks`). A new event
→ 202 + ``Location`` and the run is queued; an event id seen before, or a ticket id that already
has a run → 200 with where that ticket stands, and nothing runs a second time.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from api import queue, registry, webhooks
from api.auth import Principal
from api.schemas import Problem
from api.service import NotFound, SupportDesk
from tools import schema as t
from tools.workspaces import ID_PATTERN

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
log = logging.getLogger("support_desk.api.webhooks")


class WebhookOutcome(BaseModel):
    """Where the event's ticket stands; poll ``location`` with a key of the workspace."""

    event_id: str
    outcome: str = Field(description="accepted: this event started the run | duplicate_ticket: the ticket already had one")
    replayed: bool = Field(description="true: this event id was seen before; the record of its first delivery is returned")
    thread_id: str
    ticket_id: str
    status: str = Field(description="The run's status (queued, running, awaiting_review, completed, …)")
    location: str


def _request_body_schema() -> dict[str, Any]:
    """The event's JSON schema, nested models inlined (the body is parsed by hand, after the signature check)."""
    schema = webhooks.WebhookEvent.model_json_schema()
    defs = schema.pop("$defs", {})
    for name, prop in schema["properties"].items():
        ref = prop.get("$ref", "")
        if ref.startswith("#/$defs/"):
            schema["properties"][name] = defs[ref.removeprefix("#/$defs/")]
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _status(desk: SupportDesk, thread_id: str, workspace: str) -> str:
    """The run's status once it has one, else where its submit stands (queued, running, failed)."""
    run = desk.store.query(select(t.runs.c.status).where(t.runs.c.thread_id == thread_id))
    if run and run[0]["status"]:
        return str(run[0]["status"])
    try:  # the run reached its checkpoint a moment before its row was recorded: say what GET /v1/tickets says
        return str(desk.view(thread_id)["status"])
    except NotFound:
        pass
    row = registry.owned(desk.store, thread_id, workspace)
    return str(row["status"]) if row else "unknown"


def _answer(desk: SupportDesk, workspace: str, event_id: str, record: webhooks.Seen, replayed: bool,
            status_code: int) -> Response:
    location = f"/v1/tickets/{record.ticket_id}"
    body = WebhookOutcome(event_id=event_id, outcome=record.outcome, replayed=replayed, thread_id=record.thread_id,
                          ticket_id=record.ticket_id, status=_status(desk, record.thread_id, workspace), location=location)
    return Response(body.model_dump_json(), status_code=status_code, media_type="application/json",
                    headers={"Location": location})


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers={"WWW-Authenticate": 'HMAC-SHA256 realm="webhooks"'})


@router.post(
    "/tickets", status_code=202, response_model=WebhookOutcome, openapi_extra=_request_body_schema(),
    responses={200: {"model": WebhookOutcome, "description": "Replay of an event id, or a ticket id that already has a run"},
               202: {"model": WebhookOutcome, "description": "Accepted: the run is queued; poll `Location`"},
               400: {"model": Problem, "description": "Malformed JSON"},
               401: {"model": Problem, "description": "Missing or invalid signature, stale timestamp, or unknown workspace"},
               413: {"model": Problem, "description": "Body larger than SUPPORT_MAX_BODY_BYTES"},
               422: {"model": Problem, "description": "The event or its ticket does not validate"}},
    summary="A help desk's signed ticket event (HMAC-SHA256): run the ticket once",
)
async def ticket_event(
    request: Request, background: BackgroundTasks,
    x_support_workspace: Annotated[str | None, Header(description="The workspace whose secret signed the event")] = None,
    x_support_timestamp: Annotated[str | None, Header(description="Unix seconds when the event was signed")] = None,
    x_support_signature: Annotated[str | None, Header(
        description='`sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`')] = None,
) -> Response:
    """Verify the signature over the raw body, then register the ticket once and queue its run."""
    raw = await request.body()  # the exact bytes that were signed (BodyLimit already capped their size)
    headers = (x_support_workspace, x_support_timestamp, x_support_signature)
    return await run_in_threadpool(_intake, request.app.state.desk, background, headers, raw)


def _intake(desk: SupportDesk, background: BackgroundTasks, headers: tuple[str | None, str | None, str | None],
            raw: bytes) -> Response:
    workspace, timestamp, signature = (headers[0] or "").strip(), headers[1], headers[2]
    if not workspace:
        raise _unauthorized("missing X-Support-Workspace header")
    known = bool(ID_PATTERN.fullmatch(workspace)) and desk.workspaces.exists(workspace)
    secrets = webhooks.active_secrets(desk.store, workspace) if known else []
    tolerance = desk.settings.webhook_tolerance_s
    try:
        signed_at = webhooks.verify(secrets, timestamp, signature, raw, tolerance)
    except webhooks.SignatureError as exc:
        log.warning("webhook refused: %s", str(exc).split(":")[0])
        raise _unauthorized(str(exc)) from exc
    try:
        event = webhooks.WebhookEvent.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    earlier = webhooks.seen(desk.store, workspace, event.event_id)
    if earlier is not None:
        return _answer(desk, workspace, event.event_id, earlier, replayed=True, status_code=200)
    data = desk.scrub(event.ticket.model_dump(exclude_none=True))  # PII policy before anything is stored
    who = Principal(key_id="webhook", role="submitter", tenant=workspace, name="webhook")
    try:
        reg = registry.register(desk.store, who, data, None)
    except registry.TicketConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    if reg.created:  # whatever happens to the record below, this request owns the run
        if queue.enabled(desk.settings):  # PostgreSQL queue: a durable job, in the customer's lane
            queue.enqueue_ticket(desk, reg.thread_id, workspace, data)
        else:
            background.add_task(registry.run_submission, desk, reg.thread_id, True)
    outcome = "accepted" if reg.created else "duplicate_ticket"
    first = webhooks.record(desk.store, workspace, event.event_id, reg.thread_id, reg.ticket_id, outcome, signed_at,
                            tolerance)
    mine = first.thread_id == reg.thread_id and first.outcome == outcome
    return _answer(desk, workspace, event.event_id, first, replayed=not mine, status_code=202 if reg.created else 200)
