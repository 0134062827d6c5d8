"""Baseline: the schema of the release before migrations (adopts databases it created).

Creates every table that is missing and gives stores older than workspaces their
``workspace`` columns, so a database made by any earlier release ends at this revision with
its rows intact. The tables are a frozen copy: later changes belong in later revisions.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
T = sa.Text


def _tables(md: sa.MetaData) -> None:
    def rid() -> sa.Column[int]:
        return sa.Column("id", RowId, sa.Identity(), primary_key=True)

    def ws() -> sa.Column[str]:
        return sa.Column("workspace", T, nullable=False, server_default="default")

    def c(name: str, type_: Any = T, **kw: Any) -> sa.Column[Any]:
        return sa.Column(name, type_, **kw)

    sa.Table("workspaces", md, c("workspace_id", primary_key=True), c("data_dir", nullable=False), c("created_at", nullable=False))
    sa.Table("tickets", md, c("ticket_id", primary_key=True), ws(), c("thread_id"), c("customer_id"), c("subject"), c("body"),
             c("status", nullable=False, server_default="open"), c("priority"), c("owner"), c("duplicate_of"),
             c("created_at", nullable=False), c("updated_at", nullable=False),
             sa.Index("tickets_by_customer", "workspace", "customer_id"))
    sa.Table("notes", md, rid(), c("ticket_id"), c("body"), c("created_at"))
    sa.Table("tags", md, c("ticket_id", primary_key=True), c("tag", primary_key=True), c("visibility"), c("created_at"))
    sa.Table("outbox", md, rid(), c("ticket_id"), c("recipient"), c("subject"), c("body"), c("created_at"))
    sa.Table("money", md, rid(), c("ticket_id"), c("customer_id"), c("kind"), c("invoice"), c("amount"), c("reason"),
             c("created_at"))
    sa.Table("escalations", md, rid(), c("ticket_id"), c("team"), c("summary"), c("needs"), c("created_at"))
    sa.Table("notifications", md, rid(), c("team"), c("message"), c("created_at"))
    sa.Table("account_changes", md, rid(), c("ticket_id"), c("customer_id"), c("kind"), c("detail"), c("created_at"))
    sa.Table("knowledge_gaps", md, rid(), ws(), c("ticket_id"), c("category"), c("query"), c("top_score", sa.Float),
             c("created_at"))
    sa.Table("ledger", md, c("thread_id", primary_key=True), c("action_id", primary_key=True), c("action", nullable=False),
             c("args"), c("tier"), c("result"), c("applied_at", nullable=False))
    sa.Table("action_outbox", md, c("thread_id", primary_key=True), c("action_id", primary_key=True), c("interrupt_id"),
             c("action", nullable=False), c("args", nullable=False), c("tier"), c("status", nullable=False),
             c("attempts", sa.Integer, nullable=False, server_default="0"), c("last_error"),
             c("created_at", nullable=False), c("updated_at", nullable=False))
    sa.Table("run_archive", md, c("thread_id", primary_key=True), c("workspace", nullable=False), c("view", nullable=False),
             c("archived_at", nullable=False))
    sa.Table("decisions", md, c("thread_id", primary_key=True), c("interrupt_id", primary_key=True),
             c("decision", nullable=False), c("reviewer"), c("payload"), c("decided_at", nullable=False), c("completed_at"))
    sa.Table("runs", md, c("thread_id", primary_key=True), ws(), c("ticket_id"), c("customer_id"), c("status"), c("category"),
             c("priority"), c("sla_hours", sa.Float), c("risk_flags"), c("summary"), c("interrupt_id"),
             c("created_at", nullable=False), c("updated_at", nullable=False), sa.Index("runs_by_status", "status"))
    sa.Table("feedback", md, rid(), ws(), c("thread_id"), c("ticket_id"), c("category"), c("kind"), c("detail"),
             c("created_at"))
    sa.Table("api_keys", md, c("key_id", primary_key=True), c("key_hash", nullable=False), c("role", nullable=False),
             c("tenant", nullable=False), c("name"), c("created_at", nullable=False), c("revoked_at"))
    sa.Table("api_tickets", md, c("thread_id", primary_key=True), c("tenant", nullable=False), c("idempotency_key"),
             c("submitted_by"), c("ticket", nullable=False), c("status", nullable=False), c("tiers"), c("error"),
             c("created_at", nullable=False), c("updated_at", nullable=False), sa.UniqueConstraint("tenant", "idempotency_key"))
    sa.Table("audit", md, rid(), c("thread_id", nullable=False), c("event", nullable=False), c("actor"), c("detail"),
             c("at", nullable=False), sa.Index("audit_by_thread", "thread_id"))


#: Tables that gained a ``workspace`` column in the release that introduced workspaces.
WORKSPACE_TABLES = ("tickets", "knowledge_gaps", "runs", "feedback")


def upgrade() -> None:
    """Create what is missing; add ``workspace`` to tables made before workspaces existed."""
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    for name in WORKSPACE_TABLES:
        if name in existing and "workspace" not in {col["name"] for col in inspector.get_columns(name)}:
            op.add_column(name, sa.Column("workspace", sa.Text, nullable=False, server_default="default"))
    md = sa.MetaData()
    _tables(md)
    md.create_all(bind, checkfirst=True)  # tables and the indexes of tables it creates
    for table in md.tables.values():
        if table.name in existing:
            names = {ix["name"] for ix in sa.inspect(bind).get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in names:
                    index.create(bind)


def downgrade() -> None:
    """The baseline is where history starts."""
    raise NotImplementedError("0001 is the baseline; there is nothing older to go back to")
