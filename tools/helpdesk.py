"""The helpdesk: tickets, internal notes, tags, status, owner and the outbox of replies.

``Helpdesk`` is the interface a Zendesk or Freshdesk adapter would implement;
``EmbeddedHelpdesk`` is the embedded one. Writes take an open transaction so that an
action and its ledger entry commit together.
"""

from __future__ import annotations

from typing import Any, Protocol

from tools.store import AnyStore, Tx, now


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

    def __init__(self, store: AnyStore, workspace: str = "default") -> None:
        """Use ``store`` for every table; read and write only ``workspace``'s tickets."""
        self.store = store
        self.workspace = workspace

    def upsert_ticket(self, ticket: dict[str, Any], thread_id: str) -> None:
        """Record an incoming ticket (idempotent on its id)."""
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO tickets (ticket_id, workspace, thread_id, customer_id, subject, body, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ticket_id) DO NOTHING",
                (ticket["id"], self.workspace, thread_id, ticket.get("customer_id"), ticket["subject"], ticket["body"], now(), now()),
            )

    def add_note(self, tx: Tx, ticket_id: str, body: str) -> int:
        """Add an internal note."""
        cur = tx.execute("INSERT INTO notes (ticket_id, body, created_at) VALUES (?, ?, ?) RETURNING id",
                         (ticket_id, body, now()))
        return int(cur.fetchone()["id"])

    def add_tags(self, tx: Tx, ticket_id: str, tags: list[str], visibility: str) -> list[str]:
        """Add tags; returns those that were new."""
        added = []
        for tag in tags:
            cur = tx.execute(
                "INSERT INTO tags (ticket_id, tag, visibility, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (ticket_id, tag, visibility, now()),
            )
            if cur.rowcount:
                added.append(tag)
        return added

    def send_reply(self, tx: Tx, ticket_id: str, recipient: str, subject: str, body: str) -> int:
        """Queue a reply in the outbox (the embedded helpdesk's "sent" folder)."""
        cur = tx.execute(
            "INSERT INTO outbox (ticket_id, recipient, subject, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (ticket_id, recipient, subject, body, now()),
        )
        return int(cur.fetchone()["id"])

    def update(self, tx: Tx, ticket_id: str, **fields: str) -> None:
        """Set status, priority, owner or duplicate_of."""
        allowed = {"status", "priority", "owner", "duplicate_of"}
        for key, value in fields.items():
            if key not in allowed:
                raise ValueError(f"cannot set ticket field '{key}'")
            tx.execute(f"UPDATE tickets SET {key} = ?, updated_at = ? WHERE ticket_id = ?", (value, now(), ticket_id))  # noqa: S608

    def recent_tickets(self, customer_id: str, exclude: str, limit: int = 5) -> list[dict[str, object]]:
        """The customer's latest tickets in this workspace (for context and duplicate links)."""
        return self.store.query(
            "SELECT ticket_id, subject, status, created_at FROM tickets WHERE workspace = ? AND customer_id = ? "
            "AND ticket_id != ? ORDER BY created_at DESC LIMIT ?", (self.workspace, customer_id, exclude, limit),
        )
