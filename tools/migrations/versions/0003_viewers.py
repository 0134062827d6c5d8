"""Who has a ticket open in the reviewer console (the "also viewing" hint), shared by every API worker.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    """Create ``viewers`` (one row per ticket and reviewer, refreshed while the console shows the ticket)."""
    op.create_table(
        "viewers",
        sa.Column("thread_id", sa.Text, nullable=False), sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("seen_at", sa.Text, nullable=False), sa.PrimaryKeyConstraint("thread_id", "reviewer"),
    )


def downgrade() -> None:
    """Drop ``viewers``."""
    op.drop_table("viewers")
