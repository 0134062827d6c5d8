"""Local traces of graph runs.

``traces``: one row per graph run (``kind`` = ``graph``: a submit, a resume, a follow-up round) and
per node run inside it (``kind`` = ``node``), with its parent run, start and end, duration and
small PII-redacted summaries of its inputs and outputs (:mod:`api.tracing` writes them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    """Create ``traces``."""
    T = sa.Text
    op.create_table(
        "traces",
        sa.Column("run_id", T, nullable=False), sa.Column("thread_id", T, nullable=False), sa.Column("parent_id", T),
        sa.Column("name", T, nullable=False), sa.Column("kind", T, nullable=False), sa.Column("status", T, nullable=False),
        sa.Column("started_at", T, nullable=False), sa.Column("ended_at", T), sa.Column("duration_ms", sa.Float),
        sa.Column("inputs", T), sa.Column("outputs", T), sa.Column("error", T), sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index("traces_by_thread", "traces", ["thread_id", "started_at"])


def downgrade() -> None:
    """Drop ``traces``."""
    op.drop_index("traces_by_thread", table_name="traces")
    op.drop_table("traces")
