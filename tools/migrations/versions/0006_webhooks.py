"""Webhook intake: per-workspace signing secrets and the event ids already seen.

``webhook_secrets``: the shared HMAC secrets a help desk signs its ticket events with (stored as
they are: verifying an HMAC needs the secret itself). ``webhook_events``: one row per event id
accepted per workspace, with the ticket it named and what happened to it, for replay protection;
rows older than twice the timestamp tolerance are dropped as new events arrive (:mod:`api.webhooks`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-16
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    """Create ``webhook_secrets`` and ``webhook_events``."""
    T = sa.Text
    op.create_table(
        "webhook_secrets",
        sa.Column("secret_id", T, nullable=False), sa.Column("workspace", T, nullable=False),
        sa.Column("secret", T, nullable=False), sa.Column("created_at", T, nullable=False), sa.Column("revoked_at", T),
        sa.PrimaryKeyConstraint("secret_id"),
    )
    op.create_index("webhook_secrets_by_workspace", "webhook_secrets", ["workspace"])
    op.create_table(
        "webhook_events",
        sa.Column("workspace", T, nullable=False), sa.Column("event_id", T, nullable=False),
        sa.Column("thread_id", T, nullable=False), sa.Column("ticket_id", T, nullable=False),
        sa.Column("outcome", T, nullable=False), sa.Column("signed_at", sa.BigInteger, nullable=False),
        sa.Column("received_at", T, nullable=False), sa.PrimaryKeyConstraint("workspace", "event_id"),
    )
    op.create_index("webhook_events_by_received", "webhook_events", ["received_at"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index("webhook_events_by_received", table_name="webhook_events")
    op.drop_table("webhook_events")
    op.drop_index("webhook_secrets_by_workspace", table_name="webhook_secrets")
    op.drop_table("webhook_secrets")
