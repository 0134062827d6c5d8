"""The learning report: reviewer decisions per category (edit rate) and knowledge gaps, per workspace."""

from __future__ import annotations

from typing import Any

from tools.store import AnyStore


def learning_report(store: AnyStore, workspace: str) -> dict[str, Any]:
    """``workspace``'s knowledge gaps, reviewer edits and overrides per category: where knowledge or rules need work."""
    decided = store.query(
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
    for row in store.query("SELECT category, query, top_score FROM knowledge_gaps WHERE workspace = ? ORDER BY id",
                                (workspace,)):
        gap = gaps.setdefault(str(row["category"]), {"category": row["category"], "n": 0, "worst": None, "queries": []})
        gap["n"] += 1
        score = float(row["top_score"] or 0.0)  # type: ignore[arg-type]
        gap["worst"] = score if gap["worst"] is None else min(gap["worst"], score)
        gap["queries"].append(str(row["query"]))
    gap_rows = [{**g, "examples": " | ".join(g.pop("queries")[:5])} for g in sorted(gaps.values(), key=lambda g: -g["n"])]
    recent = store.query("SELECT ticket_id, category, kind, detail, created_at FROM feedback WHERE workspace = ? "
                              "ORDER BY id DESC LIMIT 10", (workspace,))
    return {"workspace": workspace, "decisions_by_category": by_category, "knowledge_gaps": gap_rows,
            "recent_feedback": recent}
