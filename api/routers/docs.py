"""API docs that work offline: Swagger UI at ``/docs`` and ReDoc at ``/redoc`` from packaged assets.

FastAPI's default pages load their scripts from a CDN, which leaves them blank on a machine without
internet access. The assets come from the ``fastapi-offline`` wheel and are served from an allow-list
(no directory listing, no path from the URL reaches the filesystem).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)
#: Only this server: ReDoc's footer logo and any other third-party asset are blocked by the browser.
CSP = {"Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                                  "img-src 'self' data:; worker-src 'self' blob:; font-src 'self' data:; frame-ancestors 'none'"}

ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
          "redoc.standalone.js": "text/javascript; charset=utf-8", "favicon.png": "image/png"}
PREFIX = "/docs-assets"


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


@router.get("/docs")
def swagger(request: Request) -> HTMLResponse:
    """Swagger UI: try the API in the browser; *Authorize* takes an API key."""
    root = _root(request)
    page = get_swagger_ui_html(openapi_url=f"{root}{request.app.openapi_url}", title=f"{request.app.title} — API",
                               swagger_js_url=f"{root}{PREFIX}/swagger-ui-bundle.js",
                               swagger_css_url=f"{root}{PREFIX}/swagger-ui.css",
                               swagger_favicon_url=f"{root}{PREFIX}/favicon.png",
                               swagger_ui_parameters={"persistAuthorization": False, "tryItOutEnabled": False})
    return HTMLResponse(page.body, headers=CSP)


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc: the API reference as one page."""
    root = _root(request)
    page = get_redoc_html(openapi_url=f"{root}{request.app.openapi_url}", title=f"{request.app.title} — API reference",
                          redoc_js_url=f"{root}{PREFIX}/redoc.standalone.js", redoc_favicon_url=f"{root}{PREFIX}/favicon.png",
                          with_google_fonts=False)
    return HTMLResponse(page.body, headers=CSP)


@router.get(PREFIX + "/{name}")
def asset(name: str) -> FileResponse:
    """One of the packaged Swagger UI / ReDoc files; anything else is 404."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, f"no docs asset '{name}'")
    return FileResponse(ASSETS_DIR / name, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
