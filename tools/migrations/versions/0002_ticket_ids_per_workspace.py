"""Ticket ids are unique per workspace, not across the deployment.

``tickets`` is keyed by (workspace, ticket_id); ``api_tickets`` gains ``ticket_id`` (the id the
workspace uses, the thread id being ``ws~id`` outside ``default``), unique per tenant. Rows
are copied, nothing is dropped: existing ids were globally unique, so they stay unique.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

COLUMNS = ("workspace", "ticket_id", "thread_id", "customer_id", "subject", "body", "status", "priority", "owner",
           "duplicate_of", "created_at", "updated_at")


def upgrade() -> None:
    """Re-key ``tickets``; add and back-fill ``api_tickets.ticket_id``."""
    T = sa.Text
    op.create_table(
        "tickets_v2",
        sa.Column("workspace", T, nullable=False, server_default="default"), sa.Column("ticket_id", T, nullable=False),
        sa.Column("thread_id", T), sa.Column("customer_id", T), sa.Column("subject", T), sa.Column("body", T),
        sa.Column("status", T, nullable=False, server_default="open"), sa.Column("priority", T), sa.Column("owner", T),
        sa.Column("duplicate_of", T), sa.Column("created_at", T, nullable=False), sa.Column("updated_at", T, nullable=False),
        sa.PrimaryKeyConstraint("workspace", "ticket_id"),
    )
    columns = ", ".join(COLUMNS)
    op.execute(f"INSERT INTO tickets_v2 ({columns}) SELECT {columns} FROM tickets")  # noqa: S608 - fixed names
    op.drop_index("tickets_by_customer", table_name="tickets")
    op.drop_table("tickets")
    op.rename_table("tickets_v2", "tickets")
    if op.get_bind().dialect.name == "postgresql":  # keep the constraint name a fresh database would have
        op.execute("ALTER TABLE tickets RENAME CONSTRAINT tickets_v2_pkey TO tickets_pkey")
    op.create_index("tickets_by_customer", "tickets", ["workspace", "customer_id"])

    op.add_column("api_tickets", sa.Column("ticket_id", T))
    op.execute("UPDATE api_tickets SET ticket_id = thread_id")
    op.create_index("api_tickets_by_ticket", "api_tickets", ["tenant", "ticket_id"], unique=True)


def downgrade() -> None:
    """Ticket ids global again (fails if two workspaces now share an id)."""
    op.drop_index("api_tickets_by_ticket", table_name="api_tickets")
    op.drop_column("api_tickets", "ticket_id")
