"""The embedded SQLite store behind the helpdesk, billing, tracker, notifier and the ledger.

One file (``state_dir/support.db``), WAL mode, one short connection per transaction so
that several processes can share it. ``transaction()`` opens ``BEGIN IMMEDIATE`` — the
write lock is taken up front, which makes "check, then write" sequences atomic across
processes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
  ticket_id TEXT PRIMARY KEY, thread_id TEXT, customer_id TEXT, subject TEXT, body TEXT,
  status TEXT NOT NULL DEFAULT 'open', priority TEXT, owner TEXT, duplicate_of TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, ticket_id TEXT, body TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS tags (ticket_id TEXT, tag TEXT, visibility TEXT, created_at TEXT,
  PRIMARY KEY (ticket_id, tag));
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, ticket_id TEXT, recipient TEXT, subject TEXT,
  body TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS money (id INTEGER PRIMARY KEY, ticket_id TEXT, customer_id TEXT, kind TEXT,
  invoice TEXT, amount TEXT, reason TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS escalations (id INTEGER PRIMARY KEY, ticket_id TEXT, team TEXT, summary TEXT,
  needs TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS notifications (id INTEGER PRIMARY KEY, team TEXT, message TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS account_changes (id INTEGER PRIMARY KEY, ticket_id TEXT, customer_id TEXT,
  kind TEXT, detail TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS knowledge_gaps (id INTEGER PRIMARY KEY, ticket_id TEXT, category TEXT,
  query TEXT, top_score REAL, created_at TEXT);
CREATE TABLE IF NOT EXISTS ledger (thread_id TEXT NOT NULL, action_id TEXT NOT NULL, action TEXT NOT NULL,
  args TEXT, tier TEXT, result TEXT, applied_at TEXT NOT NULL, PRIMARY KEY (thread_id, action_id));
CREATE TABLE IF NOT EXISTS decisions (thread_id TEXT NOT NULL, interrupt_id TEXT NOT NULL, decision TEXT NOT NULL,
  reviewer TEXT, payload TEXT, decided_at TEXT NOT NULL, completed_at TEXT, PRIMARY KEY (thread_id, interrupt_id));
CREATE TABLE IF NOT EXISTS runs (thread_id TEXT PRIMARY KEY, ticket_id TEXT, customer_id TEXT, status TEXT,
  category TEXT, priority TEXT, sla_hours REAL, risk_flags TEXT, summary TEXT, interrupt_id TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY, thread_id TEXT, ticket_id TEXT, category TEXT,
  kind TEXT, detail TEXT, created_at TEXT);
"""


def now() -> str:
    """UTC timestamp in ISO format, seconds precision."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """A SQLite file shared by the embedded tools."""

    def __init__(self, path: Path) -> None:
        """Create the file and its tables if needed."""
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database's write lock until it ends."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, object]]:
        """Run a read query and return plain dict rows."""
        conn = self._connect()
        try:
            return [dict(row) for row in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()
