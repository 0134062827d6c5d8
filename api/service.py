"""SupportDesk: submit tickets, list and decide reviews, show runs — over a durable checkpointer.

A decision is claimed in the database before the run resumes (a row unique on thread +
interrupt id), so of two concurrent decisions exactly one resumes the run; the other gets
``AlreadyDecided`` with who decided and when. A claim whose process died before the resume
finished is completed by :meth:`SupportDesk.recover` on the next start.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field

from api.db import open_database
from graph.builder import make_builder
from graph.context import Context
from graph.inbox import decision_error, parse_decision
from graph.nodes.triage import customer_facts
from graph.state import InputState, Ticket
from tools.actions import ActionRunner
from tools.engine import Engine
from tools.settings import Settings, get_settings
from tools.store import AnyStore, Store, now
from tools.workspaces import DEFAULT, UnknownWorkspace, Workspaces


class TicketIn(BaseModel):
    """An incoming ticket (API body, CLI file, batch line)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    id: str | None = Field(None, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$", description="Your ticket id; generated if absent.")
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=50_000)
    customer_id: str | None = Field(None, max_length=128)
    email: str | None = Field(None, max_length=320)
    channel: str = Field("email", max_length=32)


class DeskError(Exception):
    """Base class of expected, user-facing errors."""


class NotFound(DeskError):
    """Unknown thread or ticket."""


