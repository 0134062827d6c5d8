"""The reviewer web console: one static page (plain HTML/JS/CSS, no build step) over the JSON API.

``GET /console`` serves the page and ``GET /console/static/<file>`` its script and stylesheet.
The page holds no secret: the reviewer types an API key once (kept in the tab's
``sessionStorage``) and the script calls ``/v1/reviews`` and ``/v1/tickets/...`` with it, like
any other client. A strict Content-Security-Policy allows only same-origin scripts, styles and
requests, and no framing.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(tags=["console"], include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static"
# Only these files are served (no directory listing, no path from the URL reaches the filesystem).
ASSETS = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@router.get("/console", summary="The reviewer console (HTML page)")
def console_page() -> FileResponse:
    """The page; it asks for a reviewer API key and talks to the JSON API from the browser."""
    return FileResponse(STATIC / "console.html", media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


@router.get("/console/static/{name}", summary="The console's script and stylesheet")
def console_asset(name: str) -> FileResponse:
    """``console.js`` or ``console.css``; anything else is 404."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, f"no console asset '{name}'")
    return FileResponse(STATIC / name, media_type=media_type, headers=SECURITY_HEADERS)
