"""The store behind the helpdesk, billing, tracker, notifier, the ledger and the API: SQLAlchemy Core.

One schema in code (:mod:`tools.schema`), both dialects rendered from it: SQLite by default
(``state_dir/support.db``, WAL mode) and PostgreSQL (``SUPPORT_DATABASE_URL``). Alembic
migrations (``tools/migrations``) bring a database to the current schema at start — serialised
across workers by a lock — and with ``support-agent db upgrade``.

Connections come from a pool and live across transactions (closing a SQLite connection after
every transaction flushed the WAL each time). ``transaction(lock=…)`` makes a "check, then
write" sequence atomic across processes: SQLite takes its write lock up front
(``BEGIN IMMEDIATE``); PostgreSQL takes a transaction-scoped advisory lock on the key, and every
such table also has a unique key, so the database refuses a second row even if a caller forgets
the lock.
"""

from __future__ import annotations

import fcntl
import functools
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Executable, Table, create_engine, event, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

from tools.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")

#: Arbitrary constant: the advisory lock that serialises migrations across PostgreSQL workers.
_MIGRATION_LOCK = 4_242_001

Tx = Connection
"""An open transaction (a SQLAlchemy connection inside ``begin()``)."""

#: A pooled PostgreSQL connection back in the pool for less than this is used without a ping. A ping on
#: every checkout (``pool_pre_ping``) cost ~10 round trips a ticket; a connection that broke within the
#: window fails its statement instead, SQLAlchemy sees a disconnect and invalidates the pool (one 503).
PING_IDLE_S = 2.0


def _ping_if_idle(engine: Engine, dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """Checkout: ping a connection that sat idle; a dead one is replaced (SQLAlchemy's pessimistic recipe)."""
    from sqlalchemy.exc import DisconnectionError

    returned = record.info.get("checked_in_at")
    if returned is not None and time.monotonic() - returned < PING_IDLE_S:
        return
    try:
        engine.dialect.do_ping(dbapi_connection)
    except Exception as exc:  # the pool retries the checkout with a new connection
        raise DisconnectionError(str(exc)) from exc


def _checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in_at"] = time.monotonic()


def database_errors() -> tuple[type[Exception], ...]:
    """What a database that does not answer raises: the API turns them into 503, the CLI into one line."""
    import sqlite3

    import sqlalchemy.exc
    from psycopg import OperationalError
    from psycopg_pool import PoolTimeout

    # The store's errors come wrapped by SQLAlchemy; the checkpointer's come from psycopg / sqlite3 directly.
    return (sqlalchemy.exc.OperationalError, sqlalchemy.exc.TimeoutError, OperationalError, PoolTimeout,
            sqlite3.OperationalError)


def now() -> str:
    """UTC timestamp in ISO format, seconds precision."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def alembic_config() -> Config:
    """The Alembic configuration of the product's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    """The newest migration."""
    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def _sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry, synchronous: str = "FULL") -> None:
    dbapi_connection.isolation_level = None  # transactions are ours (BEGIN IMMEDIATE), not the driver's
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA synchronous={'NORMAL' if synchronous == 'NORMAL' else 'FULL'}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writes take the write lock at BEGIN, so "check, then write" is atomic across processes; reads don't.
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")


