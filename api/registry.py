"""What the API adds to the desk: ticket ownership (workspace), idempotent submits, the audit trail.

An API key belongs to one workspace; the ``tenant`` column of keys and tickets holds its id.
``api_tickets`` holds one row per submitted ticket: its workspace, the idempotency key, the
ticket itself and where its first run stands (queued → running → done | failed). Inserting
that row is the claim that makes a submit run once, even for concurrent retries.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, or_, select, update

from api.auth import Principal
from api.service import SupportDesk
from api.timers import fired_timers
from tools import schema as t
from tools.schema import thread_id_for
from tools.store import Store, insert_for, now

log = logging.getLogger("support_desk.api")
a = t.api_tickets.c


class TicketConflict(Exception):
    """The ticket's thread id is taken by a run registered before ticket ids were per workspace."""


class KeyReused(Exception):
    """An ``Idempotency-Key`` sent again with a different ticket."""


def _same_ticket(stored: str, ticket: dict[str, Any], id_given: bool) -> bool:
    """Whether a retry carries the ticket that was first submitted under its key (a generated id is not compared)."""
    first = json.loads(stored)
    if not id_given:
        first.pop("id", None)
        ticket = {k: v for k, v in ticket.items() if k != "id"}
    return bool(first == ticket)


@dataclass(frozen=True)
class Registration:
    """The outcome of registering a submit: which thread, and whether this request created it."""

    thread_id: str
    created: bool
    ticket_id: str


def register(store: Store, who: Principal, ticket: dict[str, Any], idempotency_key: str | None,
             id_given: bool = True) -> Registration:
    """Claim the ticket id (and idempotency key) for the caller's tenant, once.

    A retry with the same ``Idempotency-Key`` must carry the same ticket: the key is bound to what
    it first submitted, and another body under it raises :class:`KeyReused` (nothing is lost silently).
    """
    thread_id = thread_id_for(who.tenant, ticket["id"])
    with store.transaction(lock=f"submit:{thread_id}") as tx:
        if idempotency_key:
            row = tx.execute(select(a.thread_id, a.ticket_id, a.ticket)
                             .where(a.tenant == who.tenant, a.idempotency_key == idempotency_key)).mappings().first()
            if row is not None:
                if not _same_ticket(str(row["ticket"]), ticket, id_given):
                    raise KeyReused("this Idempotency-Key was used for a different ticket; send a new key for a new ticket")
                return Registration(str(row["thread_id"]), created=False, ticket_id=str(row["ticket_id"]))
        known = tx.execute(select(a.thread_id).where(a.tenant == who.tenant, a.ticket_id == ticket["id"])).scalar()
        if known is not None:
            return Registration(str(known), created=False, ticket_id=ticket["id"])
        inserted = tx.execute(insert_for(tx, t.api_tickets).values(
            thread_id=thread_id, tenant=who.tenant, ticket_id=ticket["id"], idempotency_key=idempotency_key,
            submitted_by=who.label, ticket=json.dumps(ticket), status="queued", created_at=now(), updated_at=now(),
        ).on_conflict_do_nothing().returning(a.thread_id)).first()
        if inserted is not None:  # the claim and its audit event in one transaction
            _audit_in(tx, thread_id, "ticket.submitted", who.label, {"idempotency_key": idempotency_key})
    if inserted is None:  # PostgreSQL: a concurrent submit with the same idempotency key or id won the unique key
        rows = store.query(select(a.thread_id, a.ticket_id).where(a.tenant == who.tenant, or_(
            a.idempotency_key == idempotency_key, a.ticket_id == ticket["id"])))
        if not rows:
            raise TicketConflict(f"ticket id '{ticket['id']}' is already in use; choose another id")
        return Registration(str(rows[0]["thread_id"]), created=False, ticket_id=str(rows[0]["ticket_id"]))
    return Registration(thread_id, created=True, ticket_id=ticket["id"])


def owned(store: Store, ticket_id: str, tenant: str) -> dict[str, Any] | None:
    """The registry row of ``tenant``'s ticket ``ticket_id`` (its id or its thread id); None for unknown ids.

    Another tenant's ticket with the same id is simply not there: ids are per workspace.
    """
    rows = store.query(select(a.thread_id, a.ticket_id, a.status, a.error, a.ticket, a.created_at)
                       .where(a.tenant == tenant, or_(a.ticket_id == ticket_id, a.thread_id == ticket_id))
                       .order_by((a.ticket_id == ticket_id).desc()))
    if rows:
        return rows[0]
    # A run the CLI, a batch or Studio (through the service) started: it has no submit row, only its run.
    r = t.runs.c
    runs = store.query(select(r.thread_id, r.ticket_id, r.status, r.created_at)
                       .where(r.workspace == tenant, or_(r.ticket_id == ticket_id, r.thread_id == ticket_id))
                       .order_by((r.ticket_id == ticket_id).desc()))
    return {**runs[0], "error": None, "ticket": "null"} if runs else None


