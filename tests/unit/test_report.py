"""The HTML eval report: metadata, delta to the previous run, gating as a table, labelled bars, escaping."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from evals.evaluators import aggregate
from evals.report import direction, git_commit, write_report

REPO = Path(__file__).resolve().parents[2]
THRESHOLDS = yaml.safe_load((REPO / "evals" / "thresholds.yaml").read_text(encoding="utf-8"))["metrics"]
EVIL = "<script>alert(1)</script>"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def action(name: str, needs_approval: bool = True, tier: str = "supervised") -> dict[str, Any]:
    return {"id": f"a-{name}", "name": name, "tier": tier, "needs_approval": needs_approval, "args": {}}


def row(ticket: str, category: str, *, got: str | None = None, actions: list[dict[str, Any]] | None = None,
        must_gate: list[str] | None = None, violations: list[str] | None = None, missing_proposals: list[str] | None = None,
        latency: float = 0.2) -> dict[str, Any]:
    """One scored row shaped like ``runner.run``'s: the ticket, its labels, the outputs and ``score_example``'s keys."""
    got = got or category
    actions = actions if actions is not None else [action("send_reply")]
    must_gate = must_gate if must_gate is not None else ["send_reply"]
    expected = {"category": category, "priority": "normal", "escalation": "none", "sentiment": "neutral",
                "required_risk_flags": [], "must_cite": [], "must_not_cite": [], "must_gate": must_gate, "missing_information": []}
    return {"id": ticket, "ticket": {"id": ticket}, "expected": expected, "tags": [], "requests_expected": None,
            "request_actions_expected": None,
            "outputs": {"packet": {"proposed_actions": actions}, "status": "awaiting_review"},
            "category": got, "priority": "normal", "escalation": "none",
            "category_ok": float(got == category), "priority_ok": 1.0, "escalation_ok": 1.0,
            "gating": {"must_gate": sum(a["needs_approval"] or a["name"] in must_gate for a in actions),
                       "violations": violations or [], "missing_proposals": missing_proposals or []},
            "citations": {"cited": 0, "invalid": [], "must_cite_hits": 0, "must_cite": 0}, "leaks": [],
            "grounding": {"cited_sentences": 0, "unsupported": []},
            "missing": {"tp": 0, "predicted": 0, "expected": 0}, "flags": {"tp": 0, "predicted": 0, "expected": 0},
            "sentiment": "neutral", "sentiment_ok": 1.0, "requests_detected": [], "request_actions_detected": [],
            "language": "en", "language_flags": [], "args": {"gated": 0, "problems": []},
            "accept": {"approved": 0, "refused": "", "applied_missing": []}, "latency_s": latency}


def first_run() -> list[dict[str, Any]]:
    return [row("E-001", "refund", actions=[action("send_reply"), action("issue_refund", tier="never_without_approval")],
                must_gate=["send_reply", "issue_refund"], latency=0.4),
            row("E-002", "refund", latency=0.4),
            row("E-003", EVIL, latency=0.4)]


def second_run() -> list[dict[str, Any]]:
    """Triage and gating regress (an ungated refund, a label nobody proposed); latency improves."""
    return [row("E-001", "refund", actions=[action("send_reply"), action("issue_refund", False, "bounded_autonomy")],
                must_gate=["send_reply", "issue_refund"], violations=["issue_refund: needs_approval=False (tier bounded_autonomy)"]),
            row("E-002", "refund", got="billing", actions=[action("send_reply"), action("add_internal_tag", False, "bounded_autonomy")],
                must_gate=["send_reply", "escalate"], missing_proposals=["escalate"]),
            row("E-003", EVIL, got=EVIL, actions=[action("<img src=x>")], must_gate=[])]


def failures(metrics: dict[str, float]) -> list[str]:
    return [f"{name} = {metrics[name]:.4f}" for name, bound in THRESHOLDS.items()
            if ("min" in bound and metrics[name] < bound["min"]) or ("max" in bound and metrics[name] > bound["max"])]


def write(rows: list[dict[str, Any]], out_dir: Path, now: datetime, datasets: list[Path], repo: Path = REPO) -> str:
    metrics = aggregate(rows)
    path = write_report(rows, metrics, THRESHOLDS, failures(metrics), out_dir, engine="offline", datasets=datasets,
                        repo=repo, now=now)
    return path.read_text(encoding="utf-8")


def section(page: str, title: str) -> str:
    """The HTML between the ``<h2>`` called ``title`` and the next ``<h2>``."""
    return page.split(f"<h2>{title}</h2>", 1)[1].split("<h2>", 1)[0]


def table_row(page: str, first_cell: str) -> str:
    found = re.search(rf"<tr[^>]*><td>{re.escape(first_cell)}</td>.*?</tr>", page)
    assert found, first_cell
    return found.group(0)


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, str, str, Path]:
    dataset = tmp_path / "sample_eval.jsonl"
    dataset.write_text('{"ticket": {"id": "E-001"}}\n', encoding="utf-8")
    reports = tmp_path / "reports"
    first = write(first_run(), reports / "20261201-090000", T0, [dataset])
    second = write(second_run(), reports / "20261202-090000", T0 + timedelta(days=1), [dataset])
    return reports, first, second, dataset


def test_second_report_shows_the_delta_to_the_first(runs: tuple[Path, str, str, Path]) -> None:
    reports, first, second, _ = runs
    assert "none — the first run in this reports folder" in first
    assert "20261201-090000" in section(second, "Run") and "other data" not in second  # same dataset file both times
    triage = table_row(second, "triage_accuracy")  # 1.000 → 0.667, higher is better (gate min)
    assert "<td>1.000</td>" in triage and '<td class="delta bad">↓ -0.333</td>' in triage
    gating = table_row(second, "gating_recall")
    assert '<td class="delta bad">↓ -0.250</td>' in gating
    latency = table_row(second, "latency_p50_s")  # 0.4 s → 0.2 s, lower is better
    assert '<td>0.400</td>' in latency and '<td class="delta good">↓ -0.200</td>' in latency
    assert '<td class="delta same">= 0</td>' in table_row(second, "priority_accuracy")
    saved = json.loads((reports / "20261202-090000" / "metrics.json").read_text(encoding="utf-8"))
    assert saved["metrics"]["triage_accuracy"] == pytest.approx(2 / 3)
    assert saved["meta"]["thresholds"] == THRESHOLDS


def test_gating_is_an_html_table_per_action_and_per_ticket(runs: tuple[Path, str, str, Path]) -> None:
    _, _, second, _ = runs
    gating = section(second, "Gating by action")
    assert gating.lstrip().startswith("<table>") and "<img" not in gating
    assert '<tr class="fail"><td>issue_refund</td><td>1</td><td>0</td>' in gating  # had to be gated once, gated 0 times
    assert '<tr class="pass"><td>send_reply</td><td>2</td><td>2</td>' in gating
    assert "<td>add_internal_tag</td><td>— (automatic)</td>" in gating  # proposed, nothing to gate
    refund = re.search(r"<tr class=\"fail\"><td>E-001</td><td>issue_refund</td>.*?</tr>", gating)
    assert refund and "✗ no" in refund.group(0) and "needs_approval=False (tier bounded_autonomy)" in refund.group(0)
    assert re.search(r"<td>E-002</td><td>escalate</td>.*?expected, not proposed", gating)
    assert "<details open>" in gating  # a gate that did not hold opens the per-ticket list


def test_metadata_names_commit_dataset_hash_thresholds_engine_date(runs: tuple[Path, str, str, Path]) -> None:
    _, first, _, dataset = runs
    meta = section(first, "Run")
    digest = hashlib.sha256(dataset.read_bytes()).hexdigest()
    combined = hashlib.sha256(digest.encode()).hexdigest()[:12]
    commit = git_commit(REPO)
    assert re.fullmatch(r"[0-9a-f]{7,}(-dirty)?", commit)
    assert f"<code>{commit}</code>" in meta
    assert f"<code>{combined}</code>" in meta and digest[:12] in meta
    assert "2026-12-01 09:00:00" in meta and "<code>offline</code>" in meta and "3 labelled" in meta
    assert "gating_recall &ge; 1.0" in meta and "internal_leak_rate &le; 0.0" in meta


def test_metadata_without_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert git_commit(tmp_path) == "unknown (no git)"  # not a repository
    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable at all
    page = write(first_run(), tmp_path / "reports" / "run", T0, [tmp_path / "gone.jsonl"])
    assert "<code>unknown (no git)</code>" in page and "gone.jsonl</code> missing" in page


def test_category_bars_carry_n_and_values(runs: tuple[Path, str, str, Path]) -> None:
    _, _, second, _ = runs
    bars = section(second, "Scores per expected category")
    refund = table_row(bars, "refund")
    assert "<td>n=2</td>" in refund
    assert "0.50 (1/2)" in refund and 'style="width:50.0%"' in refund  # triage: one of two refunds
    assert "1.00 (2/2)" in refund


def test_text_from_data_is_escaped(runs: tuple[Path, str, str, Path]) -> None:
    _, first, second, _ = runs
    for page in (first, second):
        assert "<script>" not in page and "<img src=x>" not in page
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>n=1</td>" in section(second, "Scores per expected category")
    assert "&lt;img src=x&gt;" in section(second, "Gating by action")


def test_previous_run_is_the_latest_earlier_one_and_skips_broken_files(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    write(first_run(), reports / "a", T0, [])
    write(second_run(), reports / "c", T0 + timedelta(days=2), [])  # later than the run below: not its previous run
    (reports / "b-broken").mkdir()
    (reports / "b-broken" / "metrics.json").write_text("{not json", encoding="utf-8")
    page = write(second_run(), reports / "b", T0 + timedelta(days=1), [])
    assert "<code>a</code>" in section(page, "Run") and "other data" not in page
    assert '<td class="delta bad">↓ -0.333</td>' in table_row(page, "triage_accuracy")


def test_a_changed_dataset_is_called_out(tmp_path: Path) -> None:
    dataset = tmp_path / "sample_eval.jsonl"
    dataset.write_text("one\n", encoding="utf-8")
    write(first_run(), tmp_path / "reports" / "1", T0, [dataset])
    dataset.write_text("two\n", encoding="utf-8")
    page = write(first_run(), tmp_path / "reports" / "2", T0 + timedelta(hours=1), [dataset])
    assert "other data: the changes compare different datasets" in section(page, "Run")


def test_direction_follows_the_gates() -> None:
    assert direction("triage_accuracy", THRESHOLDS) == 1
    assert direction("internal_leak_rate", THRESHOLDS) == -1
    assert direction("latency_p95_s", {}) == -1
    assert direction("examples", {}) == 0
    assert direction("x", {"x": {"min": 0.1, "max": 0.9}}) == 0
