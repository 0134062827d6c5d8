"""Tickets: submit (idempotent, sync or in the background), read, audit trail."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Header, HTTPException, Query, Request, Response

from api import queue, registry, threads
from api.auth import Reader, Reviewer, Submitter
from api.ratelimit import rate_limited
from api.schemas import TICKET_EXAMPLE, Accepted, AuditEvent, MessageAccepted, MessageIn, Problem, TicketIn, TicketView, Viewers
from api.service import NotFound, SupportDesk

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or invalid API key"},
    403: {"model": Problem, "description": "The key's role may not do this"},
    404: {"model": Problem, "description": "Unknown ticket (or another tenant's)"},
}


def _desk(request: Request) -> SupportDesk:
    desk: SupportDesk = request.app.state.desk
    return desk


def current_view(desk: SupportDesk, thread_id: str, row: dict[str, Any]) -> dict[str, Any]:
    """The run's view, or where its submit stands when the run has not produced state yet."""
    try:
        view = desk.view(thread_id)
    except NotFound:
        return {"thread_id": thread_id, "status": row["status"], "ticket": json.loads(str(row["ticket"])),
                "error": row.get("error")}
    config = desk.config(thread_id)
    view["thread"] = threads.thread_messages(desk, thread_id)
    view["history"] = [
        {"checkpoint_id": s.config["configurable"]["checkpoint_id"], "step": s.metadata.get("step") if s.metadata else None,
         "next": list(s.next), "created_at": s.created_at}
        for s in desk.graph.get_state_history(config, limit=25)
    ]
    return view


@router.post(
    "", status_code=201, response_model=TicketView,
    responses={**ERRORS, 200: {"model": TicketView, "description": "Replay: this ticket / idempotency key already ran"},
               202: {"model": Accepted, "description": "wait=false: accepted, runs in the background"},
               409: {"model": Problem, "description": "Ticket id used by another workspace"},
               413: {"model": Problem, "description": "Body larger than 1 MB"},
               422: {"model": Problem, "description": "Invalid ticket, or an Idempotency-Key reused with another body"},
               429: {"model": Problem, "description": "The API key's rate limit; see Retry-After"}},
    summary="Submit a ticket: run it to its packet and review checkpoint",
    dependencies=[Depends(rate_limited("submit", lambda r: r.app.state.desk.settings.rate_limit_submit))],
)
def submit(
    request: Request, response: Response, background: BackgroundTasks, who: Submitter,
    ticket: Annotated[TicketIn, Body(openapi_examples={"refund": {"value": TICKET_EXAMPLE}})],
    wait: Annotated[bool, Query(description="false: return 202 at once and run in the background")] = True,
    idempotency_key: Annotated[str | None, Header(max_length=200, description="Retries with the same key "
                                                  "return the same run")] = None,
) -> Any:
    """Create the run; a retried request (same ``Idempotency-Key`` or ticket id) returns the same run."""
    desk = _desk(request)
    if not desk.workspaces.exists(who.workspace):
        raise HTTPException(403, f"workspace '{who.workspace}' of this key is not set up: "
                                 f"support-agent workspace create {who.workspace} --data DIR")
    data = desk.scrub(ticket.model_dump(exclude_none=True))  # PII policy before anything is stored
    data["id"] = ticket.id or f"T-{uuid.uuid4().hex[:12]}"
    try:
        reg = registry.register(desk.store, who, data, idempotency_key, id_given=ticket.id is not None)
    except registry.TicketConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    except registry.KeyReused as exc:
        raise HTTPException(422, str(exc)) from exc
    location = f"/v1/tickets/{reg.ticket_id}"
    response.headers["Location"] = location
    row = registry.owned(desk.store, reg.thread_id, who.tenant) or {}
    if not reg.created and row.get("status") in ("done", "failed"):
        response.status_code = 200
        return current_view(desk, reg.thread_id, row)
    if reg.created and wait:
        view = registry.run_submission(desk, reg.thread_id)
        if view is not None:
            return view
    elif reg.created:
        if queue.enabled(desk.settings):  # a durable job any worker process takes (PostgreSQL)
            queue.enqueue_ticket(desk, reg.thread_id, who.workspace, data)
        else:
            background.add_task(registry.run_submission, desk, reg.thread_id, True)
    # wait=false, or a retry arriving while the first request still runs the ticket
    return Response(json.dumps({"thread_id": reg.thread_id, "ticket_id": reg.ticket_id, "status": row.get("status", "queued"),
                                "location": location}),
                    status_code=202, media_type="application/json", headers={"Location": location})


