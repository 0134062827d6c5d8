"""Reports: the workspace's outcome metrics and reviewer feedback (the JSON of ``support-agent report --json``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.auth import Reviewer
from api.reports import REOPEN_DAYS
from api.routers.tickets import ERRORS
from api.service import SupportDesk

router = APIRouter(tags=["reports"])


@router.get("/v1/reports", response_model=dict[str, Any], responses=ERRORS,
            summary="Outcome metrics per ISO week and category, reviewer feedback and knowledge gaps")
def report(
    request: Request, who: Reviewer,
    since_days: Annotated[float | None, Query(gt=0, le=36_500, description="Only tickets that arrived in the last N days")] = None,
    reopen_days: Annotated[float, Query(ge=0, le=365, description="A customer message within N days after a sent reply "
                                                                   "reopens the ticket")] = REOPEN_DAYS,
) -> Any:
    """The key's workspace: first response, time to decision, queue age, acceptance classes, reopens, gaps (README)."""
    desk: SupportDesk = request.app.state.desk
    return desk.learning_report(who.tenant, since_days=since_days, reopen_days=reopen_days)