def exists(store: Store, thread_id: str) -> bool:
    """Whether a submit registered ``thread_id``."""
    return bool(store.query(select(a.thread_id).where(a.thread_id == thread_id)))


def run_submission(desk: SupportDesk, thread_id: str, queued: bool = False, takeover: bool = False) -> dict[str, Any] | None:
    """Run a queued ticket to its packet or review; None if another request or worker runs it.

    ``queued``: it waited (``wait=false`` or recovery), so its packet latency starts when it arrived.
    ``takeover``: a queue job retried after its worker died (or the run failed) runs it again; the queue's
    job lock guarantees no other worker is on it, and the run resumes from the thread's checkpoint.
    """
    claimable = ("queued", "running", "failed") if takeover else ("queued",)
    with desk.store.transaction() as tx:  # the claim and the ticket in one round trip
        row = tx.execute(update(t.api_tickets).where(a.thread_id == thread_id, a.status.in_(claimable))
                         .values(status="running", updated_at=now()).returning(a.ticket, a.tenant, a.created_at)).mappings().first()
    if row is None:
        return None
    ticket = json.loads(str(row["ticket"]))
    try:
        view = desk.submit(ticket, workspace=str(row["tenant"]), thread_id=thread_id,
                           received_at=str(row["created_at"]) if queued else None)
    except Exception as exc:
        log.exception("run of ticket %s failed", thread_id)
        _set(desk.store, thread_id, ("run.failed", "agent", {"error": str(exc)}), status="failed",
             error=f"{type(exc).__name__}: {exc}")
        raise
    _set(desk.store, thread_id, ("run.stopped", "agent", {"status": view["status"]}), status="done",
         tiers=json.dumps(tiers_of(view)))
    return view


def after_decision(desk: SupportDesk, view: dict[str, Any], who: Principal, decision: dict[str, Any]) -> None:
    """Record a decision in the audit trail and refresh the queue's tiers."""
    _set(desk.store, view["thread_id"], ("review.decided", who.label, {**decision, "status": view["status"]}),
         tiers=json.dumps(tiers_of(view)))


def refresh_tiers(desk: SupportDesk, view: dict[str, Any]) -> None:
    """Keep the queue's tiers in step with the pending review (after a new round)."""
    _set(desk.store, view["thread_id"], None, tiers=json.dumps(tiers_of(view)))


def tiers_of(view: dict[str, Any]) -> list[str]:
    """Permission tiers of the actions waiting for review."""
    return sorted({a["tier"] for i in view["interrupts"] for a in i["action_request"]["args"]["actions"]})


def _set(store: Store, thread_id: str, event: tuple[str, str, dict[str, Any]] | None, **fields: str) -> None:
    """Update the ticket's row and, in the same transaction, append ``(event, actor, detail)`` to its trail."""
    with store.transaction() as tx:
        tx.execute(update(t.api_tickets).where(a.thread_id == thread_id).values(**fields, updated_at=now()))
        if event is not None:
            _audit_in(tx, thread_id, *event)


def _audit_in(tx: Connection, thread_id: str, event: str, actor: str, detail: dict[str, Any]) -> None:
    tx.execute(t.audit.insert().values(thread_id=thread_id, event=event, actor=actor,
                                       detail=json.dumps(detail, default=str), at=now()))


def audit(store: Store, thread_id: str, event: str, actor: str, detail: dict[str, Any]) -> None:
    """Append an event to a ticket's audit trail."""
    with store.transaction() as tx:
        _audit_in(tx, thread_id, event, actor, detail)


def trail(desk: SupportDesk, thread_id: str) -> list[dict[str, Any]]:
    """Audit events, decision claims and applied actions of a ticket, oldest first."""
    events = [{"at": r["at"], "event": r["event"], "actor": r["actor"], "detail": json.loads(str(r["detail"]))}
              for r in desk.store.query(select(t.audit).where(t.audit.c.thread_id == thread_id).order_by(t.audit.c.id))]
    events += [{"at": r["decided_at"], "event": "review.claimed", "actor": r["reviewer"],
                "detail": {"interrupt_id": r["interrupt_id"], "decision": r["decision"], "completed_at": r["completed_at"]}}
               for r in desk.store.query(select(t.decisions).where(t.decisions.c.thread_id == thread_id))]
    events += [{"at": r["applied_at"], "event": "action.applied", "actor": "agent",
                "detail": {"action_id": r["action_id"], "action": r["action"], "tier": r["tier"],
                           "args": json.loads(str(r["args"])), "result": json.loads(str(r["result"]))}}
               for r in desk.ledger.ledger(thread_id)]
    order = {"ticket.submitted": 0, "run.stopped": 1, "run.failed": 1, "review.claimed": 2, "action.applied": 3}
    return sorted(events, key=lambda e: (str(e["at"]), order.get(str(e["event"]), 4)))


