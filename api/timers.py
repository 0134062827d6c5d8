"""Time: SLA clocks and approval deadlines, fired by a scheduler that lives in the database.

One :func:`tick` looks at every run waiting for review and fires what is due, each timer once per ticket
and round (``timers`` table: its primary key is the claim, so two workers ticking together fire once):

* ``sla_warning`` — ``timers.sla_warning_at`` of the SLA target has passed: the ticket moves to the top of
  the queue and the owning team gets an internal notification (bounded autonomy, in the ledger);
* ``sla_breach`` — the SLA target passed without a decision: recorded (audit + notification);
* ``approval_escalated`` — ``timers.escalate_at`` of the approval deadline of the strictest pending tier has
  passed: the review goes to the lead queue (``timers.lead_team``), who is notified;
* ``approval_expired`` — the deadline passed: the review **expires fail-closed** (an ``expired`` decision
  through the same claim as a reviewer's: no gated action is applied), the lead team is notified, never silent.

The clock starts at the round's latest customer message (the submit, or the reply that started the round).
``now`` is injectable: tests move the clock instead of sleeping. The API runs a tick every
``SUPPORT_TIMERS_EVERY_S`` seconds — with the PostgreSQL queue, a periodic job of the queue workers does
(:mod:`api.queue`); ``support-agent timers`` runs one (for cron).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from api.intake import DeskError
from api.service import SupportDesk
from tools import schema as t
from tools.actions import ActionRunner
from tools.store import insert_for, now

log = logging.getLogger("support_desk.timers")

#: Used when a playbook has no ``timers`` section.
DEFAULTS: dict[str, Any] = {
    "sla_warning_at": 0.75,
    "escalate_at": 0.75,
    "approval_deadline_hours": {"supervised": 4, "never_without_approval": 24},
    "lead_team": "support-lead",
}
STRICTNESS = ("never_without_approval", "supervised")


def settings_of(playbook_raw: dict[str, Any]) -> dict[str, Any]:
    """The playbook's ``timers`` over the defaults."""
    own = playbook_raw.get("timers") or {}
    merged = {**DEFAULTS, **own}
    merged["approval_deadline_hours"] = {**DEFAULTS["approval_deadline_hours"], **(own.get("approval_deadline_hours") or {})}
    return merged


def tick(desk: SupportDesk, at: datetime | None = None) -> dict[str, list[str]]:
    """Fire every due timer once; returns ``{timer: [thread ids]}`` of what fired now."""
    at = at or datetime.now(UTC)
    fired: dict[str, list[str]] = {k: [] for k in ("sla_warning", "sla_breach", "approval_escalated", "approval_expired")}
    r = t.runs.c
    for run in desk.store.query(select(r.thread_id, r.workspace, r.sla_hours, r.created_at)
                                .where(r.status == "awaiting_review")):
        try:
            _run_timers(desk, run, at, fired)
        except Exception:  # one run's failure must not stop the others (or the loop)
            log.exception("timers of %s failed", run["thread_id"])
    return fired


