"""Run the sample-set eval: ``python -m evals.runner [--limit N] [--thresholds] [--out DIR] [--engine offline|llm]``.

Each ticket runs through the real agent (``api.service.SupportDesk``, a fresh state dir,
the cached knowledge index) inside ``langsmith.evaluate``. Without ``LANGSMITH_API_KEY``
the evaluation stays local (``upload_runs=False``, a client without auto-batch tracing, so
nothing touches the network); with a key the examples are synced to the LangSmith dataset
``support-desk-sample-eval`` and the experiment is uploaded. The runner prints a table,
writes ``<out>/<timestamp>/report.html`` with PNG plots and, with ``--thresholds``, exits 1
when a metric in ``evals/thresholds.yaml`` regresses, listing the failing tickets.

Besides the packet checks it measures request detection (against ``datasets/sample_requests.jsonl``),
args completeness of the gated actions, a simulated ``accept`` on every run (approved gated actions
with missing required args must be 0), escalation precision/recall, sentiment, and — on the
non-English tickets of ``datasets/multilingual.jsonl`` (``--multilingual none`` skips them) — triage,
request recall and language detection (reported, not gated).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from evals.datasets.schema import DATASET, Category, EvalExample, Ticket, load
from evals.evaluators import (
    COUNT_METRICS,
    Knowledge,
    aggregate,
    aggregate_multilingual,
    draft_relevance,
    escalation_by_team,
    expected_actions,
    multilingual_by_language,
    request_detection,
    required_by_request,
    score_example,
    score_multilingual,
)

HERE = Path(__file__).resolve().parent
THRESHOLDS = HERE / "thresholds.yaml"
REQUEST_LABELS = HERE / "datasets" / "sample_requests.jsonl"
RELEVANCE_LABELS = HERE / "datasets" / "draft_relevance.jsonl"
MULTILINGUAL = HERE / "datasets" / "multilingual.jsonl"
DATASET_NAME = "support-desk-sample-eval"
NAMESPACE = uuid.UUID("7f1c5a52-52a4-4a0c-9d0e-6c0bde6f3e11")


class MultilingualTicket(Ticket):
    """A non-English ticket (ids ``M-nnn``, so they never collide with the sample set's runs)."""

    id: str = Field(pattern=r"^M-\d{3}$")


class MultilingualExpected(BaseModel):
    """What a support lead expects: the category, the request types and the ticket's language (ISO 639-1)."""

    model_config = ConfigDict(extra="forbid")
    category: Category
    requests: list[str] = Field(min_length=1)
    language: str = Field(pattern=r"^[a-z]{2}$")


class MultilingualExample(BaseModel):
    """One line of ``multilingual.jsonl``."""

    model_config = ConfigDict(extra="forbid")
    ticket: MultilingualTicket
    expected: MultilingualExpected


def load_multilingual(path: Path = MULTILINGUAL) -> list[MultilingualExample]:
    """Parse and validate the non-English set; ``ValueError`` naming the first bad line or a duplicate id."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                examples.append(MultilingualExample.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc
    if len({e.ticket.id for e in examples}) != len(examples):
        raise ValueError(f"{path}: duplicate ticket ids")
    return examples


def load_request_labels(path: Path, known_types: Iterable[str]) -> dict[str, list[str]]:
    """Ticket id → the request types a human read in it; ``ValueError`` for a type the playbook does not define."""
    from evals.requests import load_labels

    labels = load_labels(path)
    unknown = sorted({t for types in labels.values() for t in types} - set(known_types))
    if unknown:
        raise ValueError(f"{path}: request types not in the playbook: {', '.join(unknown)}")
    return labels


def load_relevance_labels(path: Path = RELEVANCE_LABELS) -> dict[str, dict[str, bool]]:
    """Ticket id → {knowledge sentence: whether a person judged it relevant to what the ticket asks}."""
    labels: dict[str, dict[str, bool]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            try:
                labels[str(row["id"])] = {str(s["text"]): bool(s["relevant"]) for s in row["sentences"]}
            except (KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: each line needs id and sentences [{{text, relevant}}]") from exc
    return labels


def subset(examples: Sequence[EvalExample], limit: int | None) -> list[EvalExample]:
    """A deterministic, category-stratified subset: round-robin over categories in file order."""
    if not limit or limit >= len(examples):
        return list(examples)
    by_category: dict[str, list[EvalExample]] = defaultdict(list)
    for example in examples:
        by_category[example.expected.category].append(example)
    picked: list[EvalExample] = []
    queues = list(by_category.values())
    while len(picked) < limit:
        for queue in queues:
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    return sorted(picked, key=lambda e: e.ticket.id)


def subset_multilingual(examples: Sequence[MultilingualExample], limit: int | None) -> list[MultilingualExample]:
    """At most ``limit`` non-English tickets, round-robin over languages in file order (all when no limit)."""
    if not limit or limit >= len(examples):
        return list(examples)
    by_language: dict[str, list[MultilingualExample]] = defaultdict(list)
    for example in examples:
        by_language[example.expected.language].append(example)
    picked: list[MultilingualExample] = []
    while len(picked) < limit:
        for queue in by_language.values():
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    return sorted(picked, key=lambda e: e.ticket.id)


def prepare_state(state_dir: Path | None = None) -> Path:
    """A fresh state dir whose ``index/`` reuses the configured index cache, exported as ``SUPPORT_STATE_DIR``.

    The graph's nodes read the process settings (``get_settings()``), so the eval sets the
    environment before the first engine is built; the cached index/classifier is shared so
    only the first run on a clone pays for building it.
    """
    from tools.settings import get_settings

    cache = get_settings().index_dir
    cache.mkdir(parents=True, exist_ok=True)
    state = state_dir or Path(tempfile.mkdtemp(prefix="support-eval-"))
    state.mkdir(parents=True, exist_ok=True)
    if not (state / "index").exists():
        (state / "index").symlink_to(cache.resolve(), target_is_directory=True)
    os.environ["SUPPORT_STATE_DIR"] = str(state)
    get_settings.cache_clear()
    return state


def open_desk() -> Any:
    """The agent service on the eval's state dir (one per run: the sample set and the non-English set share it)."""
    from api.service import SupportDesk
    from tools.settings import get_settings

    return SupportDesk(get_settings())


def make_target(engine_mode: str, trace_graph: bool, desk: Any = None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The function LangSmith evaluates: one ticket in, the packet and the run's gating facts out.

    Offline (``trace_graph`` false) the graph's own LangChain tracer is switched off: it would
    otherwise pick up the evaluation's tracing context and retry posting to the LangSmith API.
    """
    from langsmith import tracing_context

    from graph.context import Context

    desk = desk if desk is not None else open_desk()

    def target(inputs: dict[str, Any]) -> dict[str, Any]:
        with tracing_context(enabled=trace_graph):
            started = time.perf_counter()
            view = desk.submit(dict(inputs["ticket"]), Context(engine="llm" if engine_mode == "llm" else "offline"))
            latency = time.perf_counter() - started
        packet = dict(view["packet"] or {})
        customer = packet.get("customer", {})
        packet["customer"] = {k: customer.get(k) for k in ("id", "name", "plan", "vip", "contract_notes")}
        requests = [i.get("action_request", {}).get("args", {}) for i in view["interrupts"]]
        interrupt_ids = [a["id"] for args in requests for a in args.get("actions", [])]
        return {"packet": packet, "status": view["status"], "interrupt_action_ids": interrupt_ids,
                "applied_actions": [str(row["action"]) for row in view["ledger"]], "latency_s": latency,
                "trace": trace_link(desk, view["thread_id"])}

    return target


def trace_link(desk: Any, thread_id: str) -> dict[str, Any]:
    """Where an example's local trace is (one record per node run) and the command that shows it."""
    from sqlalchemy import func, select

    from tools import schema as t

    records = desk.store.query(select(func.count()).select_from(t.traces).where(t.traces.c.thread_id == thread_id))
    return {"thread_id": thread_id, "records": int(next(iter(records[0].values()))) if records else 0,
            "command": f"support-agent trace {thread_id}"}


def _examples(examples: Sequence[EvalExample]) -> list[Any]:
    from langsmith.schemas import Example

    return [Example(id=uuid.uuid5(NAMESPACE, e.ticket.id), inputs={"ticket": e.ticket.model_dump()},
                    outputs=e.expected.model_dump(), metadata={"ticket_id": e.ticket.id, "tags": e.tags, "note": e.note})
            for e in examples]


def _langsmith_evaluators(kb: Knowledge, actions: dict[str, str],
                          required_of: dict[str, frozenset[str]]) -> list[Callable[..., dict[str, Any]]]:
    """Row-level feedback for LangSmith; the authoritative aggregates are computed by ``aggregate``."""

    def packet_checks(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> dict[str, Any]:
        s = score_example(outputs, reference_outputs, kb, actions, required_of)
        g, c, a = s["gating"], s["citations"], s["args"]
        return {"results": [
            {"key": "triage", "score": s["category_ok"], "comment": f"got {s['category']}"},
            {"key": "priority", "score": s["priority_ok"], "comment": f"got {s['priority']}"},
            {"key": "escalation", "score": s["escalation_ok"], "comment": f"got {s['escalation']}"},
            {"key": "gated", "score": float(not g["violations"]), "comment": "; ".join(g["violations"])},
            {"key": "citations_valid", "score": float(not c["invalid"]), "comment": "; ".join(c["invalid"])},
            {"key": "internal_leak", "score": float(bool(s["leaks"])), "comment": " | ".join(s["leaks"][:3])},
            {"key": "grounded", "score": float(not s["grounding"]["unsupported"])},
            {"key": "sentiment", "score": s["sentiment_ok"], "comment": f"got {s['sentiment']}"},
            {"key": "args_consistent", "score": float(not a["problems"]), "comment": "; ".join(a["problems"])},
            {"key": "accept_missing_args", "score": float(len(s["accept"]["applied_missing"])),
             "comment": "; ".join(s["accept"]["applied_missing"])},
            {"key": "latency_s", "score": s["latency_s"]},
        ]}

    return [packet_checks]


def _client_and_data(examples: Sequence[EvalExample]) -> tuple[Any, Any, bool]:
    from langsmith import Client

    ls_examples = _examples(examples)
    if not os.environ.get("LANGSMITH_API_KEY"):
        return Client(auto_batch_tracing=False), ls_examples, False
    client = Client()
    if not client.has_dataset(dataset_name=DATASET_NAME):
        dataset = client.create_dataset(DATASET_NAME, description="Support Desk Agent sample eval (Quillstack)")
        client.create_examples(dataset_id=dataset.id, examples=[
            {"inputs": e.inputs, "outputs": e.outputs, "metadata": e.metadata} for e in ls_examples])
    wanted = {e.ticket.id for e in examples}
    remote = [e for e in client.list_examples(dataset_name=DATASET_NAME) if (e.metadata or {}).get("ticket_id") in wanted]
    return client, remote, True


def run(examples: Sequence[EvalExample], engine_mode: str = "offline", desk: Any = None,
        request_labels: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """Evaluate ``examples`` through LangSmith; one scored row per example.

    ``request_labels`` (ticket id → request types) adds ``requests_expected`` to the labelled rows.
    """
    from langsmith import evaluate

    from tools.engine import get_engine

    engine = get_engine()
    kb = Knowledge.load(engine.data.root / "knowledge")
    actions = dict(engine.playbook.actions)
    required_of = required_by_request(engine.playbook.requests)
    action_of = {name: spec.action for name, spec in engine.playbook.requests.items()}
    labels = request_labels or {}
    relevance = load_relevance_labels()
    client, data, upload = _client_and_data(examples)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*is in beta")  # upload_runs is a beta flag
        results = evaluate(make_target(engine_mode, upload, desk), data=data,
                           evaluators=_langsmith_evaluators(kb, actions, required_of),
                           experiment_prefix=f"support-desk-{engine_mode}", max_concurrency=0,
                           upload_runs=upload, client=client, metadata={"engine": engine_mode})
    by_id = {e.ticket.id: e for e in examples}
    rows = []
    for result in results:
        example = by_id[(result["example"].metadata or {})["ticket_id"]]
        outputs = result["run"].outputs or {}
        if "packet" not in outputs:
            raise RuntimeError(f"{example.ticket.id}: the agent failed: {result['run'].error}")
        expected = example.expected.model_dump()
        wanted = labels.get(example.ticket.id)
        rows.append({"id": example.ticket.id, "ticket": example.ticket.model_dump(), "expected": expected,
                     "tags": example.tags, "outputs": outputs, "requests_expected": wanted,
                     "request_actions_expected": None if wanted is None else expected_actions(wanted, action_of),
                     **score_example(outputs, expected, kb, actions, required_of),
                     "relevance": draft_relevance(str(outputs["packet"].get("draft_reply", "")),
                                                  relevance.get(example.ticket.id))})
    return sorted(rows, key=lambda r: r["id"])


def run_multilingual(examples: Sequence[MultilingualExample], engine_mode: str = "offline", desk: Any = None) -> list[dict[str, Any]]:
    """Run the non-English tickets through the same agent (no LangSmith experiment); one scored row each."""
    from tools.engine import get_engine

    action_of = {name: spec.action for name, spec in get_engine().playbook.requests.items()}
    target = make_target(engine_mode, False, desk)
    rows = []
    for example in examples:
        outputs = target({"ticket": example.ticket.model_dump()})
        expected = example.expected.model_dump()
        rows.append({"id": example.ticket.id, "ticket": example.ticket.model_dump(), "expected": expected,
                     "packet": {k: outputs["packet"].get(k) for k in ("category", "language", "language_note", "requests",
                                                                      "risk_flags", "escalation", "sentiment")},
                     "request_actions_expected": expected_actions(expected["requests"], action_of),
                     **score_multilingual(outputs, expected)})
    return rows


def details(rows: Sequence[dict[str, Any]], multilingual: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The breakdowns behind the headline metrics: request P/R per type, escalation per team, non-English per language."""
    labelled = [r for r in rows if r.get("requests_expected") is not None]
    out: dict[str, Any] = {
        "requests": request_detection([r["requests_expected"] for r in labelled], [r["requests_detected"] for r in labelled]),
        "escalation": escalation_by_team(rows),
    }
    if multilingual:
        out["multilingual"] = {
            "by_language": multilingual_by_language(multilingual),
            "requests": request_detection([r["requests_expected"] for r in multilingual], [r["requests_detected"] for r in multilingual]),
        }
    return out


def load_thresholds(path: Path = THRESHOLDS) -> dict[str, dict[str, float]]:
    """``metric: {min: x}`` or ``{max: x}`` from the thresholds file."""
    return dict(yaml.safe_load(path.read_text(encoding="utf-8"))["metrics"])


def check(metrics: dict[str, float], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Human-readable failures (empty when every gate passes)."""
    failures = []
    for name, bound in thresholds.items():
        value = metrics[name]
        if "min" in bound and value < bound["min"]:
            failures.append(f"{name} = {value:.4f} < {bound['min']}")
        if "max" in bound and value > bound["max"]:
            failures.append(f"{name} = {value:.4f} > {bound['max']}")
    return failures


def failing_cases(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every ticket that breaks a hard gate or is mis-triaged, with expected vs got (and the command showing its trace)."""
    lines = []
    for r in rows:
        e = r["expected"]
        start = len(lines)
        if not r["category_ok"]:
            lines.append(f"{r['id']} triage: expected {e['category']}, got {r['category']}")
        lines += [f"{r['id']} gating: {v}" for v in r["gating"]["violations"]]
        lines += [f"{r['id']} citation: {c}" for c in r["citations"]["invalid"]]
        lines += [f"{r['id']} internal leak: '{s}'" for s in r["leaks"][:2]]
        lines += [f"{r['id']} args: {p}" for p in r["args"]["problems"]]
        lines += [f"{r['id']} accept: {p}" for p in r["accept"]["applied_missing"]]
        trace = (r.get("outputs") or {}).get("trace")
        if len(lines) > start and trace:
            lines.append(f"{r['id']}   trace: {trace['command']} ({trace['records']} node records)")
    return lines


def shown(name: str, value: float) -> str:
    """A metric's value as printed: counts without decimals."""
    return f"{int(value)}" if name in COUNT_METRICS else f"{value:.3f}"


def table(metrics: dict[str, float], thresholds: dict[str, dict[str, float]]) -> str:
    """The metrics as an aligned text table with the gate of each."""
    out = [f"{'metric':<38}{'value':>10}  gate", "-" * 62]
    for name, value in metrics.items():
        bound = thresholds.get(name, {})
        gate = f">= {bound['min']}" if "min" in bound else f"<= {bound['max']}" if "max" in bound else ""
        out.append(f"{name:<38}{shown(name, value):>10}  {gate}")
    return "\n".join(out)


def detail_tables(extra: dict[str, Any]) -> str:
    """Request P/R per type, escalation per team and the non-English set per language, as text."""
    out = [f"\nrequest detection on {extra['requests']['tickets']} labelled tickets",
           f"{'request type':<24}{'precision':>10}{'recall':>8}{'support':>9}"]
    out += [f"{t:<24}{v['precision']:>10.3f}{v['recall']:>8.3f}{int(v['support']):>9}" for t, v in extra["requests"]["per_type"].items()]
    out += ["\nescalation per team", f"{'team':<24}{'precision':>10}{'recall':>8}{'support':>9}"]
    out += [f"{t:<24}{v['precision']:>10.3f}{v['recall']:>8.3f}{int(v['support']):>9}" for t, v in extra["escalation"].items()]
    if "multilingual" in extra:
        out += ["\nnon-English tickets per language",
                f"{'language':<10}{'n':>4}{'triage':>9}{'req R':>8}{'req P':>8}{'act R':>8}{'act P':>8}{'lang':>8}{'flagged':>9}"]
        out += [f"{lang:<10}{int(v['examples']):>4}{v['triage_accuracy']:>9.3f}{v['request_recall']:>8.3f}"
                f"{v['request_precision']:>8.3f}{v['request_action_recall']:>8.3f}{v['request_action_precision']:>8.3f}"
                f"{v['language_accuracy']:>8.3f}{v['language_flag_rate']:>9.3f}"
                for lang, v in extra["multilingual"]["by_language"].items()]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m evals.runner", description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="evaluate a deterministic stratified subset of N tickets")
    parser.add_argument("--thresholds", action="store_true", help="exit 1 when a metric in thresholds.yaml regresses")
    parser.add_argument("--out", type=Path, default=HERE / "reports", help="reports folder (default evals/reports)")
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--engine", choices=["offline", "llm"], default=os.environ.get("SUPPORT_ENGINE", "offline"))
    parser.add_argument("--requests", type=Path, default=REQUEST_LABELS, help="request-type labels of the dataset's tickets")
    parser.add_argument("--multilingual", default=str(MULTILINGUAL),
                        help="non-English tickets (JSONL; 'none' skips them); --limit also applies")
    args = parser.parse_args(argv)

    from evals.report import write_report

    examples = subset(load(args.dataset), args.limit)
    foreign = [] if args.multilingual == "none" else subset_multilingual(load_multilingual(Path(args.multilingual)), args.limit)
    prepare_state()
    from tools.engine import get_engine

    labels = load_request_labels(args.requests, get_engine().playbook.requests)
    started = time.perf_counter()
    desk = open_desk()
    rows = run(examples, args.engine, desk, labels)
    sample_seconds = time.perf_counter() - started
    multilingual = run_multilingual(foreign, args.engine, desk)
    metrics = {**aggregate(rows), **aggregate_multilingual(multilingual)}
    extra = details(rows, multilingual)
    thresholds = load_thresholds()
    failures = check(metrics, thresholds)
    print(table(metrics, thresholds))
    print(detail_tables(extra))
    print(f"\n{len(rows)} tickets in {sample_seconds:.1f} s, {len(multilingual)} non-English tickets in "
          f"{time.perf_counter() - started - sample_seconds:.1f} s (engine {args.engine})")
    out_dir = args.out / datetime.now().strftime("%Y%m%d-%H%M%S")
    datasets = [args.dataset, args.requests, RELEVANCE_LABELS] + ([Path(args.multilingual)] if multilingual else [])
    report = write_report(rows, metrics, thresholds, failures, out_dir, engine=args.engine, extra=extra,
                          multilingual=multilingual, datasets=datasets)
    print(f"report: {report}")
    cases = failing_cases(rows)
    if cases:
        print("\nfailing cases:\n  " + "\n  ".join(cases))
    if failures:
        print("\nTHRESHOLD FAILURES:\n  " + "\n  ".join(failures))
        return 1 if args.thresholds else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
