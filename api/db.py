"""Database plumbing: the checkpointer and the store for the configured database.

SQLite (default): ``state_dir/checkpoints.db`` and ``state_dir/support.db``. PostgreSQL
(``SUPPORT_DATABASE_URL=postgresql://…``): one connection pool per process shared by the
``PostgresSaver`` and the ``PostgresStore`` — checkpoints, ledger, decisions, runs, audit and
API keys all live in that one database.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from tools.settings import Settings
from tools.store import AnyStore, PostgresStore, Store

#: Arbitrary constant: serialises ``PostgresSaver.setup()`` when several workers start together.
_SETUP_LOCK = 4_242_002

API_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (key_id TEXT PRIMARY KEY, key_hash TEXT NOT NULL, role TEXT NOT NULL,
  tenant TEXT NOT NULL, name TEXT, created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS api_tickets (thread_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, idempotency_key TEXT,
  submitted_by TEXT, ticket TEXT NOT NULL, status TEXT NOT NULL, tiers TEXT, error TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (tenant, idempotency_key));
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, thread_id TEXT NOT NULL, event TEXT NOT NULL,
  actor TEXT, detail TEXT, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_thread ON audit (thread_id);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status)
"""


def pool_for(url: str, size: int, timeout: float = 5.0) -> Any:
    """An open psycopg pool with the settings ``PostgresSaver`` needs (autocommit, dict rows).

    ``timeout`` bounds both the wait for a free connection and a new connection's connect, so an
    outage turns into a fast error (the API answers 503) instead of a 30-second hang.
    """
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(
        url, min_size=1, max_size=size, open=True, check=ConnectionPool.check_connection, timeout=timeout,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row, "connect_timeout": max(1, int(timeout))},
    )
    pool.wait(timeout=15)
    return pool


def open_store(settings: Settings, pool_size: int = 2) -> AnyStore:
    """The app's tables (without the engine): for the CLI's ``keys create`` and for tests."""
    store: AnyStore = PostgresStore(pool_for(settings.database_url, pool_size, settings.db_timeout_s)) if settings.uses_postgres \
        else Store(settings.sqlite_path)
    store.ensure(API_SCHEMA)
    return store


def open_database(settings: Settings) -> tuple[BaseCheckpointSaver[Any], AnyStore | None]:
    """The checkpointer and, on PostgreSQL, the store to use instead of the engine's SQLite file."""
    if not settings.uses_postgres:
        conn = sqlite3.connect(settings.state_dir / "checkpoints.db", check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return SqliteSaver(conn), None
    from langgraph.checkpoint.postgres import PostgresSaver

    pool = pool_for(settings.database_url, settings.db_pool_size, settings.db_timeout_s)
    saver = PostgresSaver(pool)
    with pool.connection() as conn:  # setup() migrates; two workers starting together must not race
        # Poll rather than block: setup() runs CREATE INDEX CONCURRENTLY, which waits for every open
        # transaction — including a statement blocked on this lock — and would wait forever.
        while not conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (_SETUP_LOCK,)).fetchone()["got"]:
            time.sleep(0.2)
        try:
            saver.setup()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
    return saver, PostgresStore(pool)
