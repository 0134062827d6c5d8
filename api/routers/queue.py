"""The job queue (PostgreSQL, ``SUPPORT_QUEUE=procrastinate``): its jobs and dead letters, for operators."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request

from api import queue
from api.auth import Admin
from api.routers.tickets import ERRORS

router = APIRouter(tags=["queue"])


@router.get("/v1/queue", responses={**ERRORS, 409: {"description": "This deployment has no queue (SQLite, or in-process)"}},
            summary="Queue jobs, newest first; status=failed lists the dead letters")
def jobs(request: Request, who: Admin,
         status: Annotated[Literal["todo", "doing", "succeeded", "failed", "cancelled", "aborted"] | None, Query()] = None,
         limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
    """Every job of every workspace: the queue is the deployment's (admin keys only)."""
    settings = request.app.state.desk.settings
    if not queue.enabled(settings):
        raise HTTPException(409, "no job queue here: SUPPORT_QUEUE=procrastinate with PostgreSQL enables it")
    return queue.jobs(settings, status, limit)
