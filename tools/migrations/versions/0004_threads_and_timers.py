"""A ticket's thread and the scheduler's timers.

``messages``: every message added to a ticket after it was submitted (customer replies, agent notes),
stored before the run sees it, so none is lost whatever happens next. ``timers``: one row per fired
timer (SLA warning, SLA breach, approval escalation, approval expiry) and ticket; the primary key
makes each fire once across workers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    """Create ``messages`` and ``timers``."""
    T = sa.Text
    op.create_table(
        "messages",
        sa.Column("message_id", T, nullable=False), sa.Column("thread_id", T, nullable=False), sa.Column("author", T, nullable=False),
        sa.Column("internal", sa.Integer, nullable=False, server_default="0"), sa.Column("body", T, nullable=False),
        sa.Column("created_by", T), sa.Column("status", T, nullable=False), sa.Column("at", T, nullable=False),
        sa.Column("processed_at", T), sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("messages_by_thread", "messages", ["thread_id"])
    op.create_table(
        "timers",
        sa.Column("thread_id", T, nullable=False), sa.Column("kind", T, nullable=False), sa.Column("fired_at", T, nullable=False),
        sa.Column("detail", T), sa.PrimaryKeyConstraint("thread_id", "kind"),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("timers")
    op.drop_index("messages_by_thread", table_name="messages")
    op.drop_table("messages")