def _run_timers(desk: SupportDesk, run: dict[str, Any], at: datetime, fired: dict[str, list[str]]) -> None:
    thread_id = str(run["thread_id"])
    view = desk.view(thread_id)
    if not view["interrupts"]:
        return
    interrupt = view["interrupts"][0]
    packet = view["packet"] or {}
    config = settings_of(desk.engine_of(view["workspace"]).playbook.raw)
    started = clock_start(desk, thread_id, str(run["created_at"]))
    hours = (at - started).total_seconds() / 3600
    round_ = str((packet.get("changes") or {}).get("round", 1))
    sla = float(run["sla_hours"] or packet.get("sla_hours") or 0)
    owner = str(packet.get("suggested_owner") or "support-tier1")
    ticket_id = view["ticket"]["id"]
    if sla and hours >= sla * float(config["sla_warning_at"]) and _claim(desk, thread_id, f"sla_warning:{round_}", at):
        _notify(desk, view, f"t-sla-warning-r{round_}", owner,
                f"Ticket {ticket_id}: SLA warning, {max(0.0, sla - hours):.1f} h left of {sla:g} h")
        fired["sla_warning"].append(thread_id)
    if sla and hours >= sla and _claim(desk, thread_id, f"sla_breach:{round_}", at):
        _notify(desk, view, f"t-sla-breach-r{round_}", owner, f"Ticket {ticket_id}: SLA of {sla:g} h breached")
        fired["sla_breach"].append(thread_id)
    tiers = {a["tier"] for a in interrupt["action_request"]["args"]["actions"]}
    strictest = next((tier for tier in STRICTNESS if tier in tiers), "supervised")
    deadline = float(config["approval_deadline_hours"].get(strictest, DEFAULTS["approval_deadline_hours"]["supervised"]))
    lead = str(config["lead_team"])
    key = interrupt["id"][:12]
    if hours >= deadline * float(config["escalate_at"]) and _claim(desk, thread_id, f"approval_escalated:{key}", at):
        _notify(desk, view, f"t-approval-escalated-{key}", lead,
                f"Ticket {ticket_id}: approval ({strictest}) pending {hours:.1f} h of {deadline:g} h; the lead queue has it")
        fired["approval_escalated"].append(thread_id)
    if hours >= deadline and _claim(desk, thread_id, f"approval_expired:{key}", at):
        try:
            desk.decide(thread_id, {"type": "expired", "reviewer": "system:approval-deadline"}, interrupt_id=interrupt["id"],
                        role="system")
        except DeskError as exc:  # decided or superseded a moment ago: nothing expires
            log.info("approval of %s not expired: %s", thread_id, exc)
            return
        _notify(desk, view, f"t-approval-expired-{key}", lead,
                f"Ticket {ticket_id}: approval expired after {deadline:g} h; nothing gated was applied; re-route it")
        _audit(desk, thread_id, "review.expired", {"interrupt_id": interrupt["id"], "deadline_hours": deadline, "tier": strictest})
        fired["approval_expired"].append(thread_id)


def clock_start(desk: SupportDesk, thread_id: str, created_at: str) -> datetime:
    """When the current round's clock started: the latest processed customer message, else the submit."""
    m = t.messages.c
    rows = desk.store.query(select(m.at).where(m.thread_id == thread_id, m.author == "customer", m.internal == 0,
                                               m.status == "processed").order_by(m.at.desc()).limit(1))
    latest = str(rows[0]["at"]) if rows else created_at
    start = datetime.fromisoformat(max(latest, created_at))
    return start if start.tzinfo else start.replace(tzinfo=UTC)


def fired_timers(desk: SupportDesk, thread_ids: list[str]) -> dict[str, set[str]]:
    """Thread → the kinds of timers fired for it (``sla_warning``, ``approval_escalated``, …), for the queue."""
    if not thread_ids:
        return {}
    c = t.timers.c
    out: dict[str, set[str]] = {}
    for row in desk.store.query(select(c.thread_id, c.kind).where(c.thread_id.in_(thread_ids))):
        out.setdefault(str(row["thread_id"]), set()).add(str(row["kind"]).split(":")[0])
    return out


def _claim(desk: SupportDesk, thread_id: str, kind: str, at: datetime) -> bool:
    with desk.store.transaction() as tx:
        row = tx.execute(insert_for(tx, t.timers).values(thread_id=thread_id, kind=kind, fired_at=at.isoformat(timespec="seconds"))
                         .on_conflict_do_nothing().returning(t.timers.c.thread_id)).first()
    if row is not None:
        _audit(desk, thread_id, f"timer.{kind.split(':')[0]}", {"kind": kind})
    return row is not None


def _notify(desk: SupportDesk, view: dict[str, Any], action_id: str, team: str, message: str) -> None:
    """An internal notification, applied once through the ledger (its id is the exactly-once key)."""
    runner = ActionRunner(desk.store, view["workspace"])
    runner.apply(view["thread_id"], dict(view["ticket"]), {"id": action_id, "name": "notify_team", "tier": "bounded_autonomy",
                                                           "args": {"team": team, "message": message}})


def _audit(desk: SupportDesk, thread_id: str, event: str, detail: dict[str, Any]) -> None:
    with desk.store.transaction() as tx:
        tx.execute(t.audit.insert().values(thread_id=thread_id, event=event, actor="scheduler", detail=json.dumps(detail), at=now()))
