"""The HTML eval report: run metadata, metrics with the delta to the previous run, HTML tables and bars, two PNG plots.

Written into ``evals/reports/<timestamp>/``: ``report.html`` (works offline: no CDN, no JavaScript),
``confusion_matrix.png`` and ``latency_hist.png`` (matplotlib), ``results.json`` (every row) and
``metrics.json`` — the machine-readable summary (metadata, thresholds, metrics) that the next run in
the same reports folder reads to show each metric's previous value and change.

Sections: run metadata (git commit, dataset hash, thresholds, engine, date, tickets), the metrics with
their gates and deltas, gating per action and per ticket (HTML tables), per-category bars with ``n``
and value labels, request detection per type, escalation per team, the non-English tickets per
language, and every ticket with a mismatch or a problem. Every text that comes from data is escaped.
"""

from __future__ import annotations

import hashlib
import html
import json
import subprocess
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

from evals.evaluators import COUNT_METRICS

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: What ``make eval`` reads by default (those that exist); the multilingual file counts only when its rows were run.
DEFAULT_DATASETS = (HERE / "datasets" / "sample_eval.jsonl", HERE / "datasets" / "sample_requests.jsonl",
                    HERE / "datasets" / "draft_relevance.jsonl")
MULTILINGUAL_DATASET = HERE / "datasets" / "multilingual.jsonl"
METRICS_FILE = "metrics.json"
#: Ungated metrics where lower is better (for a gated metric the gate decides: ``min`` ↑, ``max`` ↓).
LOWER_IS_BETTER = frozenset({"internal_leak_rate", "language_false_flag_rate", "gated_applied_missing_args",
                             "latency_p50_s", "latency_p95_s"})
#: Metrics whose change is neither good nor bad (the size of the run, how often an accept is refused).
NEUTRAL = frozenset({"examples", "request_labelled", "multilingual_examples", "accept_refused_rate"})
CATEGORIES = ["billing", "refund", "account_access", "permissions", "bug", "outage", "how_to", "integrations",
              "security", "privacy_legal", "cancellation", "feature_request"]
BAR_KEYS = ("triage", "priority", "escalation", "gating")


def esc(value: Any) -> str:
    """``value`` as HTML text (quotes included, so it is safe in attributes too)."""
    return html.escape(str(value))


# ----------------------------------------------------------------------------- run metadata


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=10).stdout.strip()


