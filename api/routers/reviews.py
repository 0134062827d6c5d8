"""Reviews: the pending queue and decisions (exactly once per interrupt)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from api import registry
from api.auth import Reviewer
from api.ratelimit import rate_limited
from api.routers.tickets import ERRORS, current_view
from api.schemas import Conflict, Problem, ReviewIn, ReviewItem, TicketView
from api.service import InvalidDecision, NotFound, NotPending, StaleProposal, SupportDesk

router = APIRouter(tags=["reviews"])


@router.get("/v1/reviews", response_model=list[ReviewItem], responses=ERRORS,
            summary="Pending reviews, most at risk of breaching their SLA first")
def queue(
    request: Request, who: Reviewer,
    tier: Annotated[list[str] | None, Query(description="Only reviews gating an action of these tiers")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    min_age_minutes: Annotated[float | None, Query(ge=0, description="Waiting at least this long")] = None,
    max_age_minutes: Annotated[float | None, Query(ge=0, description="Waiting at most this long")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    queue: Annotated[Literal["all", "lead"], Query(description="lead: reviews escalated to the lead before their "
                                                                 "approval deadline")] = "all",
) -> Any:
    """The caller's tenant's queue: SLA-warned tickets first, then by minutes left until the SLA is breached."""
    desk: SupportDesk = request.app.state.desk
    return registry.review_queue(desk, who.tenant, tier, category, min_age_minutes, max_age_minutes, limit, queue == "lead")


@router.get("/v1/vocabulary", responses=ERRORS, summary="What a reviewer may set in overrides (the workspace playbook's values)")
def vocabulary(request: Request, who: Reviewer) -> dict[str, list[str]]:
    """Categories, priorities and escalation teams of the caller's workspace (for the console's correction fields)."""
    from api.feedback import vocabulary as of_playbook

    desk: SupportDesk = request.app.state.desk
    return of_playbook(desk.engine_of(who.workspace).playbook)


@router.post(
    "/v1/tickets/{ticket_id}/review", response_model=TicketView,
    responses={**ERRORS, 409: {"model": Conflict, "description": "No longer pending (who decided and when), or the proposal "
                                                                 "changed since it was shown (current_digest)"},
               422: {"model": Problem, "description": "Invalid decision (an edit may narrow the proposal, never add to it)"},
               429: {"model": Problem, "description": "The API key's rate limit; see Retry-After"}},
    summary="Decide a pending review (applied exactly once)",
    dependencies=[Depends(rate_limited("review", lambda r: r.app.state.desk.settings.rate_limit_review))],
)
def decide(request: Request, ticket_id: str, body: ReviewIn, who: Reviewer) -> Any:
    """Accept, edit, respond to or ignore the interrupt ``interrupt_id``; a second decision gets 409."""
    desk: SupportDesk = request.app.state.desk
    row = registry.owned(desk.store, ticket_id, who.tenant)
    if row is None:
        raise HTTPException(404, f"unknown ticket '{ticket_id}'")
    thread_id = str(row["thread_id"])
    decision = body.model_dump(exclude={"interrupt_id"}, exclude_none=True)
    try:
        view = desk.decide(thread_id, decision, interrupt_id=body.interrupt_id, reviewer=who.label, role=who.role)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except StaleProposal as exc:
        registry.audit(desk.store, thread_id, "review.refused", who.label,
                       {"interrupt_id": body.interrupt_id, "reason": "stale digest", "digest": body.digest,
                        "current_digest": exc.current})
        return JSONResponse({"detail": str(exc), "interrupt_id": exc.interrupt_id, "current_digest": exc.current},
                            status_code=409)
    except InvalidDecision as exc:
        raise HTTPException(422, f"invalid decision: {exc}") from exc
    except NotPending as exc:
        if exc.decided is None:
            raise HTTPException(404, f"ticket '{ticket_id}' has no interrupt '{body.interrupt_id}' "
                                     "(GET the ticket for its pending interrupt ids)") from exc
        decided = exc.decided
        registry.audit(desk.store, thread_id, "review.refused", who.label,
                       {"interrupt_id": body.interrupt_id, "decided_by": decided.get("reviewer")})
        if decided.get("decision") == "superseded":
            pending = desk.view(thread_id)["interrupts"]
            return JSONResponse({"detail": f"interrupt '{body.interrupt_id}' was superseded by a newer message at "
                                           f"{decided.get('decided_at')}; review the new packet",
                                 "decided": decided, "interrupt_id": pending[0]["id"] if pending else None,
                                 "current_digest": pending[0]["digest"] if pending else None}, status_code=409)
        return JSONResponse({"detail": f"interrupt '{body.interrupt_id}' was already decided by "
                                       f"{decided.get('reviewer')} at {decided.get('decided_at')}",
                             "decided": decided}, status_code=409)
    last = (view.get("decisions") or [{}])[-1]
    registry.after_decision(desk, view, who, {"interrupt_id": body.interrupt_id, "type": body.type, "role": who.role,
                                              "digest": last.get("digest"), "comment": last.get("comment"),
                                              "dropped": (last.get("changes") or {}).get("dropped", [])})
    view["history"] = current_view(desk, thread_id, row).get("history", [])
    return view
