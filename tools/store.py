"""The store behind the helpdesk, billing, tracker, notifier and the ledger: SQLite or PostgreSQL.

``Store`` is the embedded default: one file (``state_dir/support.db``), WAL mode, one short
connection per transaction so that several processes can share it. ``transaction()`` opens
``BEGIN IMMEDIATE`` — the write lock is taken up front, which makes "check, then write"
sequences atomic across processes.

``PostgresStore`` offers the same interface on a psycopg connection pool (same SQL, written
with ``?`` placeholders and translated). A "check, then write" sequence names a ``lock`` key,
taken as a transaction-scoped advisory lock, and every such table also has a unique key, so
the database refuses a second row even if a caller forgets the lock.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (workspace_id TEXT PRIMARY KEY, data_dir TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
  ticket_id TEXT PRIMARY KEY, workspace TEXT NOT NULL DEFAULT 'default', thread_id TEXT, customer_id TEXT, subject TEXT, body TEXT,
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
CREATE TABLE IF NOT EXISTS knowledge_gaps (id INTEGER PRIMARY KEY, workspace TEXT NOT NULL DEFAULT 'default', ticket_id TEXT, category TEXT,
  query TEXT, top_score REAL, created_at TEXT);
CREATE TABLE IF NOT EXISTS ledger (thread_id TEXT NOT NULL, action_id TEXT NOT NULL, action TEXT NOT NULL,
  args TEXT, tier TEXT, result TEXT, applied_at TEXT NOT NULL, PRIMARY KEY (thread_id, action_id));
CREATE TABLE IF NOT EXISTS action_outbox (thread_id TEXT NOT NULL, action_id TEXT NOT NULL, interrupt_id TEXT,
  action TEXT NOT NULL, args TEXT NOT NULL, tier TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (thread_id, action_id));
CREATE TABLE IF NOT EXISTS run_archive (thread_id TEXT PRIMARY KEY, workspace TEXT NOT NULL, view TEXT NOT NULL,
  archived_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (thread_id TEXT NOT NULL, interrupt_id TEXT NOT NULL, decision TEXT NOT NULL,
  reviewer TEXT, payload TEXT, decided_at TEXT NOT NULL, completed_at TEXT, PRIMARY KEY (thread_id, interrupt_id));
CREATE TABLE IF NOT EXISTS runs (thread_id TEXT PRIMARY KEY, workspace TEXT NOT NULL DEFAULT 'default', ticket_id TEXT,
  customer_id TEXT, status TEXT,
  category TEXT, priority TEXT, sla_hours REAL, risk_flags TEXT, summary TEXT, interrupt_id TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY, workspace TEXT NOT NULL DEFAULT 'default', thread_id TEXT,
  ticket_id TEXT, category TEXT,
  kind TEXT, detail TEXT, created_at TEXT);
CREATE INDEX IF NOT EXISTS tickets_by_customer ON tickets (workspace, customer_id);
"""

#: Tables that gained a ``workspace`` column; stores created before it get the column at start.
#: (A stop-gap until the schema is managed by migrations.)
WORKSPACE_TABLES = ("tickets", "knowledge_gaps", "runs", "feedback")

#: Arbitrary constant: the advisory lock that serialises schema creation across workers.
_SCHEMA_LOCK = 4_242_001


def now() -> str:
    """UTC timestamp in ISO format, seconds precision."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Cursor(Protocol):
    """What callers use of a cursor (sqlite3 and psycopg alike)."""

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""

    def fetchone(self) -> Any:
        """The next row (``row["column"]`` works on both dialects) or None."""

    def fetchall(self) -> list[Any]:
        """The remaining rows."""


class Tx(Protocol):
    """An open transaction: ``execute`` with ``?`` placeholders, as on a ``sqlite3.Connection``."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any:
        """Run one statement; returns a :class:`Cursor`."""


def statements(script: str) -> list[str]:
    """The statements of a DDL script (no semicolons inside our literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]


class Store:
    """A SQLite file shared by the embedded tools."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        """Create the file and its tables if needed."""
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            for table in WORKSPACE_TABLES:
                columns = [r["name"] for r in conn.execute(f"PRAGMA table_info({table})")]
                if columns and "workspace" not in columns:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN workspace TEXT NOT NULL DEFAULT 'default'")
            conn.executescript(SCHEMA)
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database's write lock until it ends.

        ``lock`` names what the caller checks-then-writes; SQLite's write lock already covers it.
        """
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

    def ensure(self, schema: str) -> None:
        """Create extra tables (``CREATE TABLE IF NOT EXISTS …`` statements)."""
        conn = self._connect()
        try:
            conn.executescript(schema)
        finally:
            conn.close()

    def ping(self) -> None:
        """Raise if the database does not answer."""
        self.query("SELECT 1")

    @contextmanager
    def leader(self, name: str) -> Iterator[bool]:
        """Try to become the one process doing ``name`` (a file lock); yields whether it did."""
        import fcntl

        with open(self.path.with_name(f"{self.path.name}.{name}.lock"), "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        """Nothing to release: connections are per transaction."""


@lru_cache(maxsize=256)
def to_pyformat(sql: str) -> str:
    """Translate ``?`` placeholders to psycopg's ``%s`` (and escape literal ``%``)."""
    return sql.replace("%", "%%").replace("?", "%s")


def to_postgres_ddl(script: str) -> str:
    """SQLite DDL → PostgreSQL: integer rowid keys become identity columns."""
    return re.sub(r"\bid INTEGER PRIMARY KEY\b", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", script)


class PgTx:
    """A psycopg connection inside a transaction, speaking the ``?`` placeholder style."""

    def __init__(self, conn: Connection[Any]) -> None:
        """Wrap ``conn`` (rows as dicts)."""
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> Any:
        """Run one statement; returns the psycopg cursor."""
        return self.conn.execute(to_pyformat(sql), tuple(params))


class PostgresStore:
    """The same tables and interface as :class:`Store`, in a PostgreSQL database."""

    dialect = "postgres"

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        """Use ``pool`` (autocommit connections with ``dict_row``) and create the tables."""
        self.pool = pool
        self.ensure(SCHEMA)

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[PgTx]:
        """A transaction; ``lock`` serialises "check, then write" sequences on the same key."""
        with self.pool.connection() as conn, conn.transaction():
            if lock is not None:
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (lock,))
            yield PgTx(conn)

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, object]]:
        """Run a read query and return plain dict rows."""
        with self.pool.connection() as conn:
            return [dict(row) for row in conn.execute(to_pyformat(sql), params).fetchall()]

    def ensure(self, schema: str) -> None:
        """Create tables once, even when several workers start together."""
        with self.transaction() as tx:
            tx.execute(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
            for table in WORKSPACE_TABLES:
                row = tx.conn.execute("SELECT to_regclass(%s) AS t", (table,)).fetchone()
                if row is not None and row["t"] is not None:
                    tx.conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS workspace TEXT NOT NULL DEFAULT 'default'".encode())
            for statement in statements(to_postgres_ddl(schema)):
                tx.conn.execute(statement.encode())

    def ping(self) -> None:
        """Raise if the database does not answer."""
        self.query("SELECT 1")

    @contextmanager
    def leader(self, name: str) -> Iterator[bool]:
        """Try to become the one process doing ``name`` (a session advisory lock); yields whether it did."""
        with self.pool.connection() as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0)) AS got", (name,)).fetchone()
            got = bool(row["got"])
            try:
                yield got
            finally:
                if got:
                    conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (name,))

    def close(self) -> None:
        """Close the pool."""
        self.pool.close()


AnyStore = Store | PostgresStore
