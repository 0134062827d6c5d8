"""The HTML eval report with its matplotlib PNG plots, written side by side so the page works offline.

Plots: triage confusion matrix, per-category scores, packet-latency histogram, gating table.
Tables: the metrics with their gates, request detection per type, escalation per team, the
non-English tickets per language, and every ticket with a mismatch or a problem (gating, citations,
leaks, grounding, inconsistent ``status``/``missing`` of a gated action, an accept that would
approve an action with missing arguments, a wrong sentiment).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

from evals.evaluators import COUNT_METRICS

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

CATEGORIES = ["billing", "refund", "account_access", "permissions", "bug", "outage", "how_to", "integrations",
              "security", "privacy_legal", "cancellation", "feature_request"]


def _save(fig: Any, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path.name


def confusion_png(rows: Sequence[dict[str, Any]], path: Path) -> str:
    """Expected (rows) × predicted (columns) category counts."""
    labels = CATEGORIES + sorted({r["category"] for r in rows} - set(CATEGORIES))
    index = {c: i for i, c in enumerate(labels)}
    grid = [[0] * len(labels) for _ in labels]
    for r in rows:
        grid[index[r["expected"]["category"]]][index[r["category"]]] += 1
    fig, ax = plt.subplots(figsize=(8.5, 7.5))
    ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    peak = max(max(row) for row in grid) or 1
    for i, row in enumerate(grid):
        for j, n in enumerate(row):
            if n:
                ax.text(j, i, str(n), ha="center", va="center", color="white" if n > peak / 2 else "black", fontsize=9)
    ax.set_xlabel("predicted category")
    ax.set_ylabel("expected category")
    ax.set_title("Triage confusion matrix")
    return _save(fig, path)


def per_category(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Triage, priority, escalation accuracy and gating pass rate per expected category."""
    out = {}
    for cat in CATEGORIES:
        group = [r for r in rows if r["expected"]["category"] == cat]
        if group:
            out[cat] = {"n": len(group),
                        "triage": sum(r["category_ok"] for r in group) / len(group),
                        "priority": sum(r["priority_ok"] for r in group) / len(group),
                        "escalation": sum(r["escalation_ok"] for r in group) / len(group),
                        "gating": sum(not r["gating"]["violations"] for r in group) / len(group)}
    return out


def per_category_png(scores: dict[str, dict[str, float]], path: Path) -> str:
    """Grouped bars of the per-category scores."""
    keys = ["triage", "priority", "escalation", "gating"]
    cats = list(scores)
    fig, ax = plt.subplots(figsize=(11, 4.8))
    width = 0.2
    for k, key in enumerate(keys):
        ax.bar([i + (k - 1.5) * width for i in range(len(cats))], [scores[c][key] for c in cats], width, label=key)
    ax.set_xticks(range(len(cats)), cats, rotation=30, ha="right")
    ax.set_ylim(0, 1.18)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("share of tickets correct")
    ax.set_title("Scores per expected category")
    ax.legend(ncols=4, loc="upper center")
    return _save(fig, path)


def latency_png(rows: Sequence[dict[str, Any]], path: Path) -> str:
    """Histogram of packet latency (ticket in → packet out) in milliseconds."""
    values = [1000 * r["latency_s"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(values, bins=30, color="#4c72b0")
    ax.set_xlabel("packet latency (ms)")
    ax.set_ylabel("tickets")
    ax.set_title(f"Packet latency, n={len(values)}")
    return _save(fig, path)


def gating_rows(rows: Sequence[dict[str, Any]]) -> list[tuple[str, int, int, int]]:
    """Per action: (name, times it had to be gated, times it was gated, times a label expected it but it was not proposed)."""
    stats: dict[str, list[int]] = {}
    for r in rows:
        for action in r["outputs"]["packet"].get("proposed_actions", []):
            s = stats.setdefault(action["name"], [0, 0, 0])
            if action["needs_approval"] or action["name"] in r["expected"]["must_gate"]:
                s[0] += 1
                s[1] += not any(v.startswith(action["name"] + ":") for v in r["gating"]["violations"])
        for name in r["gating"]["missing_proposals"]:
            stats.setdefault(name, [0, 0, 0])[2] += 1
    return sorted(((n, *s) for n, s in stats.items()), key=lambda t: (-t[1], t[0]))  # type: ignore[misc]


def gating_png(table: list[tuple[str, int, int, int]], path: Path) -> str:
    """The gating table as an image (green row = every required gate held)."""
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(table) + 0.9))
    ax.axis("off")
    cells = [[n, str(must) if must else "— (automatic)", str(ok), str(miss)] for n, must, ok, miss in table]
    colours = [["#eeeeee" if not must else "#d8f0d8" if ok == must else "#f6d0d0"] * 3 + ["#fff3c4" if miss else "#ffffff"]
               for _, must, ok, miss in table]
    t = ax.table(cellText=cells, cellColours=colours, loc="center",
                 colLabels=["action", "must be gated", "gated", "expected, not proposed"])
    t.scale(1, 1.3)
    ax.set_title("Gating by action")
    return _save(fig, path)


