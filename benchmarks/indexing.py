"""Indexing speed and memory: the full build versus the embedder alone on the same passages.

Each measurement runs in a fresh subprocess (so its peak RSS is its own): the knowledge
base is built from scratch into an empty index dir (chunk → embed passages → bm25 →
faiss, per-step timings), then the same process embeds the same passage texts with
``embed_array`` alone. Goals: build ≤ 1.3 × embedder alone; peak RSS ≤ 700 MB at 5,000
passages (a synthetic set: doc2dial twice with changed ids, plus the long-ticket set).

    python benchmarks/indexing.py [--sets sample,doc2dial,5000] [--alone-first]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def peak_rss_mb() -> float:
    """This process's peak resident set size."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(data_dir: Path, alone_first: bool = False) -> dict[str, Any]:
    """Build from scratch, then time the embedder alone on the same passages (one process; or alone first)."""
    from tools.data import load_company
    from tools.embeddings import default_embeddings, limit_threads
    from tools.knowledge import KnowledgeBase

    embedder = default_embeddings()
    started = time.perf_counter()
    warm_up(embedder)
    warm_s = time.perf_counter() - started
    data = load_company(data_dir)
    steps: dict[str, float] = {}
    marks: dict[str, float] = {}

    def progress(step: str, done: int, total: int) -> None:
        marks.setdefault(step, time.perf_counter())
        if done >= total:
            steps[step] = round(time.perf_counter() - marks[step], 2)

    alone_s = alone_cpu = 0.0
    if alone_first:  # the same passages, chunked by a throwaway build of the chunks only
        from tools.chunking import chunk_document

        count = lambda texts: [len(ids) for ids in embedder.token_ids(texts)]  # noqa: E731
        first = [p.embed_text for d in data.documents.values() if d.kind != "macro" for p in chunk_document(d.id, d.title, d.body, count)]
        started, cpu = time.perf_counter(), time.process_time()
        with limit_threads(1):
            embedder.embed_array(first)
        alone_s, alone_cpu = time.perf_counter() - started, time.process_time() - cpu
    with tempfile.TemporaryDirectory() as index_dir:
        kb = KnowledgeBase(data, embedder, Path(index_dir))
        started, cpu = time.perf_counter(), time.process_time()
        kb.load_or_build(progress)
        build_s, build_cpu = time.perf_counter() - started, time.process_time() - cpu
        rss_build = peak_rss_mb()
        texts = [p.embed_text for p in kb.passages]
    if not alone_first:
        started, cpu = time.perf_counter(), time.process_time()
        with limit_threads(1):
            embedder.embed_array(texts)
        alone_s, alone_cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"passages": len(texts), "documents": len(kb.doc_ids), "index_s": round(build_s, 2),
            "passages_per_s": round(len(texts) / build_s, 1), "embedder_alone_s": round(alone_s, 2),
            "ratio": round(build_s / alone_s, 3), "cpu_ratio": round(build_cpu / alone_cpu, 3),
            "peak_rss_mb_build": round(rss_build), "steps": steps,
            "warm_up_s": round(warm_s, 2)}


def warm_up(embedder: Any) -> None:
    """Load what any build loads once per process (model shapes, bm25s, FAISS, stop words), outside the timings.

    Both timings then start warm: the embedder alone runs after the build, so without this the
    build alone would pay the one-off costs (about 1.5 s: imports and first inference shapes).
    """
    import bm25s  # noqa: F401
    import faiss  # noqa: F401

    from tools import lexical

    lexical.stop_words()
    lexical.Lexical.build(["warm up the lexical index", "second text"])
    words = "the quick brown fox jumps over the lazy dog".split() * 30
    embedder.embed_array([" ".join(words[:n]) for n in (8, 16, 32, 64, 96, 128, 192, 250) for _ in range(4)])


def synthetic_5000(target: Path) -> Path:
    """doc2dial twice (the copy with changed ids and titles) plus the long-ticket documents."""
    from retrieval import DOC2DIAL, LONG, company_dir

    company_dir(DOC2DIAL / "knowledge", target)
    for path in sorted((DOC2DIAL / "knowledge").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"^id: (.*)$", r"id: copy-\1", text, count=1, flags=re.M)
        text = re.sub(r'^title: "(.*)"$', r'title: "\1 (copy)"', text, count=1, flags=re.M)
        (target / "knowledge" / f"copy-{path.name}").write_text(text, encoding="utf-8")
    if LONG.exists():
        shutil.copytree(LONG / "knowledge", target / "knowledge" / "long", dirs_exist_ok=True)
    return target


def main() -> None:
    """Run each set in its own subprocess and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="sample,doc2dial,5000")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--alone-first", action="store_true", help="time the embedder alone before the build")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.alone_first)))
        return

    from retrieval import DOC2DIAL, company_dir

    root = Path(tempfile.mkdtemp(prefix="indexing-bench-"))
    results: dict[str, Any] = {}
    for name in args.sets.split(","):
        if name == "sample":
            data_dir = REPO / "data"
        elif name == "doc2dial":
            data_dir = company_dir(DOC2DIAL / "knowledge", root / "doc2dial")
        else:
            data_dir = synthetic_5000(root / "synthetic")
        command = [sys.executable, __file__, "--child", str(data_dir), *(["--alone-first"] if args.alone_first else [])]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'set':<10}{'passages':>9}{'index s':>9}{'pass/s':>8}{'embed-alone s':>15}{'ratio':>7}{'cpu ratio':>10}"
          f"{'peak RSS MB':>13}  steps (s)")
    for name, r in results.items():
        print(f"{name:<10}{r['passages']:>9}{r['index_s']:>9}{r['passages_per_s']:>8}{r['embedder_alone_s']:>15}"
              f"{r['ratio']:>7}{r['cpu_ratio']:>10}{r['peak_rss_mb_build']:>13}  {r['steps']}")
    print("goals: ratio ≤ 1.3 (build vs the embedder alone on the same passages, same process); peak RSS ≤ 700 MB at 5,000 passages")
    print("ratio = wall time; cpu ratio = process CPU time, which other jobs on a shared machine disturb far less")


if __name__ == "__main__":
    main()
