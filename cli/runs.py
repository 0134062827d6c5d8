"""Read runs for ``reviews``, ``show`` and ``report`` straight from the store and the checkpointer.

The read-only commands must start fast, so they never import the graph, the engine, FAISS,
ONNX Runtime or the classifier: a run's state is the channel values of its latest checkpoint,
and its pending approvals are the interrupts of tasks that have not finished (LangGraph records
an output write for every finished task, so a task with only control writes is still waiting).
The views have the shape of :meth:`api.service.SupportDesk.view`, so ``--json`` is unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select

from cli.common import CliError
from graph.digest import proposal_digest
from tools import schema as t
from tools.schema import thread_id_for

DEFAULT = "default"
_INTERRUPT = "__interrupt__"
#: Writes that say what happened to a task (not what it produced): a task with only these has not finished.
_CONTROL = frozenset({"__interrupt__", "__resume__", "__error__", "__error_source_node__"})
_NULL_TASK = "00000000-0000-0000-0000-000000000000"


def pending_interrupts(pending_writes: Iterable[Sequence[Any]]) -> list[Any]:
    """The interrupts still waiting for an answer: the latest one of every task that has no output write yet."""
    asked: dict[str, list[Any]] = {}
    finished: set[str] = set()
    for task_id, channel, value in pending_writes:
        if task_id == _NULL_TASK:
            continue
        if channel == _INTERRUPT:
            asked[task_id] = list(value) if isinstance(value, list | tuple) else [value]
        elif channel not in _CONTROL:
            finished.add(task_id)
    return [item for task_id, items in asked.items() if task_id not in finished for item in items]


class ReadStore:
    """The store's tables read through a plain SQLAlchemy engine: no Alembic import, no migration.

    When a read fails because the database is missing or its schema is older than these tables
    (the CLI has not run since an upgrade), the regular :class:`tools.store.Store` is opened, which
    migrates, and the read is retried once on it.
    """

    def __init__(self, settings: Any) -> None:
        """Connect lazily to the database of ``settings``."""
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        self.settings = settings
        self._full: Any = None  # the migrating Store, opened only when a plain read failed
        if settings.uses_postgres:
            url = make_url(settings.database_url).set(drivername="postgresql+psycopg")
            args: dict[str, Any] = {"connect_timeout": max(1, int(settings.db_timeout_s)), "prepare_threshold": None}
        else:
            url, args = make_url(f"sqlite:///{settings.sqlite_path}"), {"timeout": 30}
        self.engine = create_engine(url, poolclass=NullPool, connect_args=args)

    def query(self, statement: Any, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Plain dict rows of a read statement."""
        from sqlalchemy.exc import OperationalError, ProgrammingError

        if self._full is None:
            try:
                with self.engine.connect() as conn:
                    return [dict(row) for row in conn.execute(statement, dict(params or {})).mappings()]
            except (OperationalError, ProgrammingError):
                from api.db import open_store

                self._full = open_store(self.settings, pool_size=1)  # creates or migrates the schema, then retry
        rows: list[dict[str, Any]] = self._full.query(statement, params)
        return rows

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()
        if self._full is not None:
            self._full.close()


