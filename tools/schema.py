"""The store's schema, once, in code: SQLAlchemy Core tables rendered for SQLite and PostgreSQL.

The tables of the embedded tools (helpdesk, billing, tracker, notifier), the ledger and the
action outbox, the review bookkeeping (decisions, runs, feedback, gaps), workspaces and the
API's keys, ticket registry and audit trail, the webhook secrets and seen webhook events, and the
local traces of graph runs. Alembic migrations in ``tools/migrations`` move a database from one
version of this schema to the next; :func:`tools.store.migrate` runs them.

Ticket ids are unique per workspace. The embedded tools' ``ticket_id`` columns (notes, tags,
replies, money, escalations, account changes) hold the workspace-qualified ticket id
(:func:`thread_id_for`: the id itself in ``default``, ``ws~id`` elsewhere).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

#: Rowid keys: INTEGER PRIMARY KEY on SQLite, a BIGINT identity on PostgreSQL.
RowId = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Column[int]:
    return Column("id", RowId, Identity(), primary_key=True)


def _workspace() -> Column[str]:
    return Column("workspace", Text, nullable=False, server_default="default")


workspaces = Table(
    "workspaces", metadata,
    Column("workspace_id", Text, primary_key=True), Column("data_dir", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

tickets = Table(
    "tickets", metadata,
    _workspace(), Column("ticket_id", Text, nullable=False), Column("thread_id", Text), Column("customer_id", Text),
    Column("subject", Text), Column("body", Text), Column("status", Text, nullable=False, server_default="open"),
    Column("priority", Text), Column("owner", Text), Column("duplicate_of", Text),
    Column("created_at", Text, nullable=False), Column("updated_at", Text, nullable=False),
    PrimaryKeyConstraint("workspace", "ticket_id"),
    Index("tickets_by_customer", "workspace", "customer_id"),
)

notes = Table("notes", metadata, _id(), Column("ticket_id", Text), Column("body", Text), Column("created_at", Text))

tags = Table(
    "tags", metadata,
    Column("ticket_id", Text, primary_key=True), Column("tag", Text, primary_key=True), Column("visibility", Text),
    Column("created_at", Text),
)

outbox = Table(
    "outbox", metadata,
    _id(), Column("ticket_id", Text), Column("recipient", Text), Column("subject", Text), Column("body", Text),
    Column("created_at", Text),
)

money = Table(
    "money", metadata,
    _id(), Column("ticket_id", Text), Column("customer_id", Text), Column("kind", Text), Column("invoice", Text),
    Column("amount", Text), Column("reason", Text), Column("created_at", Text),
)

escalations = Table(
    "escalations", metadata,
    _id(), Column("ticket_id", Text), Column("team", Text), Column("summary", Text), Column("needs", Text),
    Column("created_at", Text),
)

notifications = Table(
    "notifications", metadata, _id(), Column("team", Text), Column("message", Text), Column("created_at", Text),
)

account_changes = Table(
    "account_changes", metadata,
    _id(), Column("ticket_id", Text), Column("customer_id", Text), Column("kind", Text), Column("detail", Text),
    Column("created_at", Text),
)

knowledge_gaps = Table(
    "knowledge_gaps", metadata,
    _id(), _workspace(), Column("ticket_id", Text), Column("category", Text), Column("query", Text),
    Column("top_score", Float), Column("created_at", Text),
)

ledger = Table(
    "ledger", metadata,
    Column("thread_id", Text, primary_key=True), Column("action_id", Text, primary_key=True),
    Column("action", Text, nullable=False), Column("args", Text), Column("tier", Text), Column("result", Text),
    Column("applied_at", Text, nullable=False),
)

action_outbox = Table(
    "action_outbox", metadata,
    Column("thread_id", Text, primary_key=True), Column("action_id", Text, primary_key=True),
    Column("interrupt_id", Text), Column("action", Text, nullable=False), Column("args", Text, nullable=False),
    Column("tier", Text), Column("status", Text, nullable=False), Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text), Column("created_at", Text, nullable=False), Column("updated_at", Text, nullable=False),
)

run_archive = Table(
    "run_archive", metadata,
    Column("thread_id", Text, primary_key=True), Column("workspace", Text, nullable=False),
    Column("view", Text, nullable=False), Column("archived_at", Text, nullable=False),
)

decisions = Table(
    "decisions", metadata,
    Column("thread_id", Text, primary_key=True), Column("interrupt_id", Text, primary_key=True),
    Column("decision", Text, nullable=False), Column("reviewer", Text), Column("payload", Text),
    Column("decided_at", Text, nullable=False), Column("completed_at", Text),
)

runs = Table(
    "runs", metadata,
    Column("thread_id", Text, primary_key=True), _workspace(), Column("ticket_id", Text), Column("customer_id", Text),
    Column("status", Text), Column("category", Text), Column("priority", Text), Column("sla_hours", Float),
    Column("risk_flags", Text), Column("summary", Text), Column("interrupt_id", Text),
    Column("created_at", Text, nullable=False), Column("updated_at", Text, nullable=False),
    Column("tiers", Text),  # permission tiers of the pending review's actions (JSON list), for the queue
    Index("runs_by_status", "status"),
)

feedback = Table(
    "feedback", metadata,
    _id(), _workspace(), Column("thread_id", Text), Column("ticket_id", Text), Column("category", Text),
    Column("kind", Text), Column("detail", Text), Column("created_at", Text),
)

api_keys = Table(
    "api_keys", metadata,
    Column("key_id", Text, primary_key=True), Column("key_hash", Text, nullable=False), Column("role", Text, nullable=False),
    Column("tenant", Text, nullable=False), Column("name", Text), Column("created_at", Text, nullable=False),
    Column("revoked_at", Text),
)

api_tickets = Table(
    "api_tickets", metadata,
    Column("thread_id", Text, primary_key=True), Column("tenant", Text, nullable=False), Column("ticket_id", Text),
    Column("idempotency_key", Text), Column("submitted_by", Text), Column("ticket", Text, nullable=False),
    Column("status", Text, nullable=False), Column("tiers", Text), Column("error", Text),
    Column("created_at", Text, nullable=False), Column("updated_at", Text, nullable=False),
    UniqueConstraint("tenant", "idempotency_key"),
    Index("api_tickets_by_ticket", "tenant", "ticket_id", unique=True),
)

audit = Table(
    "audit", metadata,
    _id(), Column("thread_id", Text, nullable=False), Column("event", Text, nullable=False), Column("actor", Text),
    Column("detail", Text), Column("at", Text, nullable=False),
    Index("audit_by_thread", "thread_id"),
)

viewers = Table(
    "viewers", metadata,
    Column("thread_id", Text, primary_key=True), Column("reviewer", Text, primary_key=True),
    Column("seen_at", Text, nullable=False),
)

messages = Table(
    "messages", metadata,
    Column("message_id", Text, primary_key=True), Column("thread_id", Text, nullable=False), Column("author", Text, nullable=False),
    Column("internal", Integer, nullable=False, server_default="0"), Column("body", Text, nullable=False),
    Column("created_by", Text), Column("status", Text, nullable=False), Column("at", Text, nullable=False),
    Column("processed_at", Text),
    Index("messages_by_thread", "thread_id"),
)

timers = Table(
    "timers", metadata,
    Column("thread_id", Text, primary_key=True), Column("kind", Text, primary_key=True), Column("fired_at", Text, nullable=False),
    Column("detail", Text),
)

traces = Table(
    "traces", metadata,
    Column("run_id", Text, primary_key=True), Column("thread_id", Text, nullable=False), Column("parent_id", Text),
    Column("name", Text, nullable=False), Column("kind", Text, nullable=False), Column("status", Text, nullable=False),
    Column("started_at", Text, nullable=False), Column("ended_at", Text), Column("duration_ms", Float),
    Column("inputs", Text), Column("outputs", Text), Column("error", Text),
    Index("traces_by_thread", "thread_id", "started_at"),
)

webhook_secrets = Table(
    "webhook_secrets", metadata,
    Column("secret_id", Text, primary_key=True), Column("workspace", Text, nullable=False),
    Column("secret", Text, nullable=False), Column("created_at", Text, nullable=False), Column("revoked_at", Text),
    Index("webhook_secrets_by_workspace", "workspace"),
)

webhook_events = Table(
    "webhook_events", metadata,
    Column("workspace", Text, primary_key=True), Column("event_id", Text, primary_key=True),
    Column("thread_id", Text, nullable=False), Column("ticket_id", Text, nullable=False),
    Column("outcome", Text, nullable=False), Column("signed_at", BigInteger, nullable=False),
    Column("received_at", Text, nullable=False),
    Index("webhook_events_by_received", "received_at"),
)

#: Separates a workspace from a ticket id in a thread id; ticket ids never contain it.
THREAD_SEPARATOR = "~"


def thread_id_for(workspace: str, ticket_id: str) -> str:
    """The thread (run) of ticket ``ticket_id`` in ``workspace``: the id itself in ``default``, ``ws~id`` elsewhere."""
    return ticket_id if workspace == "default" else f"{workspace}{THREAD_SEPARATOR}{ticket_id}"
