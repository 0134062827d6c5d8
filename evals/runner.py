"""Run the sample-set eval: ``python -m evals.runner [--limit N] [--thresholds] [--out DIR] [--engine offline|llm]``.

Each ticket runs through the real agent (``api.service.SupportDesk``, a fresh state dir,
the cached knowledge index) inside ``langsmith.evaluate``. Without ``LANGSMITH_API_KEY``
the evaluation stays local (``upload_runs=False``, a client without auto-batch tracing, so
nothing touches the network); with a key the examples are synced to the LangSmith dataset
``support-desk-sample-eval`` and the experiment is uploaded. The runner prints a table,
writes ``<out>/<timestamp>/report.html`` with PNG plots and, with ``--thresholds``, exits 1
when a metric in ``evals/thresholds.yaml`` regresses, listing the failing tickets.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from evals.datasets.schema import DATASET, EvalExample, load
from evals.evaluators import Knowledge, aggregate, score_example

HERE = Path(__file__).resolve().parent
THRESHOLDS = HERE / "thresholds.yaml"
DATASET_NAME = "support-desk-sample-eval"
NAMESPACE = uuid.UUID("7f1c5a52-52a4-4a0c-9d0e-6c0bde6f3e11")


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


def make_target(engine_mode: str, trace_graph: bool) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The function LangSmith evaluates: one ticket in, the packet and the run's gating facts out.

    Offline (``trace_graph`` false) the graph's own LangChain tracer is switched off: it would
    otherwise pick up the evaluation's tracing context and retry posting to the LangSmith API.
    """
    from langsmith import tracing_context

    from api.service import SupportDesk
    from graph.context import Context
    from tools.settings import get_settings

    desk = SupportDesk(get_settings())

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
                "applied_actions": [str(row["action"]) for row in view["ledger"]], "latency_s": latency}

    return target


def _examples(examples: Sequence[EvalExample]) -> list[Any]:
    from langsmith.schemas import Example

    return [Example(id=uuid.uuid5(NAMESPACE, e.ticket.id), inputs={"ticket": e.ticket.model_dump()},
                    outputs=e.expected.model_dump(), metadata={"ticket_id": e.ticket.id, "tags": e.tags, "note": e.note})
            for e in examples]


def _langsmith_evaluators(kb: Knowledge, actions: dict[str, str]) -> list[Callable[..., dict[str, Any]]]:
    """Row-level feedback for LangSmith; the authoritative aggregates are computed by ``aggregate``."""

    def packet_checks(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> dict[str, Any]:
        s = score_example(outputs, reference_outputs, kb, actions)
        g, c = s["gating"], s["citations"]
        return {"results": [
            {"key": "triage", "score": s["category_ok"], "comment": f"got {s['category']}"},
            {"key": "priority", "score": s["priority_ok"], "comment": f"got {s['priority']}"},
            {"key": "escalation", "score": s["escalation_ok"], "comment": f"got {s['escalation']}"},
            {"key": "gated", "score": float(not g["violations"]), "comment": "; ".join(g["violations"])},
            {"key": "citations_valid", "score": float(not c["invalid"]), "comment": "; ".join(c["invalid"])},
            {"key": "internal_leak", "score": float(bool(s["leaks"])), "comment": " | ".join(s["leaks"][:3])},
            {"key": "grounded", "score": float(not s["grounding"]["unsupported"])},
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


def run(examples: Sequence[EvalExample], engine_mode: str = "offline") -> list[dict[str, Any]]:
    """Evaluate ``examples`` through LangSmith; one scored row per example."""
    from langsmith import evaluate

    from tools.engine import get_engine

    engine = get_engine()
    kb = Knowledge.load(engine.data.root / "knowledge")
    actions = dict(engine.playbook.actions)
    client, data, upload = _client_and_data(examples)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*is in beta")  # upload_runs is a beta flag
        results = evaluate(make_target(engine_mode, upload), data=data, evaluators=_langsmith_evaluators(kb, actions),
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
        rows.append({"id": example.ticket.id, "ticket": example.ticket.model_dump(), "expected": expected,
                     "tags": example.tags, "outputs": outputs, **score_example(outputs, expected, kb, actions)})
    return sorted(rows, key=lambda r: r["id"])


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
    """Every ticket that breaks a hard gate or is mis-triaged, with expected vs got."""
    lines = []
    for r in rows:
        e = r["expected"]
        if not r["category_ok"]:
            lines.append(f"{r['id']} triage: expected {e['category']}, got {r['category']}")
        lines += [f"{r['id']} gating: {v}" for v in r["gating"]["violations"]]
        lines += [f"{r['id']} citation: {c}" for c in r["citations"]["invalid"]]
        lines += [f"{r['id']} internal leak: '{s}'" for s in r["leaks"][:2]]
    return lines


def table(metrics: dict[str, float], thresholds: dict[str, dict[str, float]]) -> str:
    """The metrics as an aligned text table with the gate of each."""
    out = [f"{'metric':<24}{'value':>10}  gate", "-" * 48]
    for name, value in metrics.items():
        bound = thresholds.get(name, {})
        gate = f">= {bound['min']}" if "min" in bound else f"<= {bound['max']}" if "max" in bound else ""
        shown = f"{int(value)}" if name == "examples" else f"{value:.3f}"
        out.append(f"{name:<24}{shown:>10}  {gate}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m evals.runner", description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="evaluate a deterministic stratified subset of N tickets")
    parser.add_argument("--thresholds", action="store_true", help="exit 1 when a metric in thresholds.yaml regresses")
    parser.add_argument("--out", type=Path, default=HERE / "reports", help="reports folder (default evals/reports)")
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--engine", choices=["offline", "llm"], default=os.environ.get("SUPPORT_ENGINE", "offline"))
    args = parser.parse_args(argv)

    from evals.report import write_report

    examples = subset(load(args.dataset), args.limit)
    prepare_state()
    started = time.perf_counter()
    rows = run(examples, args.engine)
    metrics = aggregate(rows)
    thresholds = load_thresholds()
    failures = check(metrics, thresholds)
    print(table(metrics, thresholds))
    print(f"\n{len(rows)} tickets in {time.perf_counter() - started:.1f} s (engine {args.engine})")
    out_dir = args.out / datetime.now().strftime("%Y%m%d-%H%M%S")
    report = write_report(rows, metrics, thresholds, failures, out_dir, engine=args.engine)
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
