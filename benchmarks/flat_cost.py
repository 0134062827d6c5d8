"""Cost that stays flat as a team grows: the triage classifier and the FAISS index at growing sizes.

Each measurement runs in a fresh subprocess, so its peak RSS is its own.

Classifier (``tools.classifier.TextClassifier``) at 500 / 5,000 / 50,000 labelled tickets:
training seconds, peak RSS, pickle size, and the latency of one prediction the way triage
calls it (one text and its vector; p50/p99 over held-out banking77 test texts).
Data: banking77 ``train.csv`` (10,003 texts, 77 intents), stratified subsamples for 500 and
5,000; for 50,000 the 10,003 texts plus deterministic perturbations of them (word dropout, one
adjacent swap, a word borrowed from another text of the same class). Vectors for the timing
runs are NOT real embeddings: random unit vectors clustered per class (class centre + noise;
a perturbed copy sits near its source). ``--part accuracy`` trains on the real
``train.csv`` with real MiniLM embeddings and scores ``test.csv`` (3,080 texts).

Index at 10,000 / 100,000 passages (random unit vectors, 384-d; passage texts are filler):
build seconds and the RSS it adds, save + load seconds, size on disk, and the latency of one
dense query as retrieval runs it (p50/p99). Three paths: ``raw`` (``tools.dense`` as shipped:
the exact scan up to ``EXACT_UP_TO`` passages, above it an 8-bit scan for candidates and their
exact re-score), ``exact`` (``tools.dense`` forced to the exact scan at every size, as before the
8-bit scan) and ``langchain`` (the langchain-community FAISS store with an ``InMemoryDocstore``
of LangChain documents, saved with ``save_local`` and read with ``load_local``, as
``tools/knowledge.py`` did before ``tools.dense``). Where ``raw`` is not exact: recall@10 and
@50 of its ranking against the exact one (ties counted as found), on the same random vectors
(the hard case for a compressed scan: the top 50 of a query lie within ~0.03 of each other)
and on clustered ones (1,000 topics), plus whether any other passage's cosine exceeded the
bound it was given.
``--part retrieve``: the whole ``KnowledgeBase.retrieve`` (dense + BM25 + ranking) at the same
sizes, shipped and exact-scan back to back per query, and how often their results are identical.

    python benchmarks/flat_cost.py [--part classifier,index,retrieve,accuracy] [--sizes 500,5000,50000]
        [--passages 10000,100000] [--paths raw,exact,langchain] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BANKING77 = Path(os.environ.get("BANKING77_DIR", "/work/shared/benchmarks/banking77"))
DIM = 384
QUERIES = 300  # single queries / predictions timed per size


def rss_mb() -> float:
    """This process's current resident set size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """This process's peak resident set size."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TreeRss:
    """Peak RSS of this process and its children together (joblib's workers), sampled every 0.2 s."""

    def __init__(self) -> None:
        """Start sampling."""
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, tree_rss_mb(os.getpid()))

    def stop(self) -> float:
        """Stop and return the peak in MB."""
        self._stop.set()
        self._thread.join()
        return max(self.peak, tree_rss_mb(os.getpid()))


def tree_rss_mb(root: int) -> float:
    """Resident set size of ``root`` and all its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[pid] = next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0)
    tree, changed = {root}, True
    while changed:
        grown = tree | {pid for pid, parent in parents.items() if parent in tree}
        changed, tree = grown != tree, grown
    return sum(rss.get(pid, 0.0) for pid in tree)


def read_csv(path: Path) -> tuple[list[str], list[str]]:
    """Texts and labels of a banking77 CSV (``text``, ``category``)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r.get("label") or r["category"] for r in rows]


def perturb(text: str, donor: str, rng: random.Random) -> str:
    """A variant of ``text``: word dropout, one adjacent swap, one word from a same-class ``donor``."""
    words = text.split()
    kept = [w for w in words if rng.random() > 0.15] or words[:1]
    if len(kept) > 2:
        i = rng.randrange(len(kept) - 1)
        kept[i], kept[i + 1] = kept[i + 1], kept[i]
    extra = donor.split()
    if extra:
        kept.insert(rng.randrange(len(kept) + 1), rng.choice(extra))
    return " ".join(kept)


