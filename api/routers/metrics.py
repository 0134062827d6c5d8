"""``GET /metrics``: Prometheus text exposition of all workers (optionally behind ``SUPPORT_METRICS_TOKEN``)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api import metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
def prometheus(request: Request) -> Response:
    """Every worker's counters and histograms, and the store's gauges (low-cardinality labels, no ids or PII)."""
    desk = request.app.state.desk
    token = desk.settings.metrics_token
    if token:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"detail": "metrics need 'Authorization: Bearer <SUPPORT_METRICS_TOKEN>'"}, 401,
                                headers={"WWW-Authenticate": "Bearer"})
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(metrics.exposition(desk.store), media_type=CONTENT_TYPE_LATEST)
