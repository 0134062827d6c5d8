"""SupportDesk: submit tickets, list and decide reviews, show runs — over a durable checkpointer.

A decision is claimed in the database before the run resumes (a row unique on thread +
interrupt id), so of two concurrent decisions exactly one resumes the run; the other gets
``AlreadyDecided`` with who decided and when. A claim whose process died before the resume
finished is completed by :meth:`SupportDesk.recover` on the next start.

Every invocation of the graph goes through :meth:`SupportDesk.run_graph`, which traces it
(:mod:`api.tracing`: one record per node run, kept with the thread) and counts the model's tokens
and fallbacks (:mod:`api.metrics`).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command
from sqlalchemy import and_, select, update

from api import metrics, tracing
from api.db import open_checkpointer, open_store
from api.feedback import check_overrides, feedback_record
from api.intake import DeskError, InvalidDecision, NotFound, NotPending, StaleProposal, TicketIn, WorkspaceError
from api.reports import REOPEN_DAYS, learning_report
from api.retention import archived
from graph.builder import make_builder
from graph.context import Context
from graph.digest import proposal_digest
from graph.inbox import decision_error, parse_decision
from graph.nodes.review import approved_actions
from graph.nodes.triage import customer_facts
from graph.state import InputState, State, Ticket
from tools import outbox
from tools import schema as t
from tools.actions import ActionRunner
from tools.engine import Engine
from tools.faults import crash_point
from tools.schema import thread_id_for
from tools.settings import Settings, get_settings
from tools.store import Store, insert_for, now
from tools.workspaces import DEFAULT, UnknownWorkspace, Workspaces

__all__ = ["DeskError", "InvalidDecision", "NotFound", "NotPending", "StaleProposal", "SupportDesk", "TicketIn", "WorkspaceError"]
log = logging.getLogger("support_desk.service")


class SupportDesk:
    """The agent as a service: one compiled graph with a durable checkpointer."""

    def __init__(self, settings: Settings | None = None, checkpointer: BaseCheckpointSaver[Any] | None = None,
                 preload: tuple[str, ...] = (DEFAULT,)) -> None:
        """Open the database, compile the graph with ``checkpointer`` (SQLite file by default), load ``preload``."""
        self.settings = settings or get_settings()
        self.store: Store = open_store(self.settings)
        self._own_checkpointer = checkpointer is None
        checkpointer = checkpointer or open_checkpointer(self.settings)
        self.workspaces = Workspaces(self.settings, self.store)
        self.ledger = ActionRunner(self.store)  # the ledger is keyed by thread: any workspace's runner reads it
        self.checkpointer = checkpointer
        self.graph = make_builder(self.workspaces.get).compile(checkpointer=checkpointer)
        for workspace in preload:
            self.workspaces.get(workspace)
        self._langsmith: list[Any] | None = None  # LangSmith's tracer, built on the first run if LANGSMITH_API_KEY is set

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
        """Release database connections (the store's pool and, on PostgreSQL, the checkpointer's)."""
        self.store.close()
        if self._own_checkpointer and self.settings.uses_postgres:
            self.checkpointer.conn.close()  # type: ignore[attr-defined]  # PostgresSaver's pool

    @staticmethod
    def config(thread_id: str) -> RunnableConfig:
        """The run config of a thread."""
        return {"configurable": {"thread_id": thread_id}}

    def run_graph(self, value: Any, thread_id: str, context: Context, durability: Literal["sync", "exit"], label: str,
                  traces: list[dict[str, Any]] | None = None) -> Any:
        """Invoke the graph on ``thread_id``, traced locally (stored with the thread) and, if configured, in LangSmith.

        ``traces``: a successful run's trace rows are appended there for the caller to store in its own
        transaction (one round trip less); a failed run's are stored here at once. Returns what the graph
        returned (its output keys, and ``__interrupt__`` when it stopped at a review).
        """
        if self._langsmith is None:
            self._langsmith = tracing.langsmith_callbacks(self.settings.langsmith_project)
        tracer = tracing.NodeTracer((n for n in self.graph.nodes if not n.startswith("__")), label, metrics.observe_node)
        config: RunnableConfig = {**self.config(thread_id), "callbacks": [tracer, *self._langsmith], "run_name": label}
        try:
            output = self.graph.invoke(value, config, context=context, durability=durability)
        except BaseException:
            tracing.save(self.store, thread_id, tracer)
            raise
        if traces is None:
            tracing.save(self.store, thread_id, tracer)
        else:
            traces.extend(tracer.rows(thread_id))
        return output

    def scrub(self, ticket: dict[str, Any]) -> dict[str, Any]:
        """The ticket as it may be stored: with ``store_pii=redact``, cards, IBANs and CVVs masked (last 4 kept)."""
        if self.settings.store_pii == "raw":
            return ticket
        from tools.pii import redact

        return {k: redact(v).text if k in ("subject", "body") and isinstance(v, str) else v for k, v in ticket.items()}

    def submit(self, ticket: dict[str, Any], context: Context | None = None, workspace: str | None = None,
               thread_id: str | None = None, received_at: str | None = None) -> dict[str, Any]:
        """Run a ticket to its packet (and approval checkpoint); an already-known ticket id returns its run.

        The run belongs to ``workspace`` (else the context's, else ``default``) and keeps it on every resume.
        Its thread is :func:`tools.schema.thread_id_for` of the workspace and ticket id unless the API
        registered another one (``thread_id``): ticket ids are unique per workspace. ``received_at`` (ISO
        time a queued submit arrived) starts its packet latency; else this call does.
        """
        started = time.perf_counter()
        parsed = TicketIn.model_validate(ticket)
        data = self.scrub(parsed.model_dump(exclude_none=True))
        data["id"] = parsed.id or f"T-{uuid.uuid4().hex[:12]}"
        context = context or Context()
        workspace = workspace or context.workspace or DEFAULT
        thread_id = thread_id or thread_id_for(workspace, data["id"])
        engine = self.engine_of(workspace)
        existing = self.graph.get_state(self.config(thread_id)).values or archived(self, thread_id)
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
        traces: list[dict[str, Any]] = []
        output = self.run_graph(ticket_in, thread_id, replace(context, workspace=workspace), "exit", "submit", traces)
        view = self._record(thread_id, traces, self._first_view(thread_id, workspace, data, output))
        waited = time.perf_counter() - started
        if received_at is not None:
            waited = max(waited, (datetime.now(UTC) - datetime.fromisoformat(received_at)).total_seconds())
        metrics.ticket_processed(view, waited)
        return view

    def _first_view(self, thread_id: str, workspace: str, ticket: dict[str, Any], output: Any) -> dict[str, Any]:
        """:meth:`view` of a thread whose first run just returned ``output``, without reading the checkpoint back.

        A first run has no decisions yet and its ticket is the one it was given; the packet, status and pending
        interrupts are the run's own output (the same values and interrupt ids the checkpoint holds).
        """
        pending = output.get("__interrupt__", ())
        # Only apply_actions writes the ledger and the outbox, and a first run that stopped at its review has not
        # reached it (nor has an earlier attempt of it: passing the review needs a decision on a checkpoint).
        return self._run_view(thread_id, {**output, "workspace": workspace, "ticket": ticket}, pending,
                              read_effects=not pending)

    def _record(self, thread_id: str, traces: list[dict[str, Any]] | None = None,
                view: dict[str, Any] | None = None) -> dict[str, Any]:
        """Upsert the run's row (the queue's columns) from its view; store ``traces`` in the same transaction."""
        view = view or self.view(thread_id)
        packet = view["packet"] or {}
        interrupt_id = view["interrupts"][0]["id"] if view["interrupts"] else None
        tiers = sorted({a["tier"] for i in view["interrupts"] for a in i["action_request"]["args"]["actions"]})
        with self.store.transaction() as tx:
            row = insert_for(tx, t.runs).values(
                thread_id=thread_id, workspace=view["workspace"], ticket_id=view["ticket"]["id"],
                customer_id=view["ticket"].get("customer_id"), status=view["status"], category=packet.get("category"),
                priority=packet.get("priority"), sla_hours=packet.get("sla_hours"),
                risk_flags=json.dumps(packet.get("risk_flags", [])), summary=packet.get("summary"),
                interrupt_id=interrupt_id, tiers=json.dumps(tiers), created_at=now(), updated_at=now())
            # A new round (a customer reply) re-triages: the queue shows the current packet, not the first one.
            tx.execute(row.on_conflict_do_update(index_elements=["thread_id"], set_={
                name: getattr(row.excluded, name) for name in ("status", "interrupt_id", "category", "priority", "sla_hours",
                                                               "risk_flags", "summary", "tiers", "updated_at")}))
            if traces:
                tx.execute(insert_for(tx, t.traces).on_conflict_do_nothing(), traces)
        return view

    def view(self, thread_id: str) -> dict[str, Any]:
        """Status, packet, pending interrupts (with ids), decisions and ledger of a thread."""
        snapshot = self.graph.get_state(self.config(thread_id))
        if not snapshot.values:
            kept = archived(self, thread_id)  # a finished run whose checkpoints retention dropped
            if kept is None:
                raise NotFound(f"unknown ticket/thread '{thread_id}'")
            return {**kept, "interrupts": [], "archived": True, "ledger": self.ledger.ledger(thread_id),
                    "outbox": outbox.rows(self.store, thread_id)}
        return self._run_view(thread_id, snapshot.values, snapshot.interrupts)

    def _run_view(self, thread_id: str, values: dict[str, Any], pending: Any, read_effects: bool = True) -> dict[str, Any]:
        """The view of a thread's state ``values`` and ``pending`` interrupts; ``read_effects``: its ledger and outbox."""
        interrupts = [{"id": i.id, **i.value, "digest": proposal_digest(i.value["action_request"]["args"])} for i in pending]
        return {
            "thread_id": thread_id, "workspace": values.get("workspace", DEFAULT), "ticket": values["ticket"],
            "status": "awaiting_review" if interrupts else values.get("status", "unknown"), "packet": values.get("packet"),
            "interrupts": interrupts, "decisions": values.get("decisions", []),
            "ledger": self.ledger.ledger(thread_id) if read_effects else [],
            "outbox": outbox.rows(self.store, thread_id) if read_effects else [],
        }

    def thread_of(self, ticket_or_thread: str, workspace: str = DEFAULT) -> str:
        """The thread of ``workspace``'s ticket, given its ticket id or its thread id (for the CLI)."""
        candidate = thread_id_for(workspace, ticket_or_thread)
        if candidate != ticket_or_thread:
            values = self.graph.get_state(self.config(ticket_or_thread)).values or archived(self, ticket_or_thread) or {}
            if not self.graph.get_state(self.config(candidate)).values and values.get("workspace") == workspace:
                return ticket_or_thread
        return candidate

    def context_of(self, thread_id: str) -> Context:
        """The context a resume of ``thread_id`` runs with: the run's own workspace."""
        values = self.graph.get_state(self.config(thread_id)).values
        return Context(workspace=str(values.get("workspace", DEFAULT)))

    def pending(self, workspace: str = DEFAULT) -> list[dict[str, Any]]:
        """``workspace``'s runs waiting for review, tightest SLA first."""
        r = t.runs.c
        rows = self.store.query(
            select(r.thread_id, r.ticket_id, r.category, r.priority, r.sla_hours, r.risk_flags, r.summary, r.interrupt_id,
                   r.created_at)
            .where(r.status == "awaiting_review", r.workspace == workspace).order_by(r.sla_hours.asc(), r.created_at.asc()))
        for row in rows:
            row["risk_flags"] = json.loads(str(row["risk_flags"] or "[]"))
        return rows

    def decide(self, thread_id: str, value: Any, interrupt_id: str | None = None, reviewer: str = "reviewer",
               role: str | None = None) -> dict[str, Any]:
        """Apply a reviewer's decision exactly once; raise a ``DeskError`` subclass on any refusal.

        The decision is bound to what was shown: its ``digest`` (else the pending proposal's, derived here)
        is recorded with it, and a digest that is not the pending proposal's is refused (``StaleProposal``).
        """
        view = self.view(thread_id)
        try:
            decision = parse_decision(value)
        except ValueError as exc:
            raise InvalidDecision(decision_error(exc)) from exc
        if decision.reviewer == "reviewer":
            decision.reviewer = reviewer
        decision.role = role or decision.role
        pending = {i["id"]: i for i in view["interrupts"]}
        target = interrupt_id or next(iter(pending), None)
        if target is None or target not in pending:
            raise NotPending(f"no pending review on '{thread_id}'" + (f" with interrupt id {interrupt_id}" if interrupt_id else ""),
                             self._last_decision(thread_id, target))
        current = pending[target]["digest"]
        if decision.digest is not None and decision.digest != current:
            raise StaleProposal("the proposal changed since it was shown (redraft or new message): review it again",
                                current, target)
        decision.digest = current
        state = self.graph.get_state(self.config(thread_id)).values
        try:  # the exact action set the run will apply, final arguments included
            if decision.type == "edit" and decision.edit.overrides is not None:
                check_overrides(decision.edit.overrides.model_dump(), self.engine_of(view["workspace"]).playbook)
            approved, changes = ([], {}) if decision.type == "response" else approved_actions(cast(State, state), decision)
        except ValueError as exc:
            raise InvalidDecision(decision_error(exc)) from exc
        record = feedback_record(pending[target], decision.model_dump(), approved, changes)
        feedback = {"workspace": view["workspace"], "thread_id": thread_id, "ticket_id": view["ticket"]["id"],
                    "category": (view["packet"] or {}).get("category"), "kind": decision.type, "detail": json.dumps(record)}
        self._claim(thread_id, target, decision.model_dump(), approved, feedback)
        # From here the decision and its actions are on disk: if this process dies, recover() finishes them.
        crash_point("after_claim")
        try:
            self.run_graph(Command(resume={target: decision.model_dump()}), thread_id, self.context_of(thread_id), "sync",
                           "resume")
        except Exception:  # the claim stands; whatever the run did not finish, finish() applies from the outbox
            log.exception("resume of %s failed after its decision was claimed; applying from the outbox", thread_id)
        self.finish(thread_id)
        with self.store.transaction() as tx:
            self._complete(tx, thread_id, target)
        metrics.decision(decision.type)
        return self._record(thread_id)

    def learning_report(self, workspace: str = DEFAULT, since_days: float | None = None,
                        reopen_days: float = REOPEN_DAYS) -> dict[str, Any]:
        """``workspace``'s outcome metrics, reviewer feedback and knowledge gaps (``api.reports``)."""
        return learning_report(self.store, workspace, self.packet_of, since_days, reopen_days)

    def packet_of(self, thread_id: str) -> dict[str, Any]:
        """A run's packet (``{}`` for an unknown thread or a run without one)."""
        try:
            return dict(self.view(thread_id).get("packet") or {})
        except NotFound:
            return {}

    def _claim(self, thread_id: str, interrupt_id: str, decision: dict[str, Any], approved: list[dict[str, Any]],
               feedback: dict[str, Any] | None = None) -> None:
        """Claim the decision, write its approved actions to the outbox and its ``feedback`` row, in one transaction."""
        with self.store.transaction(lock=f"decide:{thread_id}") as tx:
            claimed = tx.execute(insert_for(tx, t.decisions).values(
                thread_id=thread_id, interrupt_id=interrupt_id, decision=decision["type"], reviewer=decision["reviewer"],
                payload=json.dumps(decision), decided_at=now()).on_conflict_do_nothing().returning(t.decisions.c.thread_id)).first()
            if claimed is not None:
                outbox.write(tx, thread_id, interrupt_id, approved)
                if feedback is not None:  # every decision, accepts included: what the agent learns from (api.feedback)
                    tx.execute(t.feedback.insert().values(**feedback, created_at=now()))
        if claimed is None:  # the primary key (thread, interrupt) refused a second claim
            raise NotPending("this review was already decided", self._last_decision(thread_id, interrupt_id))

    def finish(self, thread_id: str) -> list[dict[str, Any]]:
        """Apply the thread's approved actions that are still pending in the outbox (each once, via the ledger).

        Returns the actions that are still not done (pending for a retry, or failed with a reason).
        """
        left = outbox.pending(self.store, thread_id)
        if not left:
            return []
        values = self.graph.get_state(self.config(thread_id)).values
        engine = self.engine_of(str(values.get("workspace", DEFAULT)))
        applied, open_ = [], []
        for action in left:
            for attempt in range(outbox.MAX_ATTEMPTS):
                try:
                    applied.append(engine.runner.apply(thread_id, dict(values["ticket"]), action))
                    break
                except Exception as exc:  # recorded with its reason; bounded retries, then "failed"
                    status = outbox.record_failure(self.store, thread_id, action["id"], f"{type(exc).__name__}: {exc}")
                    if status == "failed":
                        open_.append({**action, "status": "failed", "error": f"{type(exc).__name__}: {exc}"[:300]})
                        break
                    time.sleep(0.1 * 2**attempt)
        if applied:  # the run's own record catches up with what the outbox applied
            done = not outbox.pending(self.store, thread_id) and not open_
            update: dict[str, Any] = {"applied": applied}
            if done and values.get("status") not in ("rejected", "expired"):
                update["status"] = "completed"
            self.graph.update_state(self.config(thread_id), update, as_node="apply_actions")
        return open_

    @staticmethod
    def _complete(tx: Any, thread_id: str, interrupt_id: str) -> None:
        d = t.decisions.c
        tx.execute(update(t.decisions).where(and_(d.thread_id == thread_id, d.interrupt_id == interrupt_id))
                   .values(completed_at=now()))

    def _last_decision(self, thread_id: str, interrupt_id: str | None) -> dict[str, Any] | None:
        d = t.decisions.c
        sql = select(d.interrupt_id, d.decision, d.reviewer, d.decided_at, d.completed_at).where(d.thread_id == thread_id)
        if interrupt_id is None:
            rows = self.store.query(sql.order_by(d.decided_at.desc()).limit(1))
        else:
            rows = self.store.query(sql.where(d.interrupt_id == interrupt_id))
        return rows[0] if rows else None

    def recover(self, before: str | None = None) -> list[str]:
        """Finish what a dead process left: claimed decisions (before ``before``) and pending outbox actions.

        Whatever node the checkpoint stopped at: a pending interrupt is resumed with the claimed
        decision, a run stopped between nodes continues, and every approved action still pending in
        the outbox is applied (once, via the ledger). One thread's failure never stops the others.
        """
        done = []
        d = t.decisions.c
        rows = self.store.query(select(d.thread_id, d.interrupt_id, d.payload)
                                .where(d.completed_at.is_(None), d.decided_at < (before or "9999")))
        threads = [(str(r["thread_id"]), str(r["interrupt_id"]), str(r["payload"])) for r in rows]
        claimed = {thread for thread, _, _ in threads}
        left = outbox.pending(self.store, before=before)
        threads += [(thread, "", "") for thread in dict.fromkeys(a["thread_id"] for a in left) if thread not in claimed]
        for thread_id, interrupt_id, payload in threads:
            try:
                self._continue(thread_id, interrupt_id, payload)
            except Exception:  # a poisoned thread is logged and left; it must not block start-up or the others
                log.exception("recovery of %s failed", thread_id)
                continue
            done.append(thread_id)
        return done

    def _continue(self, thread_id: str, interrupt_id: str, payload: str) -> None:
        config, context = self.config(thread_id), self.context_of(thread_id)
        snapshot = self.graph.get_state(config)
        if interrupt_id and any(i.id == interrupt_id for i in snapshot.interrupts):
            self.run_graph(Command(resume={interrupt_id: json.loads(payload)}), thread_id, context, "sync", "recover")
        elif snapshot.next and not snapshot.interrupts:  # stopped between nodes (e.g. inside apply_actions)
            self.run_graph(None, thread_id, context, "sync", "continue")
        self.finish(thread_id)
        if interrupt_id:
            with self.store.transaction() as tx:
                self._complete(tx, thread_id, interrupt_id)
        self._record(thread_id)