def _metrics_html(metrics: dict[str, float], thresholds: dict[str, dict[str, float]], failures: list[str]) -> str:
    failing = {f.split(" ")[0] for f in failures}
    out = ["<table><tr><th>metric</th><th>value</th><th>gate</th></tr>"]
    for name, value in metrics.items():
        bound = thresholds.get(name, {})
        gate = f"&ge; {bound['min']}" if "min" in bound else f"&le; {bound['max']}" if "max" in bound else ""
        cls = ' class="fail"' if name in failing else ' class="pass"' if gate else ""
        shown = f"{int(value)}" if name in COUNT_METRICS else f"{value:.3f}"
        out.append(f"<tr{cls}><td>{name}</td><td>{shown}</td><td>{gate}</td></tr>")
    return "\n".join(out) + "</table>"


def _pr_html(scores: dict[str, dict[str, float]], first: str) -> str:
    """A precision / recall / support table (request types, escalation teams)."""
    out = [f"<table><tr><th>{first}</th><th>precision</th><th>recall</th><th>support</th></tr>"]
    out += [f"<tr><td>{html.escape(name)}</td><td>{v['precision']:.3f}</td><td>{v['recall']:.3f}</td><td>{int(v['support'])}</td></tr>"
            for name, v in scores.items()]
    return "\n".join(out) + "</table>"


