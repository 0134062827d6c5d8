"""API keys: a role (submitter, reviewer, admin) and a workspace each, stored hashed.

The key's workspace is stored in the ``tenant`` column (the name it had before workspaces).

A key reads ``sda_<key id>_<secret>``; the database keeps the key id and the SHA-256 of the
whole key (keys are long random strings, so a fast hash is enough). Requests send it as
``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. A revoked key (``revoke_key``;
``support-agent keys revoke``; ``POST /v1/keys/{id}/revoke``) is refused from its next request on,
in every worker: each request looks its key up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, update

from api.db import open_store
from tools import schema as t
from tools.settings import Settings, get_settings
from tools.store import Store, now
from tools.workspaces import Workspaces, check_id

Role = Literal["submitter", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("submitter", "reviewer", "admin")
PREFIX = "sda"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, role, tenant and display name."""

    key_id: str
    role: str
    tenant: str
    name: str

    @property
    def workspace(self) -> str:
        """The workspace this key belongs to."""
        return self.tenant

    @property
    def label(self) -> str:
        """How the caller appears in decisions and the audit trail."""
        return self.name or f"key:{self.key_id}"


def hash_key(key: str) -> str:
    """The stored digest of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def insert_key(store: Store, role: str, tenant: str, name: str = "") -> str:
    """Create a key in ``store`` and return it (the only time the plain key is visible)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}; got '{role}'")
    check_id(tenant.strip())
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    with store.transaction() as tx:
        tx.execute(t.api_keys.insert().values(key_id=key_id, key_hash=hash_key(key), role=role, tenant=tenant.strip(),
                                              name=name, created_at=now()))
    return key


def create_key(role: str, tenant: str, name: str = "", settings: Settings | None = None) -> str:
    """Create an API key of workspace ``tenant`` (``support-agent keys create --role R --workspace W``)."""
    settings = settings or get_settings()
    store = open_store(settings)
    try:
        if not Workspaces(settings, store).exists(tenant):
            raise ValueError(f"unknown workspace '{tenant}': create it first with "
                             f"`support-agent workspace create {tenant} --data DIR`")
        return insert_key(store, role, tenant, name)
    finally:
        store.close()


def lookup(store: Store, key: str) -> Principal | None:
    """The principal of a valid, unrevoked key."""
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    k = t.api_keys.c
    rows = store.query(select(k.key_hash, k.role, k.tenant, k.name).where(k.key_id == parts[1], k.revoked_at.is_(None)))
    if not rows or not hmac.compare_digest(str(rows[0]["key_hash"]), hash_key(key.strip())):
        return None
    row = rows[0]
    return Principal(key_id=parts[1], role=str(row["role"]), tenant=str(row["tenant"]), name=str(row["name"] or ""))


def list_keys(store: Store, workspace: str | None = None) -> list[dict[str, object]]:
    """The keys (of ``workspace``, or all), newest first: id, role, workspace, name, created and revoked at; never a hash."""
    k = t.api_keys.c
    query = select(k.key_id, k.role, k.tenant, k.name, k.created_at, k.revoked_at).order_by(k.created_at.desc(), k.key_id)
    rows = store.query(query if workspace is None else query.where(k.tenant == workspace))
    return [{"key_id": r["key_id"], "role": r["role"], "workspace": r["tenant"], "name": r["name"] or "",
             "created_at": r["created_at"], "revoked_at": r["revoked_at"]} for r in rows]


def revoke_key(store: Store, key_id: str, workspace: str | None = None) -> bool:
    """Revoke a key (of ``workspace`` when given); False when there is no such key. Revoking twice keeps the first time."""
    k = t.api_keys.c
    scope = (k.key_id == key_id) if workspace is None else (k.key_id == key_id) & (k.tenant == workspace)
    with store.transaction() as tx:
        tx.execute(update(t.api_keys).where(scope, k.revoked_at.is_(None)).values(revoked_at=now()))
    return bool(store.query(select(k.key_id).where(scope)))


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


#: Declared as OpenAPI security schemes, so ``/docs`` has an Authorize button for either header.
BEARER = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer sda_…`")
API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="The same API key in `X-API-Key`")


def authenticate(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
    x_api_key: Annotated[str | None, Security(API_KEY)] = None,
) -> Principal:
    """The dependency resolving the caller's key (once per request: FastAPI caches it for every user)."""
    key = x_api_key
    authorization = request.headers.get("authorization")
    if authorization:
        if bearer is None or not bearer.credentials.strip():
            raise _unauthorized("Authorization header must be 'Bearer <API key>'")
        key = bearer.credentials
    if not key:
        raise _unauthorized("missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
    principal = lookup(request.app.state.desk.store, key)
    if principal is None:
        raise _unauthorized("invalid or revoked API key")
    return principal


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting keys with one of ``roles`` (admin is always admitted)."""
    allowed = set(roles) | {"admin"}

    def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(403, f"role '{principal.role}' may not do this; it needs one of: "
                                     f"{', '.join(sorted(allowed))}")
        return principal

    return dependency


Submitter = Annotated[Principal, Depends(require("submitter"))]
Reader = Annotated[Principal, Depends(require("submitter", "reviewer"))]
Reviewer = Annotated[Principal, Depends(require("reviewer"))]
Admin = Annotated[Principal, Depends(require())]