def labelled_set(n: int, seed: int = 0) -> tuple[list[str], list[str], np.ndarray]:
    """``n`` labelled texts from banking77 train and clustered random unit vectors (see the module doc)."""
    texts, labels = read_csv(BANKING77 / "train.csv")
    rng = random.Random(seed)
    if n <= len(texts):  # stratified: the same share of every class
        by_class: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            by_class.setdefault(label, []).append(i)
        picked = [i for members in by_class.values() for i in rng.sample(members, max(2, round(len(members) * n / len(texts))))]
        texts, labels = [texts[i] for i in picked], [labels[i] for i in picked]
        source = list(range(len(texts)))
    else:
        by_label: dict[str, list[str]] = {}
        for text, label in zip(texts, labels, strict=True):
            by_label.setdefault(label, []).append(text)
        base = len(texts)
        source = list(range(base))
        for i in range(n - base):
            j = i % base
            texts.append(perturb(texts[j], rng.choice(by_label[labels[j]]), rng))
            labels.append(labels[j])
            source.append(j)
    return texts, labels, clustered_vectors(labels, source, seed)


def clustered_vectors(labels: list[str], source: list[int], seed: int) -> np.ndarray:
    """Unit vectors: class centre + noise per source text; a perturbed copy = its source + a little noise."""
    rng = np.random.default_rng(seed)
    classes = sorted(set(labels))
    centres = {c: rng.normal(size=DIM) / np.sqrt(DIM) for c in classes}
    base = {}
    out = np.empty((len(labels), DIM), dtype=np.float32)
    for i, (label, j) in enumerate(zip(labels, source, strict=True)):
        if j not in base:
            base[j] = centres[label] + rng.normal(scale=4.0, size=DIM) / np.sqrt(DIM)
        v = base[j] if j == i else base[j] + rng.normal(scale=1.0, size=DIM) / np.sqrt(DIM)
        out[i] = v / np.linalg.norm(v)
    return out


def query_set(labels_seen: list[str], seed: int = 1) -> tuple[list[str], np.ndarray]:
    """Held-out banking77 test texts of seen classes, with vectors from the same class centres."""
    texts, labels = read_csv(BANKING77 / "test.csv")
    rng = random.Random(seed)
    seen = set(labels_seen)
    picked = rng.sample([i for i, label in enumerate(labels) if label in seen], QUERIES)
    rows = [labels[i] for i in picked]
    # same seed as clustered_vectors, so the centres match
    vectors = clustered_vectors(labels_seen + rows, list(range(len(labels_seen) + len(rows))), 0)[len(labels_seen):]
    return [texts[i] for i in picked], vectors


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    return float(np.percentile(samples, 50) * 1e3), float(np.percentile(samples, 99) * 1e3)


def child_classifier(n: int) -> dict[str, Any]:
    """Train on ``n`` tickets, then time single predictions."""
    from tools.classifier import TextClassifier

    texts, labels, vectors = labelled_set(n)
    queries, query_vectors = query_set(labels)
    before = rss_mb()
    monitor = TreeRss()
    started, cpu = time.perf_counter(), time.process_time()
    model = TextClassifier(seed=0).fit(texts, labels, vectors)
    train_s, train_cpu = time.perf_counter() - started, time.process_time() - cpu
    peak, tree_peak = peak_rss_mb(), monitor.stop()
    for text, vector in zip(queries[:20], query_vectors[:20], strict=True):  # warm up
        model.predict_proba([text], vector[None, :])
    timings = []
    for text, vector in zip(queries, query_vectors, strict=True):
        started = time.perf_counter()
        model.predict_proba([text], vector[None, :])
        timings.append(time.perf_counter() - started)
    p50, p99 = percentiles(timings)
    return {"n": len(texts), "train_s": round(train_s, 1), "train_cpu_s": round(train_cpu, 1),
            "peak_rss_mb": round(peak), "tree_peak_rss_mb": round(tree_peak), "rss_before_fit_mb": round(before),
            "model_mb": round(len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)) / 2**20, 1),
            "predict_p50_ms": round(p50, 2), "predict_p99_ms": round(p99, 2),
            "cv": {k: v for k, v in model.cv_report.items() if k != "oof_accuracy_by_scorer"}}


