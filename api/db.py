"""Database plumbing: the checkpointer and the store for the configured database.

SQLite (default): ``state_dir/checkpoints.db`` (LangGraph's saver) and ``state_dir/support.db``
(the store). PostgreSQL (``SUPPORT_DATABASE_URL=postgresql://…``): one database for both — the
``PostgresSaver`` on a psycopg pool (the saver needs psycopg connections) and the store on its
SQLAlchemy pool; checkpoints, ledger, decisions, runs, audit and API keys all live there.
"""

from __future__ import annotations

import sqlite3
import time
import weakref
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from tools.settings import Settings
from tools.store import PING_IDLE_S, Store

#: Arbitrary constant: serialises ``PostgresSaver.setup()`` when several workers start together.
_SETUP_LOCK = 4_242_002


_RETURNED: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def _returned(conn: Any) -> None:
    """psycopg_pool ``reset``: remember when the connection came back to the pool."""
    _RETURNED[conn] = time.monotonic()


def _check_if_idle(conn: Any) -> None:
    """psycopg_pool ``check``: ping only a connection idle for ``PING_IDLE_S`` (as the store's pool does)."""
    from psycopg_pool import ConnectionPool

    returned = _RETURNED.get(conn)
    if returned is None or time.monotonic() - returned >= PING_IDLE_S:
        ConnectionPool.check_connection(conn)


def pool_for(url: str, size: int, timeout: float = 5.0) -> Any:
    """An open psycopg pool with the settings ``PostgresSaver`` needs (autocommit, dict rows).

    ``timeout`` bounds both the wait for a free connection and a new connection's connect, so an
    outage turns into a fast error (the API answers 503) instead of a 30-second hang.
    """
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(
        url, min_size=1, max_size=size, open=True, check=_check_if_idle, reset=_returned, timeout=timeout,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row, "connect_timeout": max(1, int(timeout))},
    )
    pool.wait(timeout=15)
    return pool


def open_store(settings: Settings, pool_size: int | None = None) -> Store:
    """The store of the configured database, migrated to the current schema."""
    return Store.from_settings(settings, pool_size)


def open_checkpointer(settings: Settings) -> BaseCheckpointSaver[Any]:
    """LangGraph's checkpointer for the configured database (set up once across workers)."""
    if not settings.uses_postgres:
        conn = sqlite3.connect(settings.state_dir / "checkpoints.db", check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'NORMAL' if settings.sqlite_synchronous == 'NORMAL' else 'FULL'}")
        return SqliteSaver(conn)
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
    return saver
