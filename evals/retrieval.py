"""Retrieval eval: recall@1/5/10 and MRR@10 of the product and of two baselines, in one run.

A query is ``{"id", "query", "gold": [doc ids]}``; a hit is any gold document. The product
is ``kb.search`` on the whole query text (documents ranked, superseded ones replaced by
their successor). The baselines rank the same documents (macros excluded) as wholes:

- ``bm25``: bm25s over ``title + body``, lower-case words, scikit-learn English stop words,
  no stemming;
- ``dense``: the same embedder over ``title + body`` (its first 256 tokens, as in the
  doc2dial README), cosine to the query's first-window vector.

The result also says how often the low-confidence flag fired on misses (gold not in the
top 5) and on hits, which is what the flag's calibration is judged by, and, for queries
whose gold is an internal document, how often it is among the reviewer's internal
procedures (``retrieve().internal``, top 4).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tools.embeddings import MiniLMEmbeddings
from tools.knowledge import CONFIDENT, KnowledgeBase
from tools.lexical import Lexical

CUTS = (1, 5, 10)
INTERNAL_K = 4  # the reviewer's internal procedures in a packet (retrieval_k)


def load_queries(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL query file; a bad line raises ``ValueError("file:line: reason")``."""
    queries: list[dict[str, Any]] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: invalid JSON: {exc.msg}") from None
        if not isinstance(row, dict):
            raise ValueError(f"{where}: each line must be a JSON object")
        if not isinstance(row.get("query"), str) or not row["query"].strip():
            raise ValueError(f"{where}: 'query' must be a non-empty string")
        gold = row.get("gold")
        if isinstance(gold, str):
            gold = [gold]
        if not isinstance(gold, list) or not gold or not all(isinstance(g, str) and g for g in gold):
            raise ValueError(f"{where}: 'gold' must be a non-empty list of document ids")
        queries.append({"id": str(row.get("id", number)), "query": row["query"], "gold": gold})
    return queries


def _metrics(ranks: Sequence[int | None]) -> dict[str, float]:
    n = max(1, len(ranks))
    out = {f"recall@{c}": sum(1 for r in ranks if r is not None and r < c) / n for c in CUTS}
    out["mrr@10"] = sum(1 / (r + 1) for r in ranks if r is not None and r < 10) / n
    return {k: round(v, 3) for k, v in out.items()}


def _rank_of(ranking: Sequence[str], gold: Sequence[str]) -> int | None:
    return next((i for i, doc_id in enumerate(ranking[:10]) if doc_id in gold), None)


def evaluate(kb: KnowledgeBase, queries: list[dict[str, Any]], embedder: MiniLMEmbeddings) -> dict[str, Any]:
    """Score the product and the baselines on ``queries`` (the knowledge base must be loaded)."""
    docs = [d for d in kb.data.documents.values() if d.kind != "macro"]
    ids = [d.id for d in docs]
    wholes = [f"{d.title}\n{d.body}" for d in docs]
    bm25 = Lexical.build(wholes, stem=False)
    doc_vectors = embedder.embed_array(wholes)
    texts = [q["query"] for q in queries]
    first_window = embedder.embed_array(texts)
    ranks: dict[str, list[int | None]] = {"product": [], "bm25": [], "dense": []}
    flags: list[tuple[bool, bool]] = []  # (confident, hit@5)
    internal: list[bool] = []  # per query with an internal gold: is it among the reviewer's procedures?
    latencies: list[float] = []
    for number, query in enumerate(queries):
        started = time.perf_counter()
        vector = embedder.embed_long([query["query"]])[0]
        hits, _ = kb.search(query["query"], vector, k=10)
        latencies.append(time.perf_counter() - started)
        product = _rank_of([h.doc.id for h in hits], query["gold"])
        ranks["product"].append(product)
        # Retrieval.confident is the best hit's relevance against the same threshold.
        flags.append((bool(hits) and hits[0].relevance >= CONFIDENT, product is not None and product < 5))
        if any(kb.data.documents[g].audience == "internal" for g in query["gold"] if g in kb.data.documents):
            procedures = kb.retrieve(query["query"], vector, k=INTERNAL_K).internal
            internal.append(any(h.doc.id in query["gold"] for h in procedures))
        lexical = bm25.scores(query["query"])
        ranks["bm25"].append(_rank_of([ids[i] for i in np.argsort(-lexical, kind="stable")[:10]], query["gold"]))
        dense = doc_vectors @ first_window[number]
        ranks["dense"].append(_rank_of([ids[i] for i in np.argsort(-dense, kind="stable")[:10]], query["gold"]))
    misses = [c for c, hit in flags if not hit]
    found = [c for c, hit in flags if hit]
    return {
        "product": _metrics(ranks["product"]),
        "baselines": {"bm25": _metrics(ranks["bm25"]), "dense": _metrics(ranks["dense"])},
        "queries": len(queries),
        "low_confidence": {
            "threshold": CONFIDENT,
            "fires_on_misses": round(sum(not c for c in misses) / max(1, len(misses)), 3),
            "fires_on_hits": round(sum(not c for c in found) / max(1, len(found)), 3),
            "misses": len(misses), "hits": len(found),
        },
        "internal_found": {"k": INTERNAL_K, "queries": len(internal),
                           "rate": round(sum(internal) / len(internal), 3) if internal else None},
        "latency_ms_p50": round(1000 * float(np.median(latencies or [0.0])), 1),
    }


def format_table(result: dict[str, Any]) -> str:
    """The result as a plain-text table (one row per method)."""
    header = f"{'method':<10}" + "".join(f"{c:>11}" for c in (*(f"recall@{c}" for c in CUTS), "mrr@10"))
    rows = [header, "-" * len(header)]
    for name, scores in [("product", result["product"]), *result["baselines"].items()]:
        rows.append(f"{name:<10}" + "".join(f"{scores[k]:>11.3f}" for k in scores))
    flag = result.get("low_confidence")
    rows.append(f"{result['queries']} queries")
    found = result.get("internal_found") or {}
    if found.get("queries"):
        rows.append(f"internal procedure among the reviewer's top {found['k']}: {found['rate']:.0%} of {found['queries']} "
                    "queries whose gold is internal")
    if flag:
        rows.append(f"low-confidence flag (< {flag['threshold']}): fires on {flag['fires_on_misses']:.0%} of misses "
                    f"({flag['misses']}, gold not in top 5) and {flag['fires_on_hits']:.0%} of hits ({flag['hits']})")
    return "\n".join(rows)
