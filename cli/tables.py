"""The CLI's tables: pending reviews (time left to the SLA, every flag), the batch summary, knowledge gaps."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.table import Table
from rich.text import Text

from cli.render import clean, duration, flags_text, priority_text, styled

_NUMBERS = {"tickets", "awaiting review", "worst score"}


def _table(*columns: str, wrap: tuple[str, ...] = ()) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 2, 0, 0))
    for name in columns:
        table.add_column(name, header_style="bold dim", no_wrap=name not in wrap,
                         justify="right" if name in _NUMBERS else "left")
    return table


def sla_due(row: dict[str, Any]) -> datetime | None:
    """When a pending run's SLA runs out: its arrival plus the SLA target (None if either is unknown)."""
    try:
        start = datetime.fromisoformat(str(row["created_at"]))
        return (start if start.tzinfo else start.replace(tzinfo=UTC)) + timedelta(hours=float(row["sla_hours"]))
    except (KeyError, TypeError, ValueError):
        return None


def time_left(row: dict[str, Any], now: datetime) -> Text:
    """The time left to the SLA, coloured: overdue red, under an hour (or a quarter of the target) yellow."""
    due = sla_due(row)
    if due is None:
        return Text("unknown", style="dim")
    left = (due - now).total_seconds() / 3600
    if left < 0:
        return Text(f"overdue {duration(left)}", style="bold red")
    tight = left < 1 or left < 0.25 * float(row.get("sla_hours") or 0)
    return Text(f"{duration(left)} left", style="yellow" if tight else "green")


def by_deadline(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` ordered by SLA deadline, soonest first (unknown deadlines last)."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda r: sla_due(r) or far)


def reviews_table(rows: list[dict[str, Any]], now: datetime | None = None) -> Table:
    """Pending reviews, soonest SLA deadline first: thread, priority, time left, category, every risk flag."""
    now = now or datetime.now(UTC)
    table = _table("thread", "priority", "time to SLA", "category", "risk flags", wrap=("risk flags",))
    for row in by_deadline(rows):
        table.add_row(styled(row.get("thread_id"), "cyan"), priority_text(row.get("priority") or "?"), time_left(row, now),
                      styled(row.get("category") or "?"), flags_text(list(row.get("risk_flags") or [])))
    return table


def batch_summary(views: list[dict[str, Any]], errors: int, source: str) -> tuple[Text, Table, Table]:
    """The end of ``batch``: counts (processed, awaiting review, completed, errors) and tickets per category."""
    statuses = Counter(str(v.get("status")) for v in views)
    counts = Table.grid(padding=(0, 2))
    counts.add_column(style="bold")
    counts.add_column(justify="right")
    counts.add_row("processed", str(len(views)))
    counts.add_row("awaiting review", Text(str(statuses.pop("awaiting_review", 0)), style="yellow"))
    counts.add_row("completed", Text(str(statuses.pop("completed", 0)), style="green"))
    for status, n in sorted(statuses.items()):
        counts.add_row(status.replace("_", " "), str(n))
    counts.add_row("errors", Text(str(errors), style="bold red" if errors else "green"))
    by_category = Counter(str((v.get("packet") or {}).get("category") or "?") for v in views)
    waiting = Counter(str((v.get("packet") or {}).get("category") or "?") for v in views if v.get("status") == "awaiting_review")
    table = _table("category", "tickets", "awaiting review")
    for category, n in by_category.most_common():
        table.add_row(styled(category), str(n), str(waiting.get(category, 0)))
    return Text(f"Batch {clean(source)}", style="bold"), counts, table


def gaps_table(report: dict[str, Any]) -> Table:
    """The learning report's knowledge gaps: per category, tickets, worst retrieval score, example queries."""
    gaps = _table("category", "tickets", "worst score", "example queries", wrap=("example queries",))
    for gap in report.get("knowledge_gaps", []):
        worst = gap.get("worst")
        gaps.add_row(styled(gap.get("category")), str(gap.get("n", 0)), f"{worst:.2f}" if isinstance(worst, int | float) else "",
                     styled(gap.get("examples") or ""))
    return gaps