#: The columns of the CSV export: one row per event; the detail's common keys get their own column.
CSV_COLUMNS = ("at", "event", "actor", "role", "decision", "digest", "interrupt_id", "action", "status", "comment", "detail")


def trail_csv(events: list[dict[str, Any]]) -> str:
    """The audit trail as CSV; cells that a spreadsheet would run as a formula are prefixed with a quote."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in events:
        d = e.get("detail") or {}
        row = [e.get("at"), e.get("event"), e.get("actor"), d.get("role"), d.get("type") or d.get("decision"), d.get("digest"),
               d.get("interrupt_id"), d.get("action"), d.get("status"), d.get("comment"), json.dumps(d, default=str)]
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def review_queue(desk: SupportDesk, tenant: str, tier: list[str] | None, category: str | None,
                 min_age_minutes: float | None, max_age_minutes: float | None, limit: int,
                 lead_only: bool = False) -> list[dict[str, Any]]:
    """The tenant's pending reviews, most at risk of breaching their SLA first."""
    r = t.runs.c
    # Every run of the workspace, whatever started it (API submits have a registry row; CLI, batch and demo
    # runs do not). The run row keeps the pending review's tiers; runs recorded before it did are read once.
    query = (select(r.thread_id, r.ticket_id, r.category, r.priority, r.sla_hours, r.risk_flags, r.summary, r.interrupt_id,
                    r.created_at, func.coalesce(r.tiers, a.tiers).label("tiers"), a.submitted_by)
             .select_from(t.runs.outerjoin(t.api_tickets, a.thread_id == r.thread_id))
             .where(r.status == "awaiting_review", r.workspace == tenant))
    if category:
        query = query.where(r.category == category)
    current = datetime.now(UTC)
    out = []
    for row in desk.store.query(query):
        created = datetime.fromisoformat(str(row["created_at"]))
        age = (current - created).total_seconds() / 60
        stored = row.pop("tiers")
        tiers = json.loads(str(stored)) if stored is not None else _pending_tiers(desk, str(row["thread_id"]))
        row["source"] = "api" if row.pop("submitted_by") is not None else "service"
        if (tier and not set(tier) & set(tiers)) or (min_age_minutes is not None and age < min_age_minutes) \
                or (max_age_minutes is not None and age > max_age_minutes):
            continue
        sla_hours = float(row["sla_hours"]) if row["sla_hours"] is not None else 72.0
        remaining = sla_hours * 60 - age
        out.append({**row, "risk_flags": json.loads(str(row["risk_flags"] or "[]")), "tiers": tiers,
                    "age_minutes": round(age, 1), "sla_remaining_minutes": round(remaining, 1),
                    "sla_breached": remaining < 0})
    fired = fired_timers(desk, [str(r["thread_id"]) for r in out])
    for row in out:
        kinds = fired.get(str(row["thread_id"]), set())
        row["sla_warning"], row["lead"] = "sla_warning" in kinds, "approval_escalated" in kinds
    if lead_only:
        out = [row for row in out if row["lead"]]
    # A ticket whose SLA warning fired goes up the queue; then least time left first.
    out.sort(key=lambda r: (not r["sla_warning"], r["sla_remaining_minutes"], r["created_at"]))
    return out[:limit]


def _pending_tiers(desk: SupportDesk, thread_id: str) -> list[str]:
    try:
        return tiers_of(desk.view(thread_id))
    except Exception:  # an archived or unreadable run still shows in the queue, without tiers
        return []


def queued(store: Store, before: str) -> list[str]:
    """Submits accepted with ``wait=false`` before ``before`` whose run never started (the process stopped first)."""
    rows = store.query(select(a.thread_id).where(a.status == "queued", a.updated_at < before))
    return [str(r["thread_id"]) for r in rows]


#: A reviewer counts as viewing a ticket this long after the console last said so (it pings every 20 s).
VIEWING_S = 60


def viewing(store: Store, thread_id: str, reviewer: str) -> list[dict[str, Any]]:
    """Record that ``reviewer`` has the ticket open; the others who had it open in the last ``VIEWING_S`` seconds."""
    v = t.viewers.c
    at = now()
    with store.transaction() as tx:
        row = insert_for(tx, t.viewers).values(thread_id=thread_id, reviewer=reviewer, seen_at=at)
        tx.execute(row.on_conflict_do_update(index_elements=["thread_id", "reviewer"], set_={"seen_at": row.excluded.seen_at}))
    since = (datetime.now(UTC) - timedelta(seconds=VIEWING_S)).isoformat(timespec="seconds")
    rows = store.query(select(v.reviewer, v.seen_at).where(v.thread_id == thread_id, v.reviewer != reviewer, v.seen_at >= since))
    return [{"reviewer": str(r["reviewer"]), "seen_at": str(r["seen_at"])} for r in rows]
