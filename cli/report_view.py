"""``support-agent report``: the outcome metrics as tables (plain text when piped) and the weekly chart (PNG).

matplotlib is imported only when a chart is asked for, with the Agg backend (no display needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.render import clean, styled

CLASSES = ("unchanged", "light_edit", "heavy_edit", "rejected")
COLOURS = {"unchanged": "#3a923a", "light_edit": "#8cc084", "heavy_edit": "#e8a33d", "rejected": "#c8453c"}


def _table(*columns: str, wrap: tuple[str, ...] = ()) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 2, 0, 0))
    for i, name in enumerate(columns):
        table.add_column(name, header_style="bold dim", no_wrap=name not in wrap, justify="left" if i == 0 or name in wrap else "right")
    return table


def _h(spread: dict[str, Any], key: str = "median") -> str:
    value = spread.get(key)
    return "–" if value is None else f"{value:.1f} h" if value >= 1 else f"{value * 60:.0f} min"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value:g}%"


def outcome_table(groups: list[dict[str, Any]], key: str) -> Table:
    """One row per week or category: response times, acceptance classes, redrafts, reopens, gaps, escalations."""
    table = _table(key, "tickets", "1st response", "to decision", "unchanged", "light", "heavy", "rejected", "redrafts",
                   "expired", "reopen", "gaps", "esc. complete", "llm fallbacks")
    for g in groups:
        acc, pct = g["acceptance"], g["acceptance_pct"]
        classes = [f"{acc[c]} ({_pct(pct[c])})" if g["decisions"] else "0" for c in CLASSES]
        heavy = Text(classes[2], style="yellow" if (pct["heavy_edit"] or 0) >= 20 else "")
        table.add_row(styled(g[key]), str(g["tickets"]), _h(g["first_response_hours"]), _h(g["time_to_decision_hours"]),
                      classes[0], classes[1], heavy, classes[3], str(g["redraft_requests"]), str(g["expired_approvals"]),
                      f"{g['reopened']}/{g['replied']}", _pct(g["knowledge_gap_rate_pct"]),
                      f"{g['escalations_complete']}/{g['escalations']}", str(g["llm"]["fallbacks"]))
    return table


def feedback_table(records: list[dict[str, Any]], limit: int = 10) -> Table:
    """The newest reviewer decisions: class, similarity of sent to draft, dropped actions, reason, overrides."""
    table = _table("ticket", "decision", "class", "similarity", "dropped", "comment / overrides", wrap=("comment / overrides",))
    for r in records[:limit]:
        overrides = ", ".join(f"{k} {v['from']}→{v['to']}" for k, v in (r.get("overrides") or {}).items())
        note = " · ".join(x for x in (clean(r.get("comment") or ""), overrides) if x)
        similarity = "–" if r.get("similarity") is None else f"{r['similarity']:.2f}"
        table.add_row(styled(r.get("ticket_id"), "cyan"), styled(r.get("type")), styled(r.get("edit_class")), similarity,
                      styled(", ".join(a["name"] for a in r.get("dropped") or [])), styled(note))
    return table


def print_report(console: Console, report: dict[str, Any]) -> None:
    """The report's tables, totals first."""
    totals, queue = report["totals"], report["totals"]["review_queue_age_hours"]
    window = f"last {report['since_days']:g} days" if report.get("since_days") is not None else "all time"
    console.print(Text(f"Outcomes in workspace '{clean(report['workspace'])}' ({window}; a ticket counts in the week it "
                       f"arrived; reopen = customer message within {report['reopen_days']:g} days of a sent reply)", style="bold"))
    console.print(f"{totals['tickets']} tickets · first response median {_h(totals['first_response_hours'])} "
                  f"(p90 {_h(totals['first_response_hours'], 'p90')}) · review queue now {queue['n']} "
                  f"(oldest {_h(queue, 'max')}) · LLM calls {totals['llm']['calls']}, tokens "
                  f"{totals['llm']['input_tokens']}+{totals['llm']['output_tokens']}, fallbacks {totals['llm']['fallbacks']}")
    for title, key, groups in (("\nPer week:", "week", report["by_week"]), ("\nPer category:", "category", report["by_category"])):
        console.print(title)
        console.print(outcome_table(groups, key) if groups else "  no tickets")
    console.print("\nReviewer feedback (newest decisions; light edit = similarity ≥ "
                  f"{report['thresholds']['light_edit_min_similarity']:g}):")
    console.print(feedback_table(report["feedback"]) if report["feedback"] else "  none yet")


def write_chart(report: dict[str, Any], path: Path) -> Path:
    """A PNG of the weekly trend (acceptance classes, first response) and acceptance per category."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weeks, categories = report["by_week"], report["by_category"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [max(2, len(weeks)), 3]})
    _stacked(left, [w["week"] for w in weeks], weeks)
    left.set_title("Reviewer decisions per week")
    if weeks:
        hours = left.twinx()
        hours.plot(range(len(weeks)), [w["first_response_hours"]["median"] or 0 for w in weeks], "o-", color="#2b5d9b",
                   label="first response, median (h)")
        hours.set_ylabel("hours")
        hours.set_ylim(bottom=0)
        hours.legend(loc="upper right", fontsize=8)
    _stacked(right, [c["category"] for c in categories], categories)
    right.set_title("Per category")
    right.tick_params(axis="x", labelrotation=35)
    fig.suptitle(f"Workspace '{report['workspace']}': {report['totals']['tickets']} tickets, "
                 f"{report['totals']['decisions']} final decisions, {report['totals']['redraft_requests']} redraft requests")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _stacked(ax: Any, labels: list[str], groups: list[dict[str, Any]]) -> None:
    bottom = [0] * len(groups)
    for name in CLASSES:
        values = [g["acceptance"][name] for g in groups]
        ax.bar(range(len(groups)), values, bottom=bottom, color=COLOURS[name], label=name.replace("_", " "))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    from matplotlib.ticker import MaxNLocator

    ax.set_xticks(range(len(groups)), labels, fontsize=8)
    ax.set_ylim(0, max(bottom, default=0) * 1.45 + 1)  # room for the legend above the bars
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("decisions")
    ax.legend(loc="upper left", fontsize=8)