class NotPending(DeskError):
    """The interrupt is no longer pending (already decided, or never existed)."""

    def __init__(self, message: str, decided: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.decided = decided


class InvalidDecision(DeskError):
    """The resume value does not validate."""


class WorkspaceError(DeskError):
    """Unknown workspace, or a ticket id already used by another workspace."""


class SupportDesk:
    """The agent as a service: one compiled graph with a durable checkpointer."""

    def __init__(self, settings: Settings | None = None, checkpointer: BaseCheckpointSaver[Any] | None = None,
                 preload: tuple[str, ...] = (DEFAULT,)) -> None:
        """Open the database, compile the graph with ``checkpointer`` (SQLite file by default), load ``preload``."""
        self.settings = settings or get_settings()
        pg_store = None
        if checkpointer is None:
            checkpointer, pg_store = open_database(self.settings)
        self.store: AnyStore = pg_store if pg_store is not None else Store(self.settings.sqlite_path)
        self.workspaces = Workspaces(self.settings, self.store)
        self.ledger = ActionRunner(self.store)  # the ledger is keyed by thread: any workspace's runner reads it
        self.checkpointer = checkpointer
        self.graph = make_builder(self.workspaces.get).compile(checkpointer=checkpointer)
        for workspace in preload:
            self.workspaces.get(workspace)

    @property
    def engine(self) -> Engine:
        """The default workspace's engine."""
        return self.workspaces.get(DEFAULT)

    def engine_of(self, workspace: str) -> Engine:
        """The engine of ``workspace``; raise :class:`WorkspaceError` when it is not registered."""
        try:
            return self.workspaces.get(workspace)
        except UnknownWorkspace as exc:
            raise WorkspaceError(str(exc)) from exc

    def close(self) -> None:
        """Release database connections (the PostgreSQL pool)."""
        self.store.close()

    @staticmethod
    def config(thread_id: str) -> RunnableConfig:
        """The run config of a thread."""
        return {"configurable": {"thread_id": thread_id}}

    def submit(self, ticket: dict[str, Any], context: Context | None = None, workspace: str | None = None) -> dict[str, Any]:
        """Run a ticket to its packet (and approval checkpoint); an already-known ticket id returns its run.

        The run belongs to ``workspace`` (else the context's, else ``default``) and keeps it on every resume.
        """
        parsed = TicketIn.model_validate(ticket)
        data = parsed.model_dump(exclude_none=True)
        data["id"] = parsed.id or f"T-{uuid.uuid4().hex[:12]}"
        thread_id = data["id"]
        context = context or Context()
        workspace = workspace or context.workspace or DEFAULT
        engine = self.engine_of(workspace)
        existing = self.graph.get_state(self.config(thread_id)).values
        if existing:
            if existing.get("workspace", DEFAULT) != workspace:
                raise WorkspaceError(f"ticket id '{thread_id}' is already in use; choose another id")
            return self.view(thread_id)
        # The helpdesk keeps the resolved customer, so a later ticket from the same sender domain finds this one.
        record = customer_facts(engine, data)
        engine.helpdesk.upsert_ticket({**data, "customer_id": record["id"] if record else data.get("customer_id")}, thread_id)
        ticket_in: InputState = {"ticket": cast(Ticket, data), "workspace": workspace}
        # durability="exit": one checkpoint when the run stops (at the approval checkpoint or the end)
        # instead of one per step; a crash mid-run loses only a run that was never acknowledged.
        self.graph.invoke(ticket_in, self.config(thread_id), context=replace(context, workspace=workspace), durability="exit")
        return self._record(thread_id)

    def _record(self, thread_id: str) -> dict[str, Any]:
        view = self.view(thread_id)
        packet = view["packet"] or {}
        interrupt_id = view["interrupts"][0]["id"] if view["interrupts"] else None
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO runs (thread_id, workspace, ticket_id, customer_id, status, category, priority, sla_hours, "
                "risk_flags, summary, interrupt_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(thread_id) DO UPDATE SET status = excluded.status, interrupt_id = excluded.interrupt_id, "
                "updated_at = excluded.updated_at",
                (thread_id, view["workspace"], view["ticket"]["id"], view["ticket"].get("customer_id"), view["status"],
                 packet.get("category"),
                 packet.get("priority"), packet.get("sla_hours"), json.dumps(packet.get("risk_flags", [])),
                 packet.get("summary"), interrupt_id, now(), now()),
            )
        return view

    def view(self, thread_id: str) -> dict[str, Any]:
        """Status, packet, pending interrupts (with ids), decisions and ledger of a thread."""
        snapshot = self.graph.get_state(self.config(thread_id))
        if not snapshot.values:
            raise NotFound(f"unknown ticket/thread '{thread_id}'")
        values = snapshot.values
        interrupts = [{"id": i.id, **i.value} for i in snapshot.interrupts]
        status = "awaiting_review" if interrupts else values.get("status", "unknown")
        return {
            "thread_id": thread_id, "workspace": values.get("workspace", DEFAULT), "ticket": values["ticket"],
            "status": status, "packet": values.get("packet"), "interrupts": interrupts,
            "decisions": values.get("decisions", []), "ledger": self.ledger.ledger(thread_id),
        }

    def context_of(self, thread_id: str) -> Context:
        """The context a resume of ``thread_id`` runs with: the run's own workspace."""
        values = self.graph.get_state(self.config(thread_id)).values
        return Context(workspace=str(values.get("workspace", DEFAULT)))

    def pending(self, workspace: str = DEFAULT) -> list[dict[str, Any]]:
        """``workspace``'s runs waiting for review, tightest SLA first."""
        rows = self.store.query(
            "SELECT thread_id, ticket_id, category, priority, sla_hours, risk_flags, summary, interrupt_id, created_at "
            "FROM runs WHERE status = 'awaiting_review' AND workspace = ? ORDER BY sla_hours ASC, created_at ASC",
            (workspace,),
        )
        for row in rows:
            row["risk_flags"] = json.loads(str(row["risk_flags"] or "[]"))
        return rows

    def decide(self, thread_id: str, value: Any, interrupt_id: str | None = None, reviewer: str = "reviewer") -> dict[str, Any]:
        """Apply a reviewer's decision exactly once; raise a ``DeskError`` subclass on any refusal."""
        view = self.view(thread_id)
        try:
            decision = parse_decision(value)
        except ValueError as exc:
            raise InvalidDecision(decision_error(exc)) from exc
        if decision.reviewer == "reviewer":
            decision.reviewer = reviewer
        pending_ids = [i["id"] for i in view["interrupts"]]
        target = interrupt_id or (pending_ids[0] if pending_ids else None)
        if target is None or target not in pending_ids:
            raise NotPending(f"no pending review on '{thread_id}'" + (f" with interrupt id {interrupt_id}" if interrupt_id else ""),
                             self._last_decision(thread_id, target))
        if decision.type == "edit" and decision.edit.actions is not None:
            payload = next(i for i in view["interrupts"] if i["id"] == target)
            proposed = {a["id"] for a in payload["action_request"]["args"]["actions"]}
            unknown = sorted({a if isinstance(a, str) else a.id for a in decision.edit.actions} - proposed)
            if unknown:
                raise InvalidDecision(f"unknown action ids {unknown}; proposed: {sorted(proposed)}")
        self._claim(thread_id, target, decision.model_dump())
        # If this process dies here, the claim stays without completed_at and recover() finishes it.
        self.graph.invoke(Command(resume={target: decision.model_dump()}), self.config(thread_id),
                          context=self.context_of(thread_id))
        with self.store.transaction() as tx:
            tx.execute("UPDATE decisions SET completed_at = ? WHERE thread_id = ? AND interrupt_id = ?", (now(), thread_id, target))
            if decision.type != "accept":  # edits, redraft requests and rejections are what the agent learns from
                tx.execute(
                    "INSERT INTO feedback (workspace, thread_id, ticket_id, category, kind, detail, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (view["workspace"], thread_id, view["ticket"]["id"], (view["packet"] or {}).get("category"), decision.type,
                     json.dumps(decision.args), now()),
                )
        return self._record(thread_id)

    def learning_report(self, workspace: str = DEFAULT) -> dict[str, Any]:
        """``workspace``'s knowledge gaps, reviewer edits and overrides per category."""
        decided = self.store.query(
            "SELECT r.category, d.decision, COUNT(*) AS n FROM decisions d JOIN runs r ON r.thread_id = d.thread_id "
            "WHERE r.workspace = ? GROUP BY r.category, d.decision ORDER BY r.category", (workspace,)
        )
        by_category: dict[str, dict[str, int]] = {}
        for row in decided:
            by_category.setdefault(str(row["category"]), {})[str(row["decision"])] = int(str(row["n"]))
        for counts in by_category.values():
            total = sum(counts.values())
            counts["total"] = total
            counts["edit_rate_pct"] = round(100 * (total - counts.get("accept", 0)) / total) if total else 0
        gaps: dict[str, dict[str, Any]] = {}
        for row in self.store.query("SELECT category, query, top_score FROM knowledge_gaps WHERE workspace = ? ORDER BY id",
                                    (workspace,)):
            gap = gaps.setdefault(str(row["category"]), {"category": row["category"], "n": 0, "worst": None, "queries": []})
            gap["n"] += 1
            score = float(row["top_score"] or 0.0)  # type: ignore[arg-type]
            gap["worst"] = score if gap["worst"] is None else min(gap["worst"], score)
            gap["queries"].append(str(row["query"]))
        gap_rows = [{**g, "examples": " | ".join(g.pop("queries")[:5])} for g in sorted(gaps.values(), key=lambda g: -g["n"])]
        recent = self.store.query("SELECT ticket_id, category, kind, detail, created_at FROM feedback WHERE workspace = ? "
                                  "ORDER BY id DESC LIMIT 10", (workspace,))
        return {"workspace": workspace, "decisions_by_category": by_category, "knowledge_gaps": gap_rows,
                "recent_feedback": recent}

    def _claim(self, thread_id: str, interrupt_id: str, decision: dict[str, Any]) -> None:
        with self.store.transaction(lock=f"decide:{thread_id}") as tx:
            claimed = tx.execute(
                "INSERT INTO decisions (thread_id, interrupt_id, decision, reviewer, payload, decided_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (thread_id, interrupt_id, decision["type"], decision["reviewer"], json.dumps(decision), now()),
            ).rowcount
        if not claimed:  # the primary key (thread, interrupt) refused a second claim
            raise NotPending("this review was already decided", self._last_decision(thread_id, interrupt_id))

    def _last_decision(self, thread_id: str, interrupt_id: str | None) -> dict[str, Any] | None:
        sql = "SELECT interrupt_id, decision, reviewer, decided_at, completed_at FROM decisions WHERE thread_id = ? "
        if interrupt_id is None:
            rows = self.store.query(sql + "ORDER BY decided_at DESC LIMIT 1", (thread_id,))
        else:
            rows = self.store.query(sql + "AND interrupt_id = ?", (thread_id, interrupt_id))
        return rows[0] if rows else None

    def recover(self, before: str | None = None) -> list[str]:
        """Finish resumes whose decision was claimed (before ``before``) but whose process died before completing it."""
        done = []
        rows = self.store.query("SELECT thread_id, interrupt_id, payload FROM decisions WHERE completed_at IS NULL AND decided_at < ?",
                                (before or "9999",))
        for row in rows:
            thread_id, interrupt_id = str(row["thread_id"]), str(row["interrupt_id"])
            snapshot = self.graph.get_state(self.config(thread_id))
            if any(i.id == interrupt_id for i in snapshot.interrupts):
                self.graph.invoke(Command(resume={interrupt_id: json.loads(str(row["payload"]))}), self.config(thread_id),
                                  context=self.context_of(thread_id))
            with self.store.transaction() as tx:
                tx.execute("UPDATE decisions SET completed_at = ? WHERE thread_id = ? AND interrupt_id = ?",
                           (now(), thread_id, interrupt_id))
            self._record(thread_id)
            done.append(thread_id)
        return done