def git_commit(repo: Path = ROOT) -> str:
    """Short hash of ``HEAD``, ``-dirty`` when tracked files differ from it (like ``git describe --dirty``).

    ``unknown (no git)`` when git is missing or ``repo`` is not a repository.
    """
    try:
        head = _git(repo, "rev-parse", "--short", "HEAD")
        changed = _git(repo, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"{head}-dirty" if changed else head


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def dataset_hashes(paths: Sequence[Path]) -> tuple[str, dict[str, str]]:
    """The first 12 hex digits of the sha256 over every file (their digests in order), and of each file."""
    combined = hashlib.sha256()
    each = {}
    for path in paths:
        try:
            with path.open("rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
        except OSError:
            each[_label(path)] = "missing"
            continue
        combined.update(digest.encode())
        each[_label(path)] = digest[:12]
    return combined.hexdigest()[:12], each


def run_metadata(tickets: int, non_english: int, thresholds: dict[str, dict[str, float]], engine: str,
                 datasets: Sequence[Path], repo: Path, now: datetime) -> dict[str, Any]:
    """What identifies a run: date, commit, engine, sizes, dataset hashes and the thresholds it was gated by."""
    digest, files = dataset_hashes(datasets)
    return {"date": now.isoformat(timespec="microseconds"), "commit": git_commit(repo), "engine": engine,
            "tickets": tickets, "non_english_tickets": non_english, "dataset_hash": digest, "datasets": files,
            "thresholds": thresholds}


def previous_run(out_dir: Path, before: datetime) -> dict[str, Any] | None:
    """The ``metrics.json`` of the latest run dated before ``before`` among ``out_dir``'s siblings (None if none)."""
    found = []
    for path in out_dir.parent.glob(f"*/{METRICS_FILE}"):
        if path.parent.resolve() == out_dir.resolve():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            when = datetime.fromisoformat(data["meta"]["date"])
            if not isinstance(data["metrics"], dict) or when >= before:
                continue
        except (OSError, ValueError, TypeError, KeyError):
            continue  # a half-written or foreign file is not a previous run
        found.append((when, path.parent.name, data))
    if not found:
        return None
    when, name, data = max(found, key=lambda t: (t[0], t[1]))
    return {**data, "run": name}


def _meta_html(meta: dict[str, Any], previous: dict[str, Any] | None) -> str:
    gates = ", ".join(f"{esc(n)} {_gate(b)}" for n, b in meta["thresholds"].items()) or "none"
    files = "<br>".join(f"<code>{esc(name)}</code> {esc(h)}" for name, h in meta["datasets"].items())
    if previous is None:
        before = "none — the first run in this reports folder"
    else:
        p = previous.get("meta", {})
        before = (f"<code>{esc(previous['run'])}</code> · {esc(p.get('date', '?'))[:19].replace('T', ' ')} · commit "
                  f"<code>{esc(p.get('commit', '?'))}</code> · dataset <code>{esc(p.get('dataset_hash', '?'))}</code>")
        if p.get("dataset_hash") != meta["dataset_hash"]:
            before += ' <strong class="warn">— other data: the changes compare different datasets</strong>'
    cells = [("date", esc(meta["date"][:19].replace("T", " "))), ("git commit", f"<code>{esc(meta['commit'])}</code>"),
             ("engine", f"<code>{esc(meta['engine'])}</code>"),
             ("tickets", f"{meta['tickets']} labelled · {meta['non_english_tickets']} non-English"),
             ("dataset hash", f"<code>{esc(meta['dataset_hash'])}</code> (sha256, first 12 hex)<br>{files}"),
             ("thresholds", gates), ("previous run", before)]
    return '<table class="meta">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in cells) + "</table>"


# ----------------------------------------------------------------------------- metrics and deltas


def _gate(bound: dict[str, float]) -> str:
    parts = ([f"&ge; {esc(bound['min'])}"] if "min" in bound else []) + ([f"&le; {esc(bound['max'])}"] if "max" in bound else [])
    return " and ".join(parts)


def _shown(name: str, value: float) -> str:
    return f"{int(value)}" if name in COUNT_METRICS else f"{value:.3f}"


def direction(name: str, thresholds: dict[str, dict[str, float]]) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when a change is neither."""
    bound = thresholds.get(name, {})
    if "min" in bound or "max" in bound:
        return 0 if "min" in bound and "max" in bound else 1 if "min" in bound else -1
    return 0 if name in NEUTRAL else -1 if name in LOWER_IS_BETTER else 1


def _delta_cells(name: str, value: float, previous: dict[str, Any] | None, thresholds: dict[str, dict[str, float]]) -> str:
    if previous is None:
        return "<td>—</td><td>—</td>"
    try:
        before = float(previous["metrics"][name])
    except (KeyError, TypeError, ValueError):
        return '<td>—</td><td class="delta neutral">new</td>'
    change = value - before
    if abs(change) < 1e-9:
        return f'<td>{_shown(name, before)}</td><td class="delta same">= 0</td>'
    sign = direction(name, thresholds) * change
    cls = "good" if sign > 0 else "bad" if sign < 0 else "neutral"
    amount = f"{int(round(change)):+d}" if name in COUNT_METRICS else f"{change:+.3f}"
    return f'<td>{_shown(name, before)}</td><td class="delta {cls}">{"↑" if change > 0 else "↓"} {amount}</td>'


def _metrics_html(metrics: dict[str, float], thresholds: dict[str, dict[str, float]], failures: list[str],
                  previous: dict[str, Any] | None) -> str:
    failing = {f.split(" ")[0] for f in failures}
    out = ["<table><tr><th>metric</th><th>value</th><th>gate</th><th>previous</th><th>change</th></tr>"]
    for name, value in metrics.items():
        gate = _gate(thresholds.get(name, {}))
        cls = ' class="fail"' if name in failing else ' class="pass"' if gate else ""
        out.append(f"<tr{cls}><td>{esc(name)}</td><td>{_shown(name, value)}</td><td>{gate}</td>"
                   f"{_delta_cells(name, value, previous, thresholds)}</tr>")
    out.append("</table>")
    gone = sorted(set(previous["metrics"]) - set(metrics)) if previous else []
    if gone:
        out.append(f"<p>No longer measured since the previous run: {esc(', '.join(gone))}.</p>")
    return "\n".join(out)


# ----------------------------------------------------------------------------- plots (PNG)


def _save(fig: Any, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path.name


def _categories(rows: Sequence[dict[str, Any]], predicted: bool = False) -> list[str]:
    """The known categories in their usual order, then any other expected (and ``predicted``) label of the rows."""
    seen = {str(r["expected"]["category"]) for r in rows} | ({str(r["category"]) for r in rows} if predicted else set())
    return CATEGORIES + sorted(seen - set(CATEGORIES))


def confusion_png(rows: Sequence[dict[str, Any]], path: Path) -> str:
    """Expected (rows) × predicted (columns) category counts."""
    labels = _categories(rows, predicted=True)
    index = {c: i for i, c in enumerate(labels)}
    grid = [[0] * len(labels) for _ in labels]
    for r in rows:
        grid[index[str(r["expected"]["category"])]][index[str(r["category"])]] += 1
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


def latency_png(rows: Sequence[dict[str, Any]], path: Path) -> str:
    """Histogram of packet latency (ticket in → packet out) in milliseconds."""
    values = [1000 * r["latency_s"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(values, bins=30, color="#4c72b0")
    ax.set_xlabel("packet latency (ms)")
    ax.set_ylabel("tickets")
    ax.set_title(f"Packet latency, n={len(values)}")
    return _save(fig, path)


# ----------------------------------------------------------------------------- per category


def per_category(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Triage, priority, escalation accuracy and gating pass rate per expected category (with its ``n``)."""
    out = {}
    for cat in _categories(rows):
        group = [r for r in rows if str(r["expected"]["category"]) == cat]
        if group:
            out[cat] = {"n": len(group),
                        "triage": sum(r["category_ok"] for r in group) / len(group),
                        "priority": sum(r["priority_ok"] for r in group) / len(group),
                        "escalation": sum(r["escalation_ok"] for r in group) / len(group),
                        "gating": sum(not r["gating"]["violations"] for r in group) / len(group)}
    return out


def per_category_html(scores: dict[str, dict[str, float]]) -> str:
    """CSS bars per category and score, each labelled with its value and correct/n."""
    out = ['<table class="bars"><tr><th>expected category</th><th>n</th>' + "".join(f"<th>{k}</th>" for k in BAR_KEYS) + "</tr>"]
    for cat, s in scores.items():
        n = int(s["n"])
        bars = "".join(f'<td><div class="bar {k}"><span style="width:{100 * min(max(s[k], 0.0), 1.0):.1f}%"></span>'
                       f'<em>{s[k]:.2f} ({round(s[k] * n)}/{n})</em></div></td>' for k in BAR_KEYS)
        out.append(f"<tr><td>{esc(cat)}</td><td>n={n}</td>{bars}</tr>")
    return "\n".join(out) + "</table>"


# ----------------------------------------------------------------------------- gating


def required_gates(row: dict[str, Any]) -> list[tuple[dict[str, Any], bool, list[str]]]:
    """The proposed actions of one ticket that had to be gated: ``(action, gated, violations)``.

    An action had to be gated when it asked for approval, when the labels list it in ``must_gate``, or
    when the evaluator reports a violation for it (policy wanted a gate the action did not ask for).
    """
    out = []
    for action in row["outputs"]["packet"].get("proposed_actions", []):
        name = str(action["name"])
        problems = [v for v in row["gating"]["violations"] if v.startswith(name + ":")]
        if action.get("needs_approval") or name in row["expected"]["must_gate"] or problems:
            out.append((action, not problems, problems))
    return out


def gating_rows(rows: Sequence[dict[str, Any]]) -> list[tuple[str, int, int, int]]:
    """Per action: (name, times it had to be gated, times it was gated, times a label expected it but it was not proposed)."""
    stats: dict[str, list[int]] = {}
    for r in rows:
        for action in r["outputs"]["packet"].get("proposed_actions", []):
            stats.setdefault(str(action["name"]), [0, 0, 0])  # automatic actions are listed with 0 gates
        for action, gated, _ in required_gates(r):
            s = stats[str(action["name"])]
            s[0] += 1
            s[1] += gated
        for name in r["gating"]["missing_proposals"]:
            stats.setdefault(str(name), [0, 0, 0])[2] += 1
    return sorted(((n, s[0], s[1], s[2]) for n, s in stats.items()), key=lambda t: (-t[1], t[0]))


def gating_html(rows: Sequence[dict[str, Any]]) -> str:
    """Gating per action, then per ticket every action that had to be gated and whether it was."""
    out = ["<table><tr><th>action</th><th>had to be gated</th><th>gated</th><th>expected, not proposed</th></tr>"]
    for name, must, ok, miss in gating_rows(rows):
        cls = "" if not must else "pass" if ok == must else "fail"
        out.append(f'<tr class="{cls}"><td>{esc(name)}</td><td>{must or "— (automatic)"}</td><td>{ok}</td>'
                   f'<td{" class=warn" if miss else ""}>{miss}</td></tr>')
    out.append("</table>")
    lines, held, total = [], 0, 0
    for r in rows:
        for action, gated, problems in required_gates(r):
            total, held = total + 1, held + gated
            lines.append((gated, str(r["id"]), f'<tr class="{"pass" if gated else "fail"}"><td>{esc(r["id"])}</td>'
                          f'<td>{esc(action["name"])}</td><td>{esc(action.get("tier", ""))}</td>'
                          f'<td>{"yes" if action["name"] in r["expected"]["must_gate"] else "no"}</td>'
                          f'<td>{"✓ yes" if gated else "✗ no"}</td><td>{esc("; ".join(problems))}</td></tr>'))
        lines += [(True, str(r["id"]), f'<tr class="warn"><td>{esc(r["id"])}</td><td>{esc(name)}</td><td></td><td>yes</td>'
                                       f"<td>—</td><td>expected, not proposed</td></tr>") for name in r["gating"]["missing_proposals"]]
    lines.sort(key=lambda t: (t[0], t[1]))  # gates that did not hold first
    out.append(f'<details{" open" if held < total else ""}><summary>Per ticket: {held} of {total} required gates held '
               f"in {len({t[1] for t in lines})} tickets</summary>"
               "<table><tr><th>ticket</th><th>action</th><th>tier</th><th>labelled must_gate</th><th>gated</th><th>why not</th></tr>")
    out += [line for _, _, line in lines]
    return "\n".join(out) + "</table></details>"


# ----------------------------------------------------------------------------- breakdowns and cases


def _pr_html(scores: dict[str, dict[str, float]], first: str) -> str:
    """A precision / recall / support table (request types, escalation teams)."""
    out = [f"<table><tr><th>{first}</th><th>precision</th><th>recall</th><th>support</th></tr>"]
    out += [f"<tr><td>{esc(name)}</td><td>{v['precision']:.3f}</td><td>{v['recall']:.3f}</td><td>{int(v['support'])}</td></tr>"
            for name, v in scores.items()]
    return "\n".join(out) + "</table>"


def _multilingual_html(extra: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    if "multilingual" not in extra:
        return "<p>Not run (<code>--multilingual none</code>).</p>"
    out = ["<table><tr><th>language</th><th>tickets</th><th>triage accuracy</th><th>request recall</th>"
           "<th>request precision</th><th>requested-action recall</th><th>requested-action precision</th>"
           "<th>language detected</th><th>flagged language:&lt;code&gt;</th></tr>"]
    out += [f"<tr><td>{esc(lang)}</td><td>{int(v['examples'])}</td><td>{v['triage_accuracy']:.3f}</td><td>{v['request_recall']:.3f}</td>"
            f"<td>{v['request_precision']:.3f}</td><td>{v['request_action_recall']:.3f}</td><td>{v['request_action_precision']:.3f}</td>"
            f"<td>{v['language_accuracy']:.3f}</td><td>{v['language_flag_rate']:.3f}</td></tr>"
            for lang, v in extra["multilingual"]["by_language"].items()]
    out.append("</table><h3>Non-English tickets with a mismatch</h3>"
               "<table><tr><th>ticket</th><th>expected</th><th>got</th></tr>")
    for r in rows:
        e = r["expected"]
        if not (r["category_ok"] and r["language_ok"] and set(e["requests"]) <= set(r["requests_detected"])):
            out.append(f"<tr><td>{esc(r['id'])}</td><td>{esc(e['language'])} · {esc(e['category'])} · {esc(', '.join(e['requests']))}</td>"
                       f"<td>{esc(r['language'])} · {esc(r['category'])} · "
                       f"{esc(', '.join(r['requests_detected']) or '(no request)')}</td></tr>")
    return "\n".join(out) + "</table>"


def _problems(r: dict[str, Any]) -> list[str]:
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
    return problems


def _cases_html(rows: Sequence[dict[str, Any]]) -> str:
    out = ["<table><tr><th>ticket</th><th>expected</th><th>got</th><th>problems</th></tr>"]
    for r in rows:
        e, problems = r["expected"], _problems(r)
        if problems or not (r["category_ok"] and r["priority_ok"] and r["escalation_ok"]):
            out.append(f"<tr><td>{esc(r['id'])}</td><td>{esc(e['category'])} / {esc(e['priority'])} / {esc(e['escalation'])}</td>"
                       f"<td>{esc(r['category'])} / {esc(r['priority'])} / {esc(r['escalation'])}</td>"
                       f"<td>{esc('; '.join(problems))}</td></tr>")
    return "\n".join(out) + "</table>"


def _sections(extra: dict[str, Any], multilingual: Sequence[dict[str, Any]]) -> str:
    out = ""
    if "requests" in extra:
        out += (f"<h2>Request detection per type</h2><p>{int(extra['requests']['tickets'])} tickets labelled in "
                f"<code>evals/datasets/sample_requests.jsonl</code>; micro precision {extra['requests']['micro']['precision']:.3f}, "
                f"recall {extra['requests']['micro']['recall']:.3f}.</p>{_pr_html(extra['requests']['per_type'], 'request type')}")
    if "escalation" in extra:
        out += f"<h2>Escalation per team</h2>{_pr_html(extra['escalation'], 'team')}"
    if extra:
        out += (f"<h2>Non-English tickets</h2><p>{len(multilingual)} tickets of "
                f"<code>evals/datasets/multilingual.jsonl</code> (reported, not gated).</p>{_multilingual_html(extra, multilingual)}")
    return out


# ----------------------------------------------------------------------------- the page

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
td, th { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
tr.fail td { background: #f6d0d0; } tr.pass td { background: #d8f0d8; } tr.warn td, td.warn { background: #fff3c4; }
table.meta th { background: #f4f4f4; } strong.warn { color: #8a5a00; }
.delta.good { color: #176b2c; font-weight: bold; } .delta.bad { color: #b3261e; font-weight: bold; }
.delta.neutral, .delta.same { color: #666; }
.bar { position: relative; width: 9rem; height: 1.2rem; background: #eee; }
.bar span { position: absolute; left: 0; top: 0; bottom: 0; }
.bar em { position: relative; font-style: normal; font-size: 0.8rem; padding-left: 0.3rem; }
.bar.triage span { background: #9ab8e0; } .bar.priority span { background: #f2b880; }
.bar.escalation span { background: #9fd29f; } .bar.gating span { background: #b9a3dc; }
figure { display: inline-block; margin: 0.5rem; } img { max-width: 100%; border: 1px solid #eee; }
.status { font-weight: bold; padding: 0.5rem; }
.status.fail { background: #f6d0d0; } .status.pass { background: #d8f0d8; }
"""


def _page(body: str) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Support Desk Agent — eval report</title>'
            f"<style>{STYLE}</style></head><body>\n<h1>Support Desk Agent — eval report</h1>\n{body}\n</body></html>\n")


def write_report(rows: Sequence[dict[str, Any]], metrics: dict[str, float], thresholds: dict[str, dict[str, float]],
                 failures: list[str], out_dir: Path, engine: str = "offline", extra: dict[str, Any] | None = None,
                 multilingual: Sequence[dict[str, Any]] = (), *, datasets: Sequence[Path] | None = None,
                 repo: Path = ROOT, now: datetime | None = None) -> Path:
    """Write ``report.html``, its PNGs, ``results.json`` and ``metrics.json`` into ``out_dir``; return the HTML path.

    ``extra``: the breakdowns of ``evals.runner.details`` (requests per type, escalation per team,
    non-English per language); ``multilingual``: the scored non-English rows; ``datasets``: the files
    the run read (hashed; default the sample set with its request and relevance labels, plus the
    non-English set when it ran); ``repo``: where to read the git commit; ``now``: the run's date. The previous run is the
    latest earlier ``metrics.json`` in ``out_dir``'s parent folder.
    """
    extra = extra or {}
    now = now or datetime.now().astimezone()
    files = list(datasets) if datasets is not None else [
        *(p for p in DEFAULT_DATASETS if p.exists()), *([MULTILINGUAL_DATASET] if multilingual else [])]
    meta = run_metadata(len(rows), len(multilingual), thresholds, engine, files, repo, now)
    previous = previous_run(out_dir, now)
    out_dir.mkdir(parents=True, exist_ok=True)
    images = {"Confusion matrix": confusion_png(rows, out_dir / "confusion_matrix.png"),
              "Packet latency": latency_png(rows, out_dir / "latency_hist.png")}
    (out_dir / "results.json").write_text(json.dumps({"meta": meta, "metrics": metrics, "failures": failures, "details": extra,
                                                      "rows": rows, "multilingual_rows": list(multilingual)},
                                                     indent=1, default=str), encoding="utf-8")
    status = "FAIL: " + "; ".join(failures) if failures else "all gates pass"
    figures = "\n".join(f'<figure><img src="{esc(src)}" alt="{esc(title)}"><figcaption>{esc(title)}</figcaption></figure>'
                        for title, src in images.items())
    body = (f"<h2>Run</h2>{_meta_html(meta, previous)}\n"
            f'<p class="status {"fail" if failures else "pass"}">{esc(status)}</p>\n'
            f"<h2>Metrics</h2>{_metrics_html(metrics, thresholds, failures, previous)}\n"
            f"<h2>Gating by action</h2>{gating_html(rows)}\n"
            f"<h2>Scores per expected category</h2>{per_category_html(per_category(rows))}\n"
            f"{_sections(extra, multilingual)}\n<h2>Plots</h2>{figures}\n"
            f"<h2>Tickets with a mismatch or a problem</h2>{_cases_html(rows)}\n"
            "<p>Methods: see <code>evals/evaluators.py</code> (lexical groundedness, 8-word-shingle leak check).</p>")
    path = out_dir / "report.html"
    path.write_text(_page(body), encoding="utf-8")
    # written last: a run that failed half-way is never taken as the previous run
    (out_dir / METRICS_FILE).write_text(json.dumps({"meta": meta, "metrics": metrics, "failures": failures}, indent=1, default=str),
                                        encoding="utf-8")
    return path