def _multilingual_html(extra: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    if "multilingual" not in extra:
        return "<p>Not run (<code>--multilingual none</code>).</p>"
    out = ["<table><tr><th>language</th><th>tickets</th><th>triage accuracy</th><th>request recall</th>"
           "<th>request precision</th><th>requested-action recall</th><th>requested-action precision</th>"
           "<th>language detected</th><th>flagged language:&lt;code&gt;</th></tr>"]
    out += [f"<tr><td>{lang}</td><td>{int(v['examples'])}</td><td>{v['triage_accuracy']:.3f}</td><td>{v['request_recall']:.3f}</td>"
            f"<td>{v['request_precision']:.3f}</td><td>{v['request_action_recall']:.3f}</td><td>{v['request_action_precision']:.3f}</td>"
            f"<td>{v['language_accuracy']:.3f}</td><td>{v['language_flag_rate']:.3f}</td></tr>"
            for lang, v in extra["multilingual"]["by_language"].items()]
    out.append("</table><h3>Non-English tickets with a mismatch</h3>"
               "<table><tr><th>ticket</th><th>expected</th><th>got</th></tr>")
    for r in rows:
        e = r["expected"]
        if not (r["category_ok"] and r["language_ok"] and set(e["requests"]) <= set(r["requests_detected"])):
            out.append(f"<tr><td>{r['id']}</td><td>{e['language']} · {e['category']} · {', '.join(e['requests'])}</td>"
                       f"<td>{html.escape(str(r['language']))} · {html.escape(str(r['category']))} · "
                       f"{html.escape(', '.join(r['requests_detected']) or '(no request)')}</td></tr>")
    return "\n".join(out) + "</table>"


def _cases_html(rows: Sequence[dict[str, Any]]) -> str:
    out = ["<table><tr><th>ticket</th><th>expected</th><th>got</th><th>problems</th></tr>"]
    for r in rows:
        e = r["expected"]
        problems = [*r["gating"]["violations"], *r["citations"]["invalid"], *(f"leak: {s}" for s in r["leaks"][:2]),
                    *(f"unsupported: {s}" for s in r["grounding"]["unsupported"][:2]),
                    *(f"args: {p}" for p in r.get("args", {}).get("problems", [])),
                    *(f"accept: {p}" for p in r.get("accept", {}).get("applied_missing", []))]
        if r.get("sentiment_ok") == 0.0:
            problems.append(f"sentiment: expected {e['sentiment']}, got {r['sentiment']}")
        expected_requests = r.get("requests_expected")
        if expected_requests is not None and set(expected_requests) != set(r.get("requests_detected", [])):
            problems.append(f"requests: expected {', '.join(expected_requests) or '-'}, "
                            f"detected {', '.join(r.get('requests_detected', [])) or '-'}")
        mismatch = not (r["category_ok"] and r["priority_ok"] and r["escalation_ok"])
        if mismatch or problems:
            out.append(f"<tr><td>{r['id']}</td><td>{e['category']} / {e['priority']} / {e['escalation']}</td>"
                       f"<td>{r['category']} / {r['priority']} / {r['escalation']}</td>"
                       f"<td>{html.escape('; '.join(problems))}</td></tr>")
    return "\n".join(out) + "</table>"


def write_report(rows: Sequence[dict[str, Any]], metrics: dict[str, float], thresholds: dict[str, dict[str, float]],
                 failures: list[str], out_dir: Path, engine: str = "offline", extra: dict[str, Any] | None = None,
                 multilingual: Sequence[dict[str, Any]] = ()) -> Path:
    """Write ``report.html``, its PNGs and ``results.json`` into ``out_dir``; return the HTML path.

    ``extra``: the breakdowns of ``evals.runner.details`` (requests per type, escalation per team,
    non-English per language); ``multilingual``: the scored non-English rows.
    """
    extra = extra or {}
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = per_category(rows)
    gates = gating_rows(rows)
    images = {
        "Confusion matrix": confusion_png(rows, out_dir / "confusion_matrix.png"),
        "Per-category scores": per_category_png(scores, out_dir / "per_category.png"),
        "Packet latency": latency_png(rows, out_dir / "latency_hist.png"),
        "Gating table": gating_png(gates, out_dir / "gating_table.png"),
    }
    (out_dir / "results.json").write_text(json.dumps({"metrics": metrics, "failures": failures, "details": extra, "rows": rows,
                                                      "multilingual_rows": list(multilingual)},
                                                     indent=1, default=str), encoding="utf-8")
    sections = ""
    if "requests" in extra:
        sections += (f"<h2>Request detection per type</h2><p>{extra['requests']['tickets']} tickets labelled in "
                     f"<code>evals/datasets/sample_requests.jsonl</code>; micro precision {extra['requests']['micro']['precision']:.3f}, "
                     f"recall {extra['requests']['micro']['recall']:.3f}.</p>{_pr_html(extra['requests']['per_type'], 'request type')}")
    if "escalation" in extra:
        sections += f"<h2>Escalation per team</h2>{_pr_html(extra['escalation'], 'team')}"
    if extra:
        sections += (f"<h2>Non-English tickets</h2><p>{len(multilingual)} tickets of "
                     f"<code>evals/datasets/multilingual.jsonl</code> (reported, not gated).</p>{_multilingual_html(extra, multilingual)}")
    status = "FAIL: " + "; ".join(failures) if failures else "all gates pass"
    figures = "\n".join(f'<figure><img src="{src}" alt="{title}"><figcaption>{title}</figcaption></figure>'
                        for title, src in images.items())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Support Desk Agent — eval report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1200px; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }}
td, th {{ border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }}
tr.fail td {{ background: #f6d0d0; }} tr.pass td {{ background: #d8f0d8; }}
figure {{ display: inline-block; margin: 0.5rem; }} img {{ max-width: 100%; border: 1px solid #eee; }}
.status {{ font-weight: bold; padding: 0.5rem; background: {'#f6d0d0' if failures else '#d8f0d8'}; }}
</style></head><body>
<h1>Support Desk Agent — eval report</h1>
<p>{len(rows)} labeled tickets · engine <code>{engine}</code> · dataset <code>evals/datasets/sample_eval.jsonl</code></p>
<p class="status">{html.escape(status)}</p>
<h2>Metrics</h2>{_metrics_html(metrics, thresholds, failures)}
{sections}
<h2>Plots</h2>{figures}
<h2>Tickets with a mismatch or a problem</h2>{_cases_html(rows)}
<p>Methods: see <code>evals/evaluators.py</code> (lexical groundedness, 8-word-shingle leak check).</p>
</body></html>
"""
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
