"""Retrieval quality and latency: doc2dial, the long-ticket set and the sample company, one run.

For each set: the product (``kb.search`` on the whole query) and the BM25 / dense
whole-document baselines (``evals.retrieval.evaluate``), plus how often the
low-confidence flag fires on misses and hits. Then the query latency for a ~600-word
ticket: retrieval alone (given the ticket vector, as the graph calls it) and the
ticket's ``embed_long`` separately.

    python benchmarks/retrieval.py [--sets doc2dial,long,sample] [--cache DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DOC2DIAL = REPO.parent / "shared" / "benchmarks" / "doc2dial"
LONG = REPO / "evals" / "datasets" / "long_tickets"


def company_dir(knowledge: Path, target: Path, playbook: Path | None = None) -> Path:
    """A knowledge-only workspace folder (plus ``playbook`` when given), as ``import kb`` would make it."""
    target.mkdir(parents=True, exist_ok=True)
    if not (target / "knowledge").exists():
        shutil.copytree(knowledge, target / "knowledge")
    if playbook is not None and playbook.exists():
        shutil.copy(playbook, target / "playbook.yaml")
    return target


def doc2dial_queries() -> list[dict[str, Any]]:
    """First user turns with the gold page."""
    rows = [json.loads(line) for line in (DOC2DIAL / "queries.jsonl").read_text().splitlines() if line.strip()]
    return [{"id": r["id"], "query": r["first_turn"], "gold": [r["kb_id"]]} for r in rows]


def sample_queries() -> list[dict[str, Any]]:
    """The sample eval's tickets that must cite a document, with those documents as gold."""
    rows = [json.loads(line) for line in (REPO / "evals" / "datasets" / "sample_eval.jsonl").read_text().splitlines()]
    return [{"id": r["ticket"]["id"], "query": f"{r['ticket']['subject']}\n{r['ticket']['body']}", "gold": r["expected"]["must_cite"]}
            for r in rows if r["expected"]["must_cite"]]


def open_kb(data_dir: Path, index_dir: Path) -> tuple[Any, float]:
    """Load the company and build (or load) its index; returns the knowledge base and the build time."""
    from tools.data import load_company
    from tools.embeddings import default_embeddings
    from tools.knowledge import KnowledgeBase

    kb = KnowledgeBase(load_company(data_dir), default_embeddings(), index_dir)
    started = time.perf_counter()
    kb.load_or_build()
    return kb, time.perf_counter() - started


def ticket_600_words() -> str:
    """A deterministic ~600-word ticket (long-ticket set if present, else doc2dial turns)."""
    if (LONG / "queries.jsonl").exists():
        rows = [json.loads(line) for line in (LONG / "queries.jsonl").read_text().splitlines() if line.strip()]
        return min((r["query"] for r in rows), key=lambda q: abs(len(q.split()) - 600))
    words = " ".join(q["query"] for q in doc2dial_queries()).split()
    return " ".join(words[:600])


def latency(kb: Any, text: str, rounds: int = 30) -> dict[str, float]:
    """p50 of retrieval alone (vector given) and of embedding the ticket, in ms."""
    embed_times, retrieve_times = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        vector = kb.embedder.embed_long([text])[0]
        embed_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        kb.retrieve(text, vector, k=4)
        retrieve_times.append(time.perf_counter() - started)
    median = lambda xs: sorted(xs)[len(xs) // 2] * 1000  # noqa: E731
    return {"words": len(text.split()), "retrieve_ms_p50": round(median(retrieve_times), 1),
            "embed_long_ms_p50": round(median(embed_times), 1)}


def main() -> None:
    """Run the sets and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="doc2dial,long,sample")
    parser.add_argument("--cache", type=Path, default=None, help="keep data dirs and indexes here (default: temp)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from evals.retrieval import evaluate, format_table, load_queries

    root = args.cache or Path(tempfile.mkdtemp(prefix="retrieval-bench-"))
    results: dict[str, Any] = {}
    for name in args.sets.split(","):
        if name == "doc2dial":
            data_dir, queries = company_dir(DOC2DIAL / "knowledge", root / "doc2dial"), doc2dial_queries()
        elif name == "long":
            while not (LONG / "queries.jsonl").exists():
                print("waiting for evals/datasets/long_tickets/queries.jsonl …", file=sys.stderr)
                time.sleep(30)
            data_dir = company_dir(LONG / "knowledge", root / "long", LONG / "playbook.yaml")
            queries = load_queries(LONG / "queries.jsonl")
        else:
            data_dir, queries = REPO / "data", sample_queries()
        kb, build_s = open_kb(data_dir, root / f"index-{name}")
        result = evaluate(kb, queries, kb.embedder)
        result["index_s"] = round(build_s, 1)
        results[name] = result
        if not args.json:
            print(f"\n== {name}: {len(kb.passages)} passages, index {build_s:.1f} s\n{format_table(result)}")
        if name in ("long", "doc2dial") and "latency" not in results:
            results["latency"] = latency(kb, ticket_600_words())
    if "latency" in results and not args.json:
        lat = results["latency"]
        print(f"\nquery latency, {lat['words']}-word ticket: retrieval alone p50 {lat['retrieve_ms_p50']} ms "
              f"(goal ≤ 40); embed_long of the ticket p50 {lat['embed_long_ms_p50']} ms (computed once per ticket, in triage)")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
