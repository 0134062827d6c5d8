"""The permission tiers of a run's pending review, kept on the run row for the review queue.

Before, the queue took them from the API's submit row, and runs started by the CLI or a batch (which have
none) had their checkpoint read on every queue listing. Rows recorded before this revision keep ``NULL``;
the queue reads their tiers from the checkpoint, as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    """Add ``runs.tiers``."""
    op.add_column("runs", sa.Column("tiers", sa.Text))


def downgrade() -> None:
    """Drop ``runs.tiers``."""
    op.drop_column("runs", "tiers")
