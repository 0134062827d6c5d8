"""Outcome metrics per workspace, ISO week and category — computed in Python from portable reads.

The store is read with plain SQLAlchemy Core selects (no dialect-specific SQL functions), so the same code
runs on SQLite and PostgreSQL; everything else — durations, weeks, medians, classes — is computed here.
Sources: ``runs`` (ticket in, status, category), ``api_tickets`` (an HTTP submit's arrival), ``decisions``,
``feedback`` (one record per decision, :mod:`api.feedback`), the ``ledger`` (replies actually sent),
``messages`` (customer messages after submit), ``knowledge_gaps`` and the run's packet (escalation,
missing information, LLM usage) through a view function. The definitions are in README, "Learning and
metrics"; a ticket counts in the week (and category) it arrived in.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select

from tools import schema as t

CLASSES = ("unchanged", "light_edit", "heavy_edit", "rejected")
#: Decisions that end a review round (a redraft request does not; a superseded review is not a decision).
FINAL = ("accept", "edit", "ignore", "expired")
_BY_TYPE = {"accept": "unchanged", "ignore": "rejected", "response": "redraft", "expired": "expired", "edit": "unclassified_edit"}


def when(text: Any) -> datetime:
    """A stored ISO timestamp as an aware UTC datetime."""
    value = datetime.fromisoformat(str(text))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def week_of(moment: datetime) -> str:
    """The ISO week, e.g. ``2026-W05``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _hours(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


def load(store: Any, workspace: str, since: datetime | None) -> dict[str, list[dict[str, Any]]]:
    """The rows the metrics need, for ``workspace``'s runs that arrived at or after ``since``."""
    r = t.runs.c
    in_ws = r.workspace == workspace
    if since is not None:
        in_ws = and_(in_ws, r.created_at >= since.isoformat(timespec="seconds"))
    d, f, ld, m, a, g = t.decisions.c, t.feedback.c, t.ledger.c, t.messages.c, t.api_tickets.c, t.knowledge_gaps.c
    return {
        "runs": store.query(select(r.thread_id, r.ticket_id, r.category, r.status, r.created_at).where(in_ws)),
        "arrived": store.query(select(a.thread_id, a.created_at).where(a.tenant == workspace)),
        "decisions": store.query(select(d.thread_id, d.interrupt_id, d.decision, d.decided_at)
                                 .select_from(t.decisions.join(t.runs, r.thread_id == d.thread_id)).where(in_ws)),
        "feedback": store.query(select(f.thread_id, f.ticket_id, f.category, f.kind, f.detail, f.created_at)
                                .where(f.workspace == workspace).order_by(f.id)),
        "replies": store.query(select(ld.thread_id, ld.applied_at).select_from(t.ledger.join(t.runs, r.thread_id == ld.thread_id))
                               .where(in_ws, ld.action == "send_reply")),
        "messages": store.query(select(m.thread_id, m.at).select_from(t.messages.join(t.runs, r.thread_id == m.thread_id))
                                .where(in_ws, m.author == "customer", m.internal == 0)),
        "gaps": store.query(select(g.ticket_id).where(g.workspace == workspace)),
    }


def _by_thread(rows: Iterable[dict[str, Any]], key: str = "thread_id") -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(str(row[key]), []).append(row)
    return out


def tickets(data: dict[str, list[dict[str, Any]]], packet_of: Callable[[str], dict[str, Any]], now: datetime,
            reopen_days: float) -> list[dict[str, Any]]:
    """One fact row per ticket: when it arrived, was answered and decided, its decision classes, reopens, packet facts."""
    arrived = {str(row["thread_id"]): when(row["created_at"]) for row in data["arrived"]}
    decisions, replies, messages = (_by_thread(data[k]) for k in ("decisions", "replies", "messages"))
    records: dict[tuple[str, str], dict[str, Any]] = {}
    for row in data["feedback"]:
        detail = json.loads(str(row["detail"] or "null"))
        if isinstance(detail, dict) and "interrupt_id" in detail:  # rows written before feedback records had no id
            records[(str(row["thread_id"]), str(detail["interrupt_id"]))] = detail
    gaps = {str(row["ticket_id"]) for row in data["gaps"]}
    out = []
    for run in data["runs"]:
        thread = str(run["thread_id"])
        created = min(when(run["created_at"]), arrived.get(thread, when(run["created_at"])))
        own = sorted(decisions.get(thread, []), key=lambda row: str(row["decided_at"]))
        feedback = [records.get((thread, str(row["interrupt_id"]))) for row in own]
        classes = [str(rec["edit_class"]) if rec else _BY_TYPE.get(str(row["decision"]), str(row["decision"]))
                   for row, rec in zip(own, feedback, strict=True)]
        overrides = {k: v["to"] for rec in feedback if rec for k, v in (rec.get("overrides") or {}).items()}
        sent = sorted(when(row["applied_at"]) for row in replies.get(thread, []))
        said = sorted(when(row["at"]) for row in messages.get(thread, []))
        final = [when(row["decided_at"]) for row in own if row["decision"] in FINAL]
        packet = packet_of(thread) or {}
        escalation, llm = packet.get("escalation") or {}, packet.get("llm") or {}
        pending = run["status"] == "awaiting_review"
        out.append({
            "thread_id": thread, "ticket_id": run["ticket_id"], "week": week_of(created),
            "category": str(overrides.get("category") or run["category"] or "unknown"), "agent_category": run["category"],
            "first_response_h": _hours(sent[0], created) if sent else None,
            "decision_h": _hours(final[0], created) if final else None,
            "queue_age_h": _hours(now, max([created, *said])) if pending else None,
            "classes": classes, "overridden": sorted(overrides),
            "reopened": any(s <= m <= s + timedelta(days=reopen_days) for s in sent for m in said),  # whole seconds
            "gap": str(run["ticket_id"]) in gaps,
            "escalated": str(escalation.get("team") or "none") != "none",
            "escalation_complete": not packet.get("missing_information"),
            "llm_calls": int(llm.get("model_calls") or 0), "llm_fallback": bool(llm.get("fallback")),
            "tokens_in": int(llm.get("input_tokens") or 0), "tokens_out": int(llm.get("output_tokens") or 0),
        })
    return out


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _spread(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "median": None, "p90": None, "mean": None, "max": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"n": len(values), "median": round(statistics.median(ordered), 3), "p90": round(p90, 3),
            "mean": round(statistics.fmean(ordered), 3), "max": round(ordered[-1], 3)}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The metrics of a group of tickets (see README, "Learning and metrics")."""
    classes = [c for row in rows for c in row["classes"]]
    counts = {name: classes.count(name) for name in (*CLASSES, "unclassified_edit")}
    decided = sum(counts.values())
    replied = [row for row in rows if row["first_response_h"] is not None]
    escalated = [row for row in rows if row["escalated"]]
    complete = sum(row["escalation_complete"] for row in escalated)
    return {
        "tickets": len(rows),
        "first_response_hours": _spread([row["first_response_h"] for row in replied]),
        "time_to_decision_hours": _spread([row["decision_h"] for row in rows if row["decision_h"] is not None]),
        "review_queue_age_hours": _spread([row["queue_age_h"] for row in rows if row["queue_age_h"] is not None]),
        "decisions": decided, "acceptance": counts,
        "acceptance_pct": {name: _pct(counts[name], decided) for name in CLASSES},
        "redraft_requests": classes.count("redraft"), "expired_approvals": classes.count("expired"),
        "overridden_tickets": sum(bool(row["overridden"]) for row in rows),
        "escalations": len(escalated), "escalations_complete": complete,
        "escalation_completeness_pct": _pct(complete, len(escalated)),
        "knowledge_gaps": sum(row["gap"] for row in rows), "knowledge_gap_rate_pct": _pct(sum(row["gap"] for row in rows), len(rows)),
        "replied": len(replied), "reopened": sum(row["reopened"] for row in replied),
        "reopen_rate_pct": _pct(sum(row["reopened"] for row in replied), len(replied)),
        "llm": {"calls": sum(row["llm_calls"] for row in rows), "fallbacks": sum(row["llm_fallback"] for row in rows),
                "input_tokens": sum(row["tokens_in"] for row in rows), "output_tokens": sum(row["tokens_out"] for row in rows)},
    }


def grouped(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    """``summarise`` per distinct value of ``keys`` (e.g. week, category), sorted by them."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(str(row[k]) for k in keys), []).append(row)
    return [{**dict(zip(keys, key, strict=True)), **summarise(groups[key])} for key in sorted(groups)]
