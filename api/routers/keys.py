"""API keys of the caller's workspace: list them, revoke one (admin keys only)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from api.auth import Admin, list_keys, revoke_key
from api.schemas import Problem

router = APIRouter(prefix="/v1/keys", tags=["keys"])
log = logging.getLogger("support_desk.api.keys")

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, invalid or revoked API key"},
    403: {"model": Problem, "description": "Only admin keys manage keys"},
}
KeyId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$", description="The key's id (`sda_<id>_…`)")]


class KeyInfo(BaseModel):
    """An API key as listed: never its hash, never the key itself."""

    key_id: str = Field(description="The id inside the key: `sda_<key_id>_<secret>`")
    role: str = Field(description="submitter | reviewer | admin")
    workspace: str
    name: str = ""
    created_at: str
    revoked_at: str | None = Field(None, description="When it was revoked; null while it is valid")


@router.get("", response_model=list[KeyInfo], responses=ERRORS, summary="The workspace's API keys, newest first")
def keys(
    request: Request, who: Admin,
    revoked: Annotated[bool, Query(description="Include revoked keys")] = True,
) -> Any:
    """Every key of the caller's workspace, with its role, name and revocation time."""
    rows = list_keys(request.app.state.desk.store, who.workspace)
    return [r for r in rows if revoked or r["revoked_at"] is None]


@router.post("/{key_id}/revoke", response_model=KeyInfo,
             responses={**ERRORS, 404: {"model": Problem, "description": "No such key in this workspace"}},
             summary="Revoke a key of the workspace (refused from its next request on)")
def revoke(request: Request, key_id: KeyId, who: Admin) -> Any:
    """Revoke ``key_id``; revoking it again keeps the first revocation time. Another workspace's key is 404."""
    store = request.app.state.desk.store
    if not revoke_key(store, key_id, who.workspace):
        raise HTTPException(404, f"unknown key '{key_id}'")
    log.info("API key %s of workspace %s revoked by %s", key_id, who.workspace, who.label)
    return next(r for r in list_keys(store, who.workspace) if r["key_id"] == key_id)