def child_accuracy() -> dict[str, Any]:
    """banking77: train on train.csv, score test.csv, real MiniLM embeddings (cached in the temp dir)."""
    from tools.classifier import TextClassifier
    from tools.embeddings import default_embeddings

    cache = Path(tempfile.gettempdir()) / "flat_cost_banking77_vectors.npz"
    train_texts, train_labels = read_csv(BANKING77 / "train.csv")
    test_texts, test_labels = read_csv(BANKING77 / "test.csv")
    if cache.exists():
        saved = np.load(cache)
        train_vectors, test_vectors = saved["train"], saved["test"]
    else:
        embedder = default_embeddings()
        train_vectors, test_vectors = embedder.embed_array(train_texts), embedder.embed_array(test_texts)
        np.savez(cache, train=train_vectors, test=test_vectors)
    started = time.perf_counter()
    model = TextClassifier(seed=0).fit(train_texts, train_labels, train_vectors)
    train_s = time.perf_counter() - started
    predicted = [label for label, _ in model.predict(test_texts, test_vectors)]
    accuracy = float(np.mean(np.array(predicted) == np.array(test_labels)))
    return {"train": len(train_texts), "test": len(test_texts), "accuracy": round(accuracy, 4),
            "train_s": round(train_s, 1), "oof_accuracy": round(model.cv_report["oof_accuracy"], 4),
            "cv_texts": model.cv_report.get("cv_texts"),
            "weights": model.cv_report["weights"], "temperature": round(model.cv_report["temperature"], 3)}


def passages(n: int, seed: int = 2) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """``n`` random unit vectors and filler passage rows (about 400 characters of text each)."""
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(n, DIM)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    words = ["refund", "account", "card", "transfer", "limit", "fee", "verify", "policy", "days", "customer"]
    filler = " ".join(words[i % len(words)] for i in range(60))
    rows = [{"doc_id": f"doc-{i // 8}", "number": i % 8, "section": f"Section {i % 8}", "text": f"{i} {filler}",
             "context": f"Document {i // 8} > Section {i % 8}"} for i in range(n)]
    return matrix, rows


