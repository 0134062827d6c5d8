"""Per-key rate limits: ``rate_limited("submit", "120/minute")`` is a FastAPI dependency.

Over the limit a caller gets 429 with ``Retry-After`` (whole seconds until the oldest counted
request leaves the window) and ``X-RateLimit-Limit``. Requests are counted per authenticated key
id and per scope, in a moving window, by the ``limits`` library (the engine under slowapi).

slowapi itself is not used: it is an endpoint decorator keyed by a function of the request, runs
its own exception handler, and sends ``Retry-After`` only with ``headers_enabled=True``, which
requires every limited endpoint to return a ``Response`` object (ours return models). A dependency
composes with the auth dependency instead: the key is resolved once per request and counted here.

The counters live in the memory of each worker process: with ``uvicorn --workers N`` a key may
make up to N times the limit, spread over the workers. A storage shared by workers (``limits``
supports Redis, Memcached, MongoDB) would make it global; none runs on this deployment.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter, RateLimiter

from api.auth import Principal, authenticate

#: A limit written as ``off`` (or empty, or ``0``) counts nothing.
OFF = frozenset({"", "off", "0", "none", "unlimited"})
_LOCK = threading.Lock()

Limit = str | Callable[[Request], str]


@lru_cache(maxsize=64)
def parse_limit(text: str) -> RateLimitItem | None:
    """``"120/minute"``, ``"10/second"``, ``"1000 per hour"`` → the limit; ``off`` → None.

    Raises:
        ValueError: when ``text`` is not a limit.
    """
    if text.strip().lower() in OFF:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        raise ValueError(f"not a rate limit: {text!r} (write e.g. '120/minute' or 'off')") from exc


def limiter_of(request: Request) -> RateLimiter:
    """The app's limiter, created on first use (one per app per process)."""
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
    if limiter is None:
        with _LOCK:
            limiter = getattr(state, "rate_limiter", None)
            if limiter is None:
                limiter = MovingWindowRateLimiter(MemoryStorage())
                state.rate_limiter = limiter
    return limiter


def rate_limited(scope: str, limit: Limit) -> Callable[..., None]:
    """A dependency counting the caller's key against ``limit`` in ``scope`` (429 once it is spent).

    Args:
        scope: What is limited (``submit``, ``review``); each scope has its own counters.
        limit: ``"120/minute"``, or a function of the request returning it (read from the app's settings
            when the request comes, e.g. ``lambda r: r.app.state.desk.settings.rate_limit_submit``).
    """
    if isinstance(limit, str):
        parse_limit(limit)  # a typo fails when the route is built, not on the first request

    def dependency(request: Request, principal: Annotated[Principal, Depends(authenticate)]) -> None:
        item = parse_limit(limit if isinstance(limit, str) else limit(request))
        if item is None:
            return
        limiter = limiter_of(request)
        if limiter.hit(item, scope, principal.key_id):
            return
        reset_at = limiter.get_window_stats(item, scope, principal.key_id).reset_time
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise HTTPException(
            429, f"rate limit reached for this API key ({scope}: {item}); retry in {retry_after} s",
            headers={"Retry-After": str(retry_after), "X-RateLimit-Limit": str(item.amount), "X-RateLimit-Remaining": "0"},
        )

    dependency.__name__ = f"rate_limited_{scope}"
    return dependency
