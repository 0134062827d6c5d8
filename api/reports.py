"""The learning report of a workspace: outcome metrics (per ISO week and category), reviewer feedback, knowledge gaps.

The metrics are computed by :mod:`api.outcomes` (definitions in README, "Learning and metrics"); the
per-decision feedback records by :mod:`api.feedback`. The CLI (``support-agent report``) and
``GET /v1/reports`` return the same JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from api import outcomes
from tools import schema as t

#: A customer message within this many days after a sent reply reopens the ticket.
REOPEN_DAYS = 7.0
#: How many per-decision feedback records the report lists (newest first); the feedback table keeps them all.
FEEDBACK_SHOWN = 50


def learning_report(store: Any, workspace: str, packet_of: Callable[[str], dict[str, Any]] | None = None,
                    since_days: float | None = None, reopen_days: float = REOPEN_DAYS,
                    now: datetime | None = None) -> dict[str, Any]:
    """``workspace``'s outcome metrics, reviewer feedback and knowledge gaps: where knowledge or rules need work.

    ``packet_of`` returns a run's packet (``{}`` when unknown; from ``SupportDesk.view`` or the CLI's reader)
    for its escalation, missing information and LLM usage; without it those metrics count nothing. ``since_days`` keeps the tickets that
    arrived in the last N days.
    """
    now = now or datetime.now(UTC)
    since = now - timedelta(days=since_days) if since_days is not None else None
    data = outcomes.load(store, workspace, since)
    rows = outcomes.tickets(data, packet_of or (lambda _: {}), now, reopen_days)
    threads = {row["thread_id"] for row in rows}
    return {
        "workspace": workspace, "generated_at": now.isoformat(timespec="seconds"), "since_days": since_days,
        "reopen_days": reopen_days, "thresholds": _thresholds(),
        "totals": outcomes.summarise(rows), "by_week": outcomes.grouped(rows, "week"),
        "by_category": outcomes.grouped(rows, "category"), "by_week_category": outcomes.grouped(rows, "week", "category"),
        "feedback": _feedback(data["feedback"], threads), **_legacy(store, workspace),
    }


def _thresholds() -> dict[str, float]:
    from api.feedback import LIGHT_EDIT_MIN_SIMILARITY

    return {"light_edit_min_similarity": LIGHT_EDIT_MIN_SIMILARITY}


def _feedback(rows: list[dict[str, Any]], threads: set[str]) -> list[dict[str, Any]]:
    """The newest per-decision records of the report's tickets (draft, sent, class, dropped actions, comment, overrides)."""
    out = []
    for row in reversed(rows):
        detail = json.loads(str(row["detail"] or "null"))
        if str(row["thread_id"]) in threads and isinstance(detail, dict) and "edit_class" in detail:
            out.append({"ticket_id": row["ticket_id"], "category": row["category"], "at": row["created_at"], **detail})
        if len(out) >= FEEDBACK_SHOWN:
            break
    return out


def _legacy(store: Any, workspace: str) -> dict[str, Any]:
    """Decision counts by type per category, knowledge gaps and recent non-accept feedback (the report's first keys)."""
    r, d = t.runs.c, t.decisions.c
    decided = store.query(
        select(r.category, d.decision, func.count().label("n")).select_from(t.decisions.join(t.runs, r.thread_id == d.thread_id))
        .where(r.workspace == workspace).group_by(r.category, d.decision).order_by(r.category))
    by_category: dict[str, dict[str, int]] = {}
    for row in decided:
        by_category.setdefault(str(row["category"]), {})[str(row["decision"])] = int(str(row["n"]))
    for counts in by_category.values():
        counts["total"] = sum(counts.values())
    gaps: dict[str, dict[str, Any]] = {}
    g = t.knowledge_gaps.c
    for row in store.query(select(g.category, g.query, g.top_score).where(g.workspace == workspace).order_by(g.id)):
        gap = gaps.setdefault(str(row["category"]), {"category": row["category"], "n": 0, "worst": None, "queries": []})
        gap["n"] += 1
        score = float(row["top_score"] or 0.0)
        gap["worst"] = score if gap["worst"] is None else min(gap["worst"], score)
        gap["queries"].append(str(row["query"]))
    gap_rows = [{**g, "examples": " | ".join(g.pop("queries")[:5])} for g in sorted(gaps.values(), key=lambda g: -g["n"])]
    f = t.feedback.c
    recent = store.query(select(f.ticket_id, f.category, f.kind, f.detail, f.created_at)
                         .where(f.workspace == workspace, f.kind != "accept").order_by(f.id.desc()).limit(10))
    return {"decisions_by_category": by_category, "knowledge_gaps": gap_rows, "recent_feedback": recent}
