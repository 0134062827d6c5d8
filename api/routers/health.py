"""Liveness and readiness."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])
log = logging.getLogger("support_desk.api")


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    """Liveness: answers as soon as the app is running."""
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers", responses={503: {"description": "Database unreachable"}})
def readyz(request: Request) -> Any:
    """Readiness: the store (and so, on PostgreSQL, the checkpoint database) answers a query."""
    desk = request.app.state.desk
    try:
        desk.store.ping()
    except Exception as exc:  # any driver error means "not ready"; its text (host, port) stays in the log
        log.warning("readiness: the database does not answer (%s)", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "detail": f"the database does not answer ({type(exc).__name__})"},
                            503, headers={"Retry-After": "5"})
    return {"status": "ready", "database": desk.store.dialect}