class RunReader:
    """Runs of one deployment, read without compiling the graph (the checkpointer is opened on first use)."""

    def __init__(self, settings: Any = None) -> None:
        """Read the database of ``settings`` (the environment's by default)."""
        from tools.settings import get_settings

        self.settings = settings or get_settings()
        self.store = ReadStore(self.settings)
        self._saver: Any = None

    @property
    def saver(self) -> Any:
        """LangGraph's checkpointer of the configured database (SQLite: opened directly, without the store's imports)."""
        if self._saver is None:
            if self.settings.uses_postgres:
                from api.db import open_checkpointer

                self._saver = open_checkpointer(self.settings)
            else:
                import sqlite3

                from langgraph.checkpoint.sqlite import SqliteSaver

                self.settings.state_dir.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.settings.state_dir / "checkpoints.db", check_same_thread=False, timeout=30)
                self._saver = SqliteSaver(conn)
        return self._saver

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()
        if self._saver is not None:
            self._saver.conn.close()

    def check_workspace(self, workspace: str) -> None:
        """Raise :class:`CliError` unless ``workspace`` is ``default`` or registered."""
        w = t.workspaces.c
        if workspace != DEFAULT and not self.store.query(select(w.workspace_id).where(w.workspace_id == workspace)):
            raise CliError(f"unknown workspace '{workspace}' (see: support-agent workspace list)")

    def _state(self, thread_id: str) -> tuple[dict[str, Any], list[Any]]:
        """The values of a thread's latest checkpoint and its pending interrupts (empty when there is none)."""
        saved = self.saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
        if saved is None:
            return {}, []
        return dict(saved.checkpoint.get("channel_values") or {}), pending_interrupts(saved.pending_writes or [])

    def _archived(self, thread_id: str) -> dict[str, Any] | None:
        rows = self.store.query(select(t.run_archive.c.view).where(t.run_archive.c.thread_id == thread_id))
        return json.loads(str(rows[0]["view"])) if rows else None

    def _ledger(self, thread_id: str) -> list[dict[str, Any]]:
        return self.store.query(select(t.ledger).where(t.ledger.c.thread_id == thread_id)
                                .order_by(t.ledger.c.applied_at, t.ledger.c.action_id))

    def _outbox(self, thread_id: str) -> list[dict[str, Any]]:
        """The rows of :func:`tools.outbox.rows` (that module imports the migrating store)."""
        c = t.action_outbox.c
        return self.store.query(select(c.action_id, c.action, c.status, c.attempts, c.last_error, c.updated_at)
                                .where(c.thread_id == thread_id).order_by(c.created_at, c.action_id))

    def view(self, thread_id: str) -> dict[str, Any]:
        """Status, packet, pending interrupts (with ids), decisions, ledger and outbox of a thread."""
        values, interrupts = self._state(thread_id)
        extra = {"ledger": self._ledger(thread_id), "outbox": self._outbox(thread_id)}
        if not values:
            kept = self._archived(thread_id)  # a finished run whose checkpoints retention dropped
            if kept is None:
                raise CliError(f"unknown ticket/thread '{thread_id}'")
            return {**kept, "interrupts": [], "archived": True, **extra}
        pending = [{"id": i.id, **i.value, "digest": proposal_digest(i.value["action_request"]["args"])} for i in interrupts]
        return {
            "thread_id": thread_id, "workspace": values.get("workspace", DEFAULT), "ticket": values["ticket"],
            "status": "awaiting_review" if pending else values.get("status", "unknown"), "packet": values.get("packet"),
            "interrupts": pending, "decisions": values.get("decisions", []), **extra,
        }

    def thread_of(self, ticket_or_thread: str, workspace: str = DEFAULT) -> str:
        """The thread of ``workspace``'s ticket, given its ticket id or its thread id."""
        candidate = thread_id_for(workspace, ticket_or_thread)
        if candidate != ticket_or_thread:
            values = self._state(ticket_or_thread)[0] or self._archived(ticket_or_thread) or {}
            if not self._state(candidate)[0] and values.get("workspace") == workspace:
                return ticket_or_thread
        return candidate

    def pending(self, workspace: str = DEFAULT) -> list[dict[str, Any]]:
        """``workspace``'s runs waiting for review, smallest SLA target first (the rows of ``SupportDesk.pending``)."""
        r = t.runs.c
        rows = self.store.query(
            select(r.thread_id, r.ticket_id, r.category, r.priority, r.sla_hours, r.risk_flags, r.summary, r.interrupt_id,
                   r.created_at)
            .where(r.status == "awaiting_review", r.workspace == workspace).order_by(r.sla_hours.asc(), r.created_at.asc()))
        for row in rows:
            row["risk_flags"] = json.loads(str(row["risk_flags"] or "[]"))
        return rows

    def acceptable(self, thread_id: str) -> bool:
        """Whether a plain accept would go through (no gated action is incomplete)."""
        _, interrupts = self._state(thread_id)
        return all(not a.get("missing") for i in interrupts for a in i.value["action_request"]["args"]["actions"])