def insert_for(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT for ``table`` (it has ``on_conflict_do_nothing`` / ``on_conflict_do_update``)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def rows(result: Any) -> list[dict[str, Any]]:
    """Plain dict rows of a result."""
    return [dict(row) for row in result.mappings()]


class Store:
    """The product's tables in one database, through a pooled SQLAlchemy engine."""

    def __init__(self, engine: Engine, migrate: bool = True) -> None:
        """Use ``engine`` and (unless ``migrate`` is false) bring its database to the current schema."""
        self.engine = engine
        self.dialect = "postgres" if engine.dialect.name == "postgresql" else "sqlite"
        if migrate:
            self.migrate()

    @classmethod
    def sqlite(cls, path: Path, pool_size: int = 5, migrate: bool = True, synchronous: str = "FULL") -> Store:
        """A SQLite file (created if needed), WAL mode, pooled connections; ``synchronous``: FULL or NORMAL."""
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{path}", pool_size=pool_size, max_overflow=10, pool_timeout=30,
                               connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", functools.partial(_sqlite_connect, synchronous=synchronous))
        event.listen(engine, "begin", _sqlite_begin)
        return cls(engine, migrate=migrate)

    @classmethod
    def postgres(cls, url: str, pool_size: int = 5, timeout: float = 5.0, migrate: bool = True) -> Store:
        """A PostgreSQL database; ``timeout`` bounds a connect and the wait for a pooled connection."""
        parsed = make_url(url)
        engine = create_engine(
            parsed.set(drivername="postgresql+psycopg"), pool_size=pool_size, max_overflow=pool_size,
            pool_timeout=timeout, pool_recycle=1800,
            connect_args={"connect_timeout": max(1, int(timeout)), "prepare_threshold": None},
        )
        event.listen(engine, "checkout", functools.partial(_ping_if_idle, engine))
        event.listen(engine, "checkin", _checked_in)
        return cls(engine, migrate=migrate)

    @property
    def path(self) -> Path | None:
        """The SQLite file (None on PostgreSQL)."""
        database = self.engine.url.database
        return Path(database) if self.dialect == "sqlite" and database else None

    def _lock_file(self, name: str) -> Path:
        """SQLite: the file lock ``name`` next to the database."""
        path = self.path
        assert path is not None, "file locks are for SQLite; PostgreSQL uses advisory locks"
        return path.with_name(f"{path.name}.{name}.lock")

    @classmethod
    def from_settings(cls, settings: Settings, pool_size: int | None = None, migrate: bool = True) -> Store:
        """The store of the configured database: PostgreSQL when ``SUPPORT_DATABASE_URL`` is set, else SQLite."""
        if settings.uses_postgres:
            return cls.postgres(settings.database_url, pool_size or settings.db_pool_size, settings.db_timeout_s, migrate)
        return cls.sqlite(settings.sqlite_path, migrate=migrate, synchronous=settings.sqlite_synchronous)

    # -- schema -------------------------------------------------------------------------------

    def revision(self) -> str | None:
        """The database's current migration (None before the first)."""
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self) -> None:
        """Apply pending migrations, once even when several workers start together."""
        if self.revision() == head_revision():
            return
        config = alembic_config()
        if self.dialect == "postgres":
            with self.engine.begin() as conn:
                conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
            return
        with open(self._lock_file("migrate"), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                with self.engine.begin() as conn:
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- statements ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Connection]:
        """A write transaction; ``lock`` names what the caller checks-then-writes.

        SQLite holds the database's write lock from the start, which covers any key; PostgreSQL
        takes a transaction-scoped advisory lock on ``lock``.
        """
        with self.engine.begin() as conn:
            if lock is not None and self.dialect == "postgres":
                conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(lock, 0))))
            yield conn

    def query(self, statement: Executable | str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a read statement (Core, or SQL text with ``:name`` parameters) and return plain dict rows."""
        with self.engine.connect().execution_options(read_only=True) as conn:
            return rows(conn.execute(text(statement) if isinstance(statement, str) else statement, dict(params or {})))

    def ping(self) -> None:
        """Raise if the database does not answer."""
        self.query(select(1))

    @contextmanager
    def leader(self, name: str) -> Iterator[bool]:
        """Try to become the one process doing ``name``; yields whether it did.

        SQLite: a file lock next to the database. PostgreSQL: a session advisory lock on a
        connection held for the duration.
        """
        if self.dialect == "postgres":
            with self.engine.connect() as conn:
                key = func.hashtextextended(name, 0)
                got = bool(conn.execute(select(func.pg_try_advisory_lock(key))).scalar())
                conn.commit()
                try:
                    yield got
                finally:
                    if got:
                        conn.execute(select(func.pg_advisory_unlock(key)))
                        conn.commit()
            return
        with open(self._lock_file(name), "a+") as handle:
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
        """Close the pool's connections."""
        self.engine.dispose()

