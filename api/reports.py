"""The learning report: reviewer decisions per category (edit rate) and knowledge gaps, per workspace."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tools import schema as t
from tools.store import Store


def learning_report(store: Store, workspace: str) -> dict[str, Any]:
    """``workspace``'s knowledge gaps, reviewer edits and overrides per category: where knowledge or rules need work."""
    r, d = t.runs.c, t.decisions.c
    decided = store.query(
        select(r.category, d.decision, func.count().label("n")).select_from(t.decisions.join(t.runs, r.thread_id == d.thread_id))
        .where(r.workspace == workspace).group_by(r.category, d.decision).order_by(r.category))
    by_category: dict[str, dict[str, int]] = {}
    for row in decided:
        by_category.setdefault(str(row["category"]), {})[str(row["decision"])] = int(str(row["n"]))
    for counts in by_category.values():
        total = sum(counts.values())
        counts["total"] = total
        counts["edit_rate_pct"] = round(100 * (total - counts.get("accept", 0)) / total) if total else 0
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
    recent = store.query(select(f.ticket_id, f.category, f.kind, f.detail, f.created_at).where(f.workspace == workspace)
                         .order_by(f.id.desc()).limit(10))
    return {"workspace": workspace, "decisions_by_category": by_category, "knowledge_gaps": gap_rows,
            "recent_feedback": recent}