@router.get("/{ticket_id}", response_model=TicketView, responses=ERRORS, summary="A ticket's run")
def get_ticket(request: Request, ticket_id: str, who: Reader) -> Any:
    """Status, packet, pending interrupts (with ids), decisions, ledger and checkpoint history."""
    desk = _desk(request)
    row = registry.owned(desk.store, ticket_id, who.tenant)
    if row is None:
        raise HTTPException(404, f"unknown ticket '{ticket_id}'")
    return current_view(desk, str(row["thread_id"]), row)


@router.get("/{ticket_id}/audit", response_model=list[AuditEvent],
            responses={**ERRORS, 200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}},
            summary="A ticket's audit trail (JSON or CSV)")
def audit(request: Request, ticket_id: str, who: Reviewer,
          fmt: Annotated[Literal["json", "csv"], Query(alias="format", description="csv: one row per event, for a spreadsheet")]
          = "json",
          ) -> Any:
    """The trail, oldest first: submits, runs, claims, decisions and every applied action.

    Decisions carry the reviewer, role, digest of what was shown and comment.
    """
    desk = _desk(request)
    row = registry.owned(desk.store, ticket_id, who.tenant)
    if row is None:
        raise HTTPException(404, f"unknown ticket '{ticket_id}'")
    events = registry.trail(desk, str(row["thread_id"]))
    if fmt == "csv":
        return Response(registry.trail_csv(events), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="audit-{row["ticket_id"] or "ticket"}.csv"'.replace("\r", "").replace("\n", "")})
    return events


@router.post("/{ticket_id}/viewers", response_model=Viewers, responses=ERRORS,
             summary="Say you have the ticket open; who else has")
def viewers(request: Request, ticket_id: str, who: Reviewer) -> Any:
    """The reviewer console calls this while a ticket is shown, for its "also viewing" hint."""
    desk = _desk(request)
    row = registry.owned(desk.store, ticket_id, who.tenant)
    if row is None:
        raise HTTPException(404, f"unknown ticket '{ticket_id}'")
    return {"others": registry.viewing(desk.store, str(row["thread_id"]), who.label)}


@router.post("/{ticket_id}/messages", status_code=201, response_model=TicketView,
             responses={**ERRORS, 202: {"model": MessageAccepted, "description": "wait=false: stored, the round runs "
                                                                                  "in the background or on a queue worker"},
                        422: {"model": Problem, "description": "Empty, too long or NUL in the body"}},
             summary="Add the customer's reply (or a note) to a ticket")
def add_message(request: Request, ticket_id: str, body: MessageIn, who: Reader, background: BackgroundTasks,
                wait: Annotated[bool, Query(description="false: store the message, return 202 at once and run the "
                                                        "round in the background (a queue job on PostgreSQL)")] = True,
                ) -> Any:
    """Store the message; a customer message then runs the next round on the whole thread.

    A pending review is superseded (a decision on it then gets 409); a finished run gets a follow-up packet.
    A note (``internal`` or by an agent) is recorded only.
    """
    desk = _desk(request)
    row = registry.owned(desk.store, ticket_id, who.tenant)
    if row is None:
        raise HTTPException(404, f"unknown ticket '{ticket_id}'")
    thread_id = str(row["thread_id"])
    view = threads.add_message(desk, thread_id, body.body, body.author, body.internal, created_by=who.label, run=wait)
    message = view["message"]
    if not wait and message["author"] == "customer" and not message["internal"]:
        if queue.enabled(desk.settings):
            queue.enqueue_message(desk.settings, thread_id, message["id"], who.workspace)
        else:
            background.add_task(threads.process, desk, thread_id, message["id"])
        location = f"/v1/tickets/{row['ticket_id'] or thread_id}"
        return Response(json.dumps({"thread_id": thread_id, "message_id": message["id"], "status": "received",
                                    "location": location}),
                        status_code=202, media_type="application/json", headers={"Location": location})
    registry.refresh_tiers(desk, view)
    view["thread"] = threads.thread_messages(desk, thread_id)
    return view
