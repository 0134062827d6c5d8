"""Webhook intake: per-workspace signing secrets, the signature check and replay protection.

A help desk signs each ticket event with its workspace's shared secret:
``X-Support-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>`` with
``X-Support-Timestamp: <unix seconds>`` and ``X-Support-Workspace: <workspace>``. The secret is a
*shared* secret (the receiver must hold it to recompute the HMAC), so it is stored as it is, shown
once when created, and never logged. Several secrets of a workspace may be active while a sender
switches over (``support-agent webhooks secret --keep``); revoke the old one afterwards.

Each accepted event id is recorded per workspace (``webhook_events``) with the ticket it named and
its outcome, so a replay is answered from the record instead of running anything. A replay older
than the tolerance is refused by its timestamp anyway, so rows older than twice the tolerance are
dropped whenever a new event is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, select, update

from api.intake import TicketIn
from tools import schema as t
from tools.store import Store, insert_for, now
from tools.workspaces import check_id

PREFIX = "whsec"
SCHEME = "sha256"
s_ = t.webhook_secrets.c
e_ = t.webhook_events.c


class WebhookTicket(TicketIn):
    """The ticket inside an event: its id is the help desk's own and is required (it is what dedups runs)."""

    id: str = Field(max_length=128, pattern=r"^[A-Za-z0-9._:-]+$", description="The help desk's ticket id.")


class WebhookEvent(BaseModel):
    """A help desk's ticket event: its unique id and the ticket."""

    model_config = ConfigDict(extra="ignore")
    event_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:-]+$",
                          description="Unique per event; a replay of an id already seen runs nothing.")
    ticket: WebhookTicket

    @field_validator("event_id")
    @classmethod
    def _no_dots_only(cls, value: str) -> str:
        if set(value) <= {"."}:
            raise ValueError("must not be made of dots only")
        return value


class SignatureError(Exception):
    """The request is not signed by a secret of the workspace it names (the reason never says which part differed)."""


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """The ``X-Support-Signature`` value of ``body`` sent at ``timestamp``: ``sha256=<hex>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def verify(secrets_: list[str], timestamp: str | None, signature: str | None, body: bytes, tolerance_s: int,
           at: float | None = None) -> int:
    """The signed timestamp, if ``signature`` is ``body``'s under one of ``secrets_``; else :class:`SignatureError`.

    An empty ``secrets_`` (unknown workspace, or no active secret) fails like a wrong signature.
    """
    if not timestamp or not signature:
        raise SignatureError("missing X-Support-Timestamp or X-Support-Signature header")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("X-Support-Timestamp must be unix seconds")
    signed_at = int(timestamp)
    current = datetime.now(UTC).timestamp() if at is None else at
    if abs(current - signed_at) > tolerance_s:
        raise SignatureError(f"X-Support-Timestamp is more than {tolerance_s} s from the server's clock "
                             "(a stale or replayed request, or a skewed clock)")
    # Compute at least one HMAC even without a secret, so an unknown workspace takes as long as a wrong signature.
    candidates = secrets_ or [secrets.token_hex(16)]
    matched = False
    for secret in candidates:
        matched |= hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.strip().encode())
    if not matched or not secrets_:
        raise SignatureError(f"invalid signature: expected '{SCHEME}=<hex HMAC-SHA256 of \"<timestamp>.<raw body>\">' "
                             "made with an active secret of the workspace")
    return signed_at


# -- secrets ----------------------------------------------------------------------------------------


def create_secret(store: Store, workspace: str, keep_others: bool = False) -> tuple[str, str]:
    """A new secret of ``workspace`` (id, secret); the others are revoked unless ``keep_others``."""
    check_id(workspace)
    secret_id, secret = secrets.token_hex(6), f"{PREFIX}_{secrets.token_urlsafe(32)}"
    with store.transaction() as tx:
        if not keep_others:
            tx.execute(update(t.webhook_secrets).where(s_.workspace == workspace, s_.revoked_at.is_(None))
                       .values(revoked_at=now()))
        tx.execute(t.webhook_secrets.insert().values(secret_id=secret_id, workspace=workspace, secret=secret,
                                                     created_at=now()))
    return secret_id, secret


def active_secrets(store: Store, workspace: str) -> list[str]:
    """The secrets a request of ``workspace`` may be signed with."""
    rows = store.query(select(s_.secret).where(s_.workspace == workspace, s_.revoked_at.is_(None)))
    return [str(r["secret"]) for r in rows]


def list_secrets(store: Store, workspace: str | None = None) -> list[dict[str, Any]]:
    """Secrets (of ``workspace``, or all), newest first: id, workspace, created, revoked; never the secret."""
    query = select(s_.secret_id, s_.workspace, s_.created_at, s_.revoked_at).order_by(s_.created_at.desc(), s_.secret_id)
    return store.query(query if workspace is None else query.where(s_.workspace == workspace))


def revoke_secret(store: Store, secret_id: str) -> bool:
    """Revoke a secret by its id; False when there is none. Revoking twice keeps the first time."""
    with store.transaction() as tx:
        tx.execute(update(t.webhook_secrets).where(s_.secret_id == secret_id, s_.revoked_at.is_(None))
                   .values(revoked_at=now()))
    return bool(store.query(select(s_.secret_id).where(s_.secret_id == secret_id)))


# -- events -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """An event id recorded earlier: the ticket it named and what happened then."""

    thread_id: str
    ticket_id: str
    outcome: str


def seen(store: Store, workspace: str, event_id: str) -> Seen | None:
    """The record of ``event_id`` in ``workspace``, if it was accepted before."""
    rows = store.query(select(e_.thread_id, e_.ticket_id, e_.outcome).where(e_.workspace == workspace, e_.event_id == event_id))
    return Seen(str(rows[0]["thread_id"]), str(rows[0]["ticket_id"]), str(rows[0]["outcome"])) if rows else None


def record(store: Store, workspace: str, event_id: str, thread_id: str, ticket_id: str, outcome: str, signed_at: int,
           tolerance_s: int) -> Seen:
    """Record an event once (the first record wins and is returned) and drop records past twice the tolerance."""
    cutoff = (datetime.now(UTC) - timedelta(seconds=2 * tolerance_s)).isoformat(timespec="seconds")
    with store.transaction() as tx:
        tx.execute(delete(t.webhook_events).where(e_.received_at < cutoff))
        tx.execute(insert_for(tx, t.webhook_events).values(
            workspace=workspace, event_id=event_id, thread_id=thread_id, ticket_id=ticket_id, outcome=outcome,
            signed_at=signed_at, received_at=now()).on_conflict_do_nothing())
    first = seen(store, workspace, event_id)
    assert first is not None  # just written, or written by a concurrent delivery of the same event
    return first
