"""The helpdesk: tickets, internal notes, tags, status, owner and the outbox of replies.

``Helpdesk`` is the interface a Zendesk or Freshdesk adapter would implement;
``EmbeddedHelpdesk`` is the embedded one. Writes take an open transaction so that an
action and its ledger entry commit together.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select, update

from tools import schema as t
from tools.store import Store, Tx, insert_for, now


class Helpdesk(Protocol):
    """What the agent may do in a helpdesk."""

    def upsert_ticket(self, ticket: dict[str, Any], thread_id: str) -> None:
        """Record an incoming ticket."""

    def add_note(self, tx: Tx, ticket_id: str, body: str) -> int:
        """Add an internal note."""

    def add_tags(self, tx: Tx, ticket_id: str, tags: list[str], visibility: str) -> list[str]:
        """Add tags; returns those that were new."""

    def send_reply(self, tx: Tx, ticket_id: str, recipient: str, subject: str, body: str) -> int:
        """Queue a reply to the customer in the outbox."""

    def update(self, tx: Tx, ticket_id: str, **fields: str) -> None:
        """Set status, priority, owner or duplicate_of."""


class EmbeddedHelpdesk:
    """Embedded helpdesk on the shared store (SQLite file or PostgreSQL)."""

    def __init__(self, store: Store, workspace: str = "default") -> None:
        """Use ``store`` for every table; read and write only ``workspace``'s tickets."""
        self.store = store
        self.workspace = workspace

    def upsert_ticket(self, ticket: dict[str, Any], thread_id: str) -> None:
        """Record an incoming ticket (idempotent on its id)."""
        with self.store.transaction() as tx:
            tx.execute(insert_for(tx, t.tickets).values(
                ticket_id=ticket["id"], workspace=self.workspace, thread_id=thread_id, customer_id=ticket.get("customer_id"),
                subject=ticket["subject"], body=ticket["body"], created_at=now(), updated_at=now()).on_conflict_do_nothing())

    def add_note(self, tx: Tx, ticket_id: str, body: str) -> int:
        """Add an internal note."""
        return int(tx.execute(t.notes.insert().values(ticket_id=ticket_id, body=body, created_at=now())
                              .returning(t.notes.c.id)).scalar_one())

    def add_tags(self, tx: Tx, ticket_id: str, tags: list[str], visibility: str) -> list[str]:
        """Add tags; returns those that were new."""
        added = []
        for tag in tags:
            # RETURNING, not rowcount: an INSERT's rowcount is not reported on every driver (psycopg via SQLAlchemy: -1).
            new = tx.execute(insert_for(tx, t.tags).values(ticket_id=ticket_id, tag=tag, visibility=visibility, created_at=now())
                             .on_conflict_do_nothing().returning(t.tags.c.tag)).first()
            if new is not None:
                added.append(tag)
        return added

    def send_reply(self, tx: Tx, ticket_id: str, recipient: str, subject: str, body: str) -> int:
        """Queue a reply in the outbox (the embedded helpdesk's "sent" folder)."""
        return int(tx.execute(t.outbox.insert().values(ticket_id=ticket_id, recipient=recipient, subject=subject, body=body,
                                                       created_at=now()).returning(t.outbox.c.id)).scalar_one())

    def update(self, tx: Tx, ticket_id: str, **fields: str) -> None:
        """Set status, priority, owner or duplicate_of."""
        allowed = {"status", "priority", "owner", "duplicate_of"}
        if not set(fields) <= allowed:
            raise ValueError(f"cannot set ticket field(s) {sorted(set(fields) - allowed)}")
        c = t.tickets.c
        tx.execute(update(t.tickets).where(c.workspace == self.workspace, c.ticket_id == ticket_id)
                   .values(**fields, updated_at=now()))

    def recent_tickets(self, customer_id: str, exclude: str, limit: int = 5) -> list[dict[str, object]]:
        """The customer's latest tickets in this workspace (for context and duplicate links)."""
        c = t.tickets.c
        return self.store.query(
            select(c.ticket_id, c.subject, c.status, c.created_at)
            .where(c.workspace == self.workspace, c.customer_id == customer_id, c.ticket_id != exclude)
            .order_by(c.created_at.desc()).limit(limit))