def clustered_passages(n: int, topics: int = 1000, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """``n`` unit vectors around ``topics`` random centres (cosine ~0.6 to their centre) and ``QUERIES`` queries drawn the same way."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = []
    for count in (n, QUERIES):
        vectors = (centres[rng.integers(0, topics, count)] + rng.normal(scale=1.2 / np.sqrt(DIM), size=(count, DIM))).astype(np.float32)
        out.append(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    return out[0], out[1]


def recall_against_exact(index: Any, matrix: np.ndarray, queries: np.ndarray) -> dict[str, Any]:
    """Recall@10/@50 of ``index.scores`` against the exact cosines (a tie with the k-th counts as found).

    Also the largest margin by which a passage outside the exact rows beat the bound it was given
    (negative: none did).
    """
    found = {10: 0.0, 50: 0.0}
    worst = -np.inf
    for q in queries:
        exact = matrix @ q
        result = index.search(q)
        ranked = np.argsort(-result.scores, kind="stable")
        for k in found:
            found[k] += float(np.mean(exact[ranked[:k]] >= np.partition(exact, -k)[-k]))
        if result.exact_rows is not None and len(result.exact_rows) < len(matrix):
            others = np.ones(len(matrix), dtype=bool)
            others[result.exact_rows] = False
            worst = max(worst, float((exact[others] - result.bound).max()))
    return {"recall_at_10": round(found[10] / len(queries), 4), "recall_at_50": round(found[50] / len(queries), 4),
            "max_over_bound": round(worst, 4)}


def child_index(n: int, path: str) -> dict[str, Any]:
    """Build, save, load and query an index of ``n`` passages through ``path`` (``raw``, ``exact`` or ``langchain``)."""
    matrix, rows = passages(n)
    rng = np.random.default_rng(3)
    queries = matrix[rng.choice(n, QUERIES)] + rng.normal(scale=0.05, size=(QUERIES, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    build, save, load, scores = {"raw": _raw_path, "exact": _exact_path, "langchain": _langchain_path}[path]()
    build(matrix[:10], rows[:10])  # imports and first calls, outside the timings
    before = rss_mb()
    started = time.perf_counter()
    index = build(matrix, rows)
    build_s, added = time.perf_counter() - started, rss_mb() - before
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        save(index, Path(folder))
        save_s = time.perf_counter() - started
        disk = sum(f.stat().st_size for f in Path(folder).iterdir()) / 2**20
        del index
        started = time.perf_counter()
        index = load(Path(folder))
        load_s = time.perf_counter() - started
    p50, p99 = time_queries(index, queries, scores)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # BLAS and OpenMP (FAISS) at one thread
        one_p50, one_p99 = time_queries(index, queries, scores)
    result = {"n": n, "path": path, "build_s": round(build_s, 3), "build_added_mb": round(added), "disk_mb": round(disk),
              "save_s": round(save_s, 3), "load_s": round(load_s, 3), "query_p50_ms": round(p50, 2),
              "query_p99_ms": round(p99, 2), "query_1t_p50_ms": round(one_p50, 2), "query_1t_p99_ms": round(one_p99, 2),
              "peak_rss_mb": round(peak_rss_mb())}
    if path == "raw" and not index.exact:  # after the peak RSS: the clustered set is a second index
        from tools import dense

        result["exact_up_to"], result["candidates"] = dense.EXACT_UP_TO, index.candidates
        result["recall_random"] = recall_against_exact(index, matrix, queries)
        del index
        clustered, clustered_queries = clustered_passages(n)
        result["recall_clustered"] = recall_against_exact(dense.DenseIndex.build(clustered), clustered, clustered_queries)
    return result


def time_queries(index: Any, queries: np.ndarray, scores: Any) -> tuple[float, float]:
    """p50 and p99 ms of single queries (after 20 untimed ones)."""
    for q in queries[:20]:
        scores(index, q)
    timings = []
    for q in queries:
        started = time.perf_counter()
        scores(index, q)
        timings.append(time.perf_counter() - started)
    return percentiles(timings)


def child_retrieve(n: int) -> dict[str, Any]:
    """``KnowledgeBase.retrieve`` over ``n`` synthetic passages (8 per document), as triage's retrieval calls it."""
    from tools.chunking import Passage
    from tools.data import CompanyData, Document
    from tools.embeddings import default_embeddings
    from tools.knowledge import KnowledgeBase
    from tools.lexical import Lexical

    matrix, _ = passages(n)
    bank = read_csv(BANKING77 / "train.csv")[0]
    texts = [f"{bank[i % len(bank)]} (passage {i})" for i in range(n)]
    documents = {
        f"doc-{d}": Document(id=f"doc-{d}", title=f"Document {d}", kind="help_article", authority="official",
                             audience="customer" if d % 3 else "internal", owner="support", updated_at="2026-01-01",
                             date_source="document", supersedes=(), categories=(), requires=(),
                             body="\n\n".join(texts[d * 8 : d * 8 + 8]), path="")
        for d in range((n + 7) // 8)}
    data = CompanyData(root=Path(tempfile.gettempdir()), playbook={"authority_weights": {"official": 1.0}},
                       documents=documents, customers={}, tickets=[])
    kb = KnowledgeBase(data, default_embeddings(), Path(tempfile.gettempdir()) / "flat-cost-unused")
    kb.passages = [Passage(f"doc-{i // 8}", i % 8, f"Section {i % 8}", text, f"Document {i // 8}") for i, text in enumerate(texts)]
    kb.doc_ids = list(documents)
    kb._index_rows()
    kb.lexical = Lexical.build([p.embed_text for p in kb.passages])
    kb.lexical_docs = Lexical.build([f"{d.title}\n{d.body}" for d in documents.values()], stem=False)
    variants: dict[str, Any] = {}
    if hasattr(kb, "dense"):
        from tools.dense import DenseIndex

        shipped = DenseIndex.build(matrix)
        variants["shipped"] = shipped
        if not getattr(shipped, "exact", True):  # the same FAISS index, held to the exact scan
            variants["exact"] = DenseIndex(shipped.index, exact_up_to=sys.maxsize)
    else:  # the code before tools/dense.py
        variants["shipped"] = kb._faiss_store(matrix)
    kb.calibration = kb._calibration(matrix)
    queries, _ = read_csv(BANKING77 / "test.csv")
    rng = np.random.default_rng(4)
    vectors = matrix[rng.choice(n, 100)] + rng.normal(scale=0.05, size=(100, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    calls = list(zip(queries[:100], vectors, strict=True))

    def use(name: str) -> None:
        if hasattr(kb, "dense"):
            kb.dense = variants[name]
        else:
            kb.store = variants[name]

    for name in variants:
        use(name)
        for text, vector in calls[:10]:
            kb.retrieve(text, vector, k=4)
    timings: dict[str, list[float]] = {name: [] for name in variants}
    answers: dict[str, list[Any]] = {name: [] for name in variants}
    for number, (text, vector) in enumerate(calls):  # back to back per query (alternating which goes first)
        for name in list(variants)[:: 1 if number % 2 else -1]:
            use(name)
            started = time.perf_counter()
            got = kb.retrieve(text, vector, k=4)
            timings[name].append(time.perf_counter() - started)
            answers[name].append(([(h.doc.id, round(h.score, 5), h.passage) for h in got.customer + got.internal], got.top_score,
                                  [doc for doc, *_ in kb._rank(text, vector)[:50]]))
    p50, p99 = percentiles(timings["shipped"])
    result: dict[str, Any] = {"n": n, "retrieve_p50_ms": round(p50, 2), "retrieve_p99_ms": round(p99, 2)}
    if "exact" in variants:
        p50, p99 = percentiles(timings["exact"])
        pairs = list(zip(answers["shipped"], answers["exact"], strict=True))
        result.update({"exact_retrieve_p50_ms": round(p50, 2), "exact_retrieve_p99_ms": round(p99, 2),
                       "identical_hits": sum(a[:2] == b[:2] for a, b in pairs) / len(pairs),
                       "identical_first_50": sum(a[2] == b[2] for a, b in pairs) / len(pairs)})
    return result


def _raw_path() -> tuple[Any, Any, Any, Any]:
    from tools.dense import DenseIndex

    return (lambda m, rows: DenseIndex.build(m), lambda index, folder: index.save(folder / "dense.faiss"),
            lambda folder: DenseIndex.load(folder / "dense.faiss"), lambda index, q: index.scores(q))


def _exact_path() -> tuple[Any, Any, Any, Any]:
    """``tools.dense`` held to the exact scan at every size (what it did before the 8-bit scan)."""
    from tools.dense import DenseIndex

    return (lambda m, rows: DenseIndex.build(m, exact_up_to=sys.maxsize), lambda index, folder: index.save(folder / "dense.faiss"),
            lambda folder: DenseIndex.load(folder / "dense.faiss", exact_up_to=sys.maxsize), lambda index, q: index.scores(q))


def _langchain_path() -> tuple[Any, Any, Any, Any]:
    """The langchain-community FAISS store as ``tools/knowledge.py`` built, saved and queried it before."""
    import warnings

    import faiss
    from langchain_core.documents import Document

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_community.docstore.in_memory import InMemoryDocstore
        from langchain_community.vectorstores import FAISS
        from langchain_community.vectorstores.utils import DistanceStrategy

    def build(matrix: np.ndarray, rows: list[dict[str, Any]]) -> Any:
        index = faiss.IndexFlatIP(DIM)
        index.add(matrix)
        docstore = InMemoryDocstore({str(i): Document(page_content=r["text"], metadata={"doc_id": r["doc_id"], "section": r["section"]})
                                     for i, r in enumerate(rows)})
        return FAISS(None, index, docstore, {i: str(i) for i in range(len(rows))},  # type: ignore[arg-type]
                     distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT)

    def scores(store: Any, q: np.ndarray) -> np.ndarray:  # knowledge._rank: every passage's cosine
        n = store.index.ntotal
        sims, rows = store.index.search(q.reshape(1, -1), n)
        out = np.empty(n, dtype=np.float32)
        out[rows[0]] = sims[0]
        return out

    return (build, lambda store, folder: store.save_local(str(folder), index_name="faiss"),
            lambda folder: FAISS.load_local(str(folder), None, index_name="faiss", allow_dangerous_deserialization=True),  # type: ignore[arg-type]
            scores)


def run_child(*args: str) -> dict[str, Any]:
    """One measurement in a fresh interpreter."""
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run each size in its own subprocess and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="classifier,index,retrieve,accuracy")
    parser.add_argument("--sizes", default="500,5000,50000")
    parser.add_argument("--passages", default="10000,100000")
    parser.add_argument("--paths", default="raw,exact,langchain", help="index paths to measure")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = {"classifier": lambda: child_classifier(int(rest[0])), "accuracy": child_accuracy,
                  "index": lambda: child_index(int(rest[0]), rest[1]),
                  "retrieve": lambda: child_retrieve(int(rest[0]))}[kind]()
        print(json.dumps(result))
        return
    parts = args.part.split(",")
    results: dict[str, Any] = {}
    if "classifier" in parts:
        results["classifier"] = [run_child("classifier", size) for size in args.sizes.split(",")]
    if "index" in parts:
        results["index"] = [run_child("index", n, path) for n in args.passages.split(",") for path in args.paths.split(",")]
    if "retrieve" in parts:
        results["retrieve"] = [run_child("retrieve", n) for n in args.passages.split(",")]
    if "accuracy" in parts:
        results["accuracy"] = run_child("accuracy")
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print_tables(results)


def print_tables(results: dict[str, Any]) -> None:
    """The tables and what the data is."""
    if "classifier" in results:
        print("classifier: banking77 train texts (50k = 10,003 real + deterministic perturbations), clustered random vectors")
        print(f"{'tickets':>8}{'train s':>9}{'cpu s':>8}{'peak RSS MB':>13}{'+workers MB':>13}{'model MB':>10}"
              f"{'predict p50 ms':>16}{'p99 ms':>8}  cv")
        for r in results["classifier"]:
            tree = r.get("tree_peak_rss_mb", "")
            print(f"{r['n']:>8}{r['train_s']:>9}{r['train_cpu_s']:>8}{r['peak_rss_mb']:>13}{tree!s:>13}{r['model_mb']:>10}"
                  f"{r['predict_p50_ms']:>16}{r['predict_p99_ms']:>8}  {r['cv']}")
        print("peak RSS = the training process; +workers = it and joblib's worker processes together (sampled every 0.2 s)")
        print("cpu s = the training process only (not its workers); goals at 50k: predict ≤ 3 ms, train ≤ 120 s")
    if "index" in results:
        print("index: random unit vectors (384-d), filler passage texts; query = every passage's cosine for one vector")
        print(f"{'passages':>9}{'path':>10}{'build s':>9}{'build MB':>10}{'disk MB':>9}{'save s':>8}{'load s':>8}"
              f"{'query p50 ms':>14}{'p99 ms':>8}{'1 thread p50':>14}{'p99':>7}{'peak RSS MB':>13}")
        for r in results["index"]:
            print(f"{r['n']:>9}{r['path']:>10}{r['build_s']:>9}{r['build_added_mb']:>10}{r['disk_mb']:>9}{r['save_s']:>8}"
                  f"{r['load_s']:>8}{r['query_p50_ms']:>14}{r['query_p99_ms']:>8}{r.get('query_1t_p50_ms', '')!s:>14}"
                  f"{r.get('query_1t_p99_ms', '')!s:>7}{r['peak_rss_mb']:>13}")
        print("langchain = the store as tools/knowledge.py used it before (search with k = every passage); "
              "exact = tools.dense held to one exact matrix-vector product; raw = tools.dense as shipped")
        print("query = default threads (2 here); 1 thread = BLAS and OpenMP limited to one; goal at 100k: query ≤ 5 ms")
        for r in results["index"]:
            if "recall_random" in r:
                print(f"raw at {r['n']} passages (over {r['exact_up_to']}: 8-bit scan, {r['candidates']} candidates re-scored "
                      f"exactly) against the exact ranking: random vectors {r['recall_random']}, "
                      f"clustered {r['recall_clustered']} (max_over_bound < 0: no passage above its bound)")
    if "retrieve" in results:
        print("retrieve: KnowledgeBase.retrieve(text, vector, k=4) over synthetic passages (banking77 texts, 8 per document, "
              "random vectors): dense + BM25 (passages and documents) + ranking")
        for r in results["retrieve"]:
            line = f"{r['n']:>9} passages: p50 {r['retrieve_p50_ms']} ms, p99 {r['retrieve_p99_ms']} ms"
            if "exact_retrieve_p50_ms" in r:
                line += (f"; exact scan p50 {r['exact_retrieve_p50_ms']} ms, p99 {r['exact_retrieve_p99_ms']} ms; "
                         f"identical hits {r['identical_hits']:.0%}, identical first 50 documents {r['identical_first_50']:.0%}")
            print(line)
    if "accuracy" in results:
        print(f"banking77 (real MiniLM embeddings): {results['accuracy']}")


if __name__ == "__main__":
    main()
