"""Knowledge retrieval: hybrid BM25 + dense passages, an authority prior, a calibrated confidence.

Index: documents are cut into heading-aware passages (:mod:`tools.chunking`), embedded with
the heading path as context and stored in a raw FAISS flat index (:mod:`tools.dense`; inner
product on unit vectors = cosine). A bm25s index (:mod:`tools.lexical`) covers the same
documents. Both are saved with the knowledge content hash, the model id and the chunking
code version; a change rebuilds, and passage vectors whose text did not change are taken
from the previous index instead of being embedded again. Macros are not indexed.

Ranking (a document is as relevant as its best passage). Everything below was chosen by
measurement on three sets at once (``benchmarks/retrieval.py``): doc2dial (661 short first
turns, 273 pages), the long-ticket set (45 tickets of 300-900 words, 42 documents) and the
sample company's must-cite tickets (202); a choice had to help on all of them:

- Passages = one paragraph or flat section each (split to the window): packing a section's
  paragraphs into one passage lowered dense R@5 on the sample company (0.787 → 0.748).
- Lexical = the mean of two max-normalised BM25 scores: over passages with their heading
  context, stemmed (doc2dial R@5 0.818, vs 0.743 without the context and 0.744 over whole
  documents), and over whole documents, unstemmed (the long tickets: MRR 0.854 alone).
- Fusion: a blend ``alpha · dense + (1 − alpha) · lexical`` beat reciprocal-rank fusion
  (k = 10 and 60) on MRR@10 on every set, and raw cosine beat min-max or z-scored dense.
  ``alpha`` = 0.7 for a query that fits one window (best average of doc2dial and sample;
  0.8 gains doc2dial R@5 and loses the sample company), 0.4 for a longer one: a pooled
  vector of a 600-word ticket is blurrier while its words say more (long tickets MRR 0.869
  at 0.4, 0.837 at 0.7). Only the long-ticket set has multi-window queries, so this second
  value rests on one set.
- Confidence: a per-index calibration. Raw cosines are not portable (best-document cosine
  of a hit: median 0.68 on doc2dial, 0.54 on the sample company), so at build time the
  cosine between passages of different documents is sampled: its mean (the background,
  an unrelated match) maps to 0 and its 99th percentile to 1. The best document's dense
  score on that scale is the query's confidence. ``CONFIDENT`` = 0.5: off-topic questions
  fall below it on every set (8/8), hits rarely do (doc2dial 2 %, sample 4 %, long 0 %),
  misses more often (17 %, 19 %, 0 % — most misses here are near misses: a related page).
- Authority is a prior: ``score = blend − PRIOR · (1 − weight)²`` breaks ties among binding
  levels (weight 0.9 costs 0.006, 0.85 costs 0.014) and demotes informal (0.5: −0.15) or
  past-ticket (0.7: −0.05) sources, instead of multiplying relevance (which pushed internal
  SOPs out of the top 5). Long tickets (18 internal golds): flat for PRIOR 0-1, while
  multiplying lowered R@1 0.800 → 0.778; sample company (customer-facing golds): MRR 0.691
  at 0, 0.706 at 0.6.

Superseded documents are never returned: one that ranks in the top k is reported as a
conflict and its successor stands in for it.

Above 50,000 passages the dense index scores only its best candidates exactly (an 8-bit scan
finds them; :mod:`tools.dense`) and gives every other passage an upper bound of its cosine;
the passages of any document that could still reach the first ``EXACT_DOCS`` (50) are then
scored exactly (:meth:`KnowledgeBase._exact_top`), so those 50 documents, their scores and
best passages are the exact scan's. Below that size nothing changes: every passage is scored.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools import dense as dense_module
from tools import lexical as lexical_module
from tools.chunking import Passage, chunk_document, chunking_version
from tools.data import CompanyData, Document
from tools.dense import DenseIndex, DenseScores
from tools.embeddings import DIM, MAX_TOKENS, MODEL_ID, MiniLMEmbeddings, limit_threads
from tools.lexical import Lexical

Progress = Callable[[str, int, int], None]
ALPHA = 0.7  # dense share of the blend for a query that fits one window
ALPHA_LONG = 0.4  # … and for a longer one (its pooled vector is blurrier, its words more telling)
PRIOR = 0.6  # authority prior strength
CONFIDENT = 0.5  # calibrated confidence below this = low retrieval confidence
EXACT_DOCS = 50  # above the dense index's exact size, the first this many documents are ranked exactly
EMBED_CHUNK = 256  # passages per embedding call (progress granularity; batches are padded per call)


@dataclass(frozen=True)
class Hit:
    """One ranked source for a query."""

    doc: Document
    relevance: float  # calibrated 0..1
    score: float  # relevance with the authority prior (the ranking key)
    passage: str
    section: str = ""
    replaced: str | None = None  # id of the superseded document this hit stands in for

    def as_source(self) -> dict[str, Any]:
        """The packet's view of this source."""
        return {
            "id": self.doc.id, "title": self.doc.title, "section": self.section, "kind": self.doc.kind,
            "authority": self.doc.authority, "audience": self.doc.audience, "updated_at": self.doc.updated_at,
            "updated_at_known": self.doc.date_source == "document",
            "relevance": round(self.relevance, 4), "score": round(self.score, 4), "passage": self.passage,
            "replaces": self.replaced, "url": self.doc.url,
        }


@dataclass(frozen=True)
class Retrieval:
    """What the graph needs from one ticket's retrieval."""

    customer: list[Hit]
    internal: list[Hit]
    conflicts: list[dict[str, str]]
    top_score: float
    confident: bool
    threshold: float


def _code_version() -> str:
    digest = hashlib.sha256(chunking_version().encode())
    for module in (__file__, lexical_module.__file__ or "", dense_module.__file__ or ""):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()[:16]


class KnowledgeBase:
    """Hybrid retrieval over a company's knowledge documents."""

    def __init__(self, data: CompanyData, embedder: MiniLMEmbeddings, index_dir: Path) -> None:
        """Bind to the data; call :meth:`load_or_build` before searching."""
        self.data = data
        self.embedder = embedder
        self.index_dir = index_dir
        self.weights: dict[str, float] = {k: float(v) for k, v in data.playbook.get("authority_weights", {}).items()}
        self.superseded_by: dict[str, str] = {old: doc.id for doc in data.documents.values() for old in doc.supersedes}
        self.dense: DenseIndex | None = None  # passage vectors, in passage order
        self.passages: list[Passage] = []
        self.doc_ids: list[str] = []
        self.lexical: Lexical | None = None  # passages (stemmed, with heading context)
        self.lexical_docs: Lexical | None = None  # whole documents (not stemmed)
        self.calibration: tuple[float, float] = (0.0, 1.0)  # background cosine: mean, 99th percentile
        self._row_doc: np.ndarray = np.zeros(0, dtype=np.int64)  # passage row -> document position
        self._prior: np.ndarray = np.zeros(0)  # document position -> its authority prior (subtracted)
        self._doc_rows: list[np.ndarray] = []  # document position -> its passage rows
        self._doc_size: np.ndarray = np.zeros(0, dtype=np.int64)  # document position -> its number of passages

    # ------------------------------------------------------------------ index

    def _expected(self) -> dict[str, Any]:
        return {"knowledge_hash": self.data.knowledge_hash(), "model": MODEL_ID, "code": _code_version()}

    def load_or_build(self, progress: Callable[..., None] | None = None) -> bool:
        """Load the saved index, or rebuild it when the knowledge or the code changed. Returns True if rebuilt."""
        meta_file = self.index_dir / "knowledge.json"
        expected = self._expected()
        if meta_file.exists():
            meta = json.loads(meta_file.read_text())
            if {k: meta.get(k) for k in expected} == expected and (self.index_dir / "faiss.faiss").exists():
                self._load(meta)
                return False
        self.build(_three_args(progress))
        self._save(expected)
        return True

    def _load(self, meta: dict[str, Any]) -> None:
        self.dense = DenseIndex.load(self.index_dir / "faiss.faiss")
        rows = json.loads((self.index_dir / "passages.json").read_text())
        self.passages = [Passage(r["doc_id"], r["number"], r["section"], r["text"], r["context"]) for r in rows]
        self.doc_ids = list(meta["doc_ids"])
        self.calibration = (float(meta["calibration"][0]), float(meta["calibration"][1]))
        self.lexical = Lexical.load(self.index_dir / "bm25")
        self.lexical_docs = Lexical.load(self.index_dir / "bm25-docs", stem=False)
        self._index_rows()

    def _save(self, expected: dict[str, Any]) -> None:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        assert self.dense is not None
        self.dense.save(self.index_dir / "faiss.faiss")
        (self.index_dir / "faiss.pkl").unlink(missing_ok=True)  # the langchain docstore of an older build
        rows = [{"doc_id": p.doc_id, "number": p.number, "section": p.section, "text": p.text, "context": p.context}
                for p in self.passages]
        (self.index_dir / "passages.json").write_text(json.dumps(rows))
        assert self.lexical is not None and self.lexical_docs is not None
        self.lexical.save(self.index_dir / "bm25")
        self.lexical_docs.save(self.index_dir / "bm25-docs")
        meta = {**expected, "doc_ids": self.doc_ids, "calibration": list(self.calibration)}
        (self.index_dir / "knowledge.json").write_text(json.dumps(meta))  # last: marks the index complete

    def _index_rows(self) -> None:
        position = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        self._row_doc = np.array([position[p.doc_id] for p in self.passages], dtype=np.int64)
        self._prior = np.array([PRIOR * (1 - self._weight(doc_id)) ** 2 for doc_id in self.doc_ids], dtype=np.float64)
        order = np.argsort(self._row_doc, kind="stable")
        bounds = np.searchsorted(self._row_doc[order], np.arange(len(self.doc_ids) + 1))
        self._doc_rows = [order[bounds[i] : bounds[i + 1]] for i in range(len(self.doc_ids))]
        self._doc_size = np.diff(bounds)

    def _cached_vectors(self) -> dict[str, np.ndarray]:
        """Vectors of the previous index by embed-text hash (re-embed only what changed)."""
        try:
            if json.loads((self.index_dir / "knowledge.json").read_text()).get("model") != MODEL_ID:
                return {}  # vectors of another model are no use
            rows = json.loads((self.index_dir / "passages.json").read_text())
            # The vectors only (no 8-bit codes, whatever the size): a view that keeps its index alive.
            matrix = DenseIndex.load(self.index_dir / "faiss.faiss", exact_up_to=sys.maxsize).matrix
        except (OSError, ValueError, RuntimeError, KeyError, AttributeError):
            return {}
        if len(rows) != len(matrix):
            return {}
        return {_key(f"{r['context']}: {r['text']}" if r["context"] else r["text"]): matrix[i] for i, r in enumerate(rows)}

    def build(self, progress: Progress | None = None) -> None:
        """Chunk, embed (reusing unchanged passage vectors), and build the BM25 and FAISS indexes."""
        report = progress or (lambda step, done, total: None)
        docs = [d for d in self.data.documents.values() if d.kind != "macro"]
        count = self._count
        self.passages = []
        for number, doc in enumerate(docs):
            self.passages.extend(chunk_document(doc.id, doc.title, doc.body, count, window=MAX_TOKENS))
            if number % 50 == 0 or number == len(docs) - 1:
                report("chunk", number + 1, len(docs))
        self.doc_ids = [d.id for d in docs]
        self._index_rows()
        cached = self._cached_vectors()
        matrix = np.zeros((len(self.passages), DIM), dtype=np.float32)
        todo: list[int] = []
        for i, passage in enumerate(self.passages):
            vector = cached.get(_key(passage.embed_text))
            if vector is None:
                todo.append(i)
            else:
                matrix[i] = vector
        del cached
        # Sorted by token length across the whole set, so every call pads little; token ids are made
        # per call (not kept for all passages at once) to keep the peak memory flat.
        lengths = [len(ids) for ids in self.embedder.token_ids([self.passages[i].embed_text for i in todo])]
        order = [todo[j] for j in sorted(range(len(todo)), key=lengths.__getitem__)]
        del lengths
        report("embed passages", 0, len(order))
        with limit_threads(1):
            for start in range(0, len(order), EMBED_CHUNK):
                chunk = order[start : start + EMBED_CHUNK]
                matrix[chunk] = self.embedder.embed_array([self.passages[i].embed_text for i in chunk])
                report("embed passages", min(start + EMBED_CHUNK, len(order)), len(order))
        report("bm25", 0, 1)
        # (A placeholder row keeps bm25s happy for a workspace with nothing to index; _rank returns early.)
        self.lexical = Lexical.build([p.embed_text for p in self.passages] or [""])
        self.lexical_docs = Lexical.build([f"{d.title}\n{d.body}" for d in docs] or [""], stem=False)
        report("bm25", 1, 1)
        report("faiss", 0, 1)
        self.dense = DenseIndex.build(matrix)
        self.calibration = self._calibration(matrix)
        report("faiss", 1, 1)

    def _calibration(self, matrix: np.ndarray, sample: int = 400) -> tuple[float, float]:
        """Mean and 99th percentile of the cosine between passages of different documents (a sample)."""
        if len(set(self._row_doc.tolist())) < 2:
            return 0.0, 1.0
        rows = np.random.default_rng(0).choice(len(matrix), size=min(sample, len(matrix)), replace=False)
        sims = matrix[rows] @ matrix.T
        other = sims[self._row_doc[rows][:, None] != self._row_doc[None, :]]
        return float(other.mean()), float(np.percentile(other, 99))

    def _count(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.embedder.token_ids(texts)]

    # ------------------------------------------------------------------ ranking

    def confidence(self, dense: float) -> float:
        """A best dense cosine on this index's scale: 0 = background (unrelated passages), 1 = its 99th percentile."""
        background, high = self.calibration
        return float(np.clip((dense - background) / max(high - background, 1e-6), 0.0, 1.0))

    def _rank(self, text: str, vector: np.ndarray | None) -> list[tuple[str, float, float, int]]:
        """Every document as ``(doc_id, relevance, score, best passage row)``, best first."""
        if not self.passages:
            return []
        if vector is None:
            vector = self.embedder.embed_long([text])[0]
        assert self.dense is not None
        found = self.dense.search(vector)
        passage_sims = found.scores
        dense = np.full(len(self.doc_ids), -1.0, dtype=np.float32)
        np.maximum.at(dense, self._row_doc, passage_sims)
        assert self.lexical is not None and self.lexical_docs is not None
        passage_bm25 = self.lexical.scores(text) if text else np.zeros(len(self.passages), dtype=np.float32)
        passage_bm25 /= max(float(passage_bm25.max()), 1e-6)
        bm25 = np.zeros(len(self.doc_ids), dtype=np.float32)
        np.maximum.at(bm25, self._row_doc, passage_bm25)
        if text:
            whole = self.lexical_docs.scores(text)
            bm25 = np.asarray((bm25 + whole / max(float(whole.max()), 1e-6)) / 2, dtype=np.float32)
        alpha = ALPHA if not text or self.embedder.count_tokens(text) <= MAX_TOKENS else ALPHA_LONG
        if found.exact_rows is not None:
            self._exact_top(vector, found, dense, bm25, alpha)
        blend = alpha * dense + (1 - alpha) * bm25
        # Relevance: the calibrated confidence of the best document, in proportion for the others.
        scale = self.confidence(float(dense.max())) / max(float(blend.max()), 1e-6)
        best_row = self._best_rows(alpha * passage_sims + (1 - alpha) * passage_bm25)
        # Whole arrays, not a Python loop per document (12,500 documents: ~25 ms a query).
        wide = blend.astype(np.float64)
        score = wide - self._prior
        order = np.argsort(-score, kind="stable")  # best first; ties keep document order
        relevance = np.maximum(0.0, wide * scale)
        ids = [self.doc_ids[i] for i in order.tolist()]
        return list(zip(ids, relevance[order].tolist(), score[order].tolist(), best_row[order].tolist(), strict=True))

    def _exact_top(self, vector: np.ndarray, found: DenseScores, dense: np.ndarray, bm25: np.ndarray, alpha: float) -> None:
        """Re-score passages (in place) until the first :data:`EXACT_DOCS` documents rank on exact cosines.

        Above its exact size the dense index scores only its candidate passages exactly and
        gives every other passage an upper bound of its cosine, so a document with such a
        passage has an upper bound for its dense score (and its best passage may be the wrong
        one). While such a document ranks among the first ``EXACT_DOCS``, the ``EXACT_DOCS``
        such documents with the highest scores get all their passages scored exactly and the
        ranking is redone. At the end the first ``EXACT_DOCS`` documents, their scores and best
        passages are those of the exact scan: a document that could beat one of them would have
        to beat it on its bound too. At 100,000 synthetic passages whose words and vectors are
        unrelated (the hard case: BM25 lifts documents from far down the dense order) this took
        ~4 rounds, ~1,600 passages, ~1.5 ms a query.
        """
        assert self.dense is not None and found.exact_rows is not None
        sims = found.scores
        exact = np.bincount(self._row_doc[found.exact_rows], minlength=len(self.doc_ids)) == self._doc_size
        depth = min(EXACT_DOCS, len(self.doc_ids))
        while True:
            score = (alpha * dense + (1 - alpha) * bm25).astype(np.float64) - self._prior
            top = np.argpartition(-score, depth - 1)[:depth]
            if exact[top].all():
                return
            uncertain = np.flatnonzero(~exact)
            todo = uncertain[np.argpartition(-score[uncertain], min(depth, len(uncertain)) - 1)[:depth]]
            rows = np.concatenate([self._doc_rows[d] for d in todo.tolist()])
            sims[rows] = self.dense.exact_scores(vector, rows)
            dense[todo] = -1.0
            np.maximum.at(dense, self._row_doc[rows], sims[rows])
            exact[todo] = True

    def _best_rows(self, passage_sims: np.ndarray) -> np.ndarray:
        """Per document, the row of its best passage (the first one on a tie)."""
        top = np.full(len(self.doc_ids), -np.inf, dtype=passage_sims.dtype)
        np.maximum.at(top, self._row_doc, passage_sims)
        hits = np.flatnonzero(passage_sims == top[self._row_doc])
        docs, first = np.unique(self._row_doc[hits], return_index=True)
        best = np.zeros(len(self.doc_ids), dtype=np.int64)
        best[docs] = hits[first]
        return best

    def _select(self, ranked: list[tuple[str, float, float, int]], k: int, audience: str | None,
                conflicts: list[dict[str, str]]) -> list[Hit]:
        hits: dict[str, Hit] = {}
        for doc_id, relevance, score, row in ranked:
            if len(hits) >= k:
                break
            doc = self.data.documents[doc_id]
            replaced = None
            if doc_id in self.superseded_by:
                current = self._current(doc_id)
                if audience and self.data.documents[current].audience != audience:
                    continue
                self._conflict(doc_id, current, conflicts)
                if current in hits:
                    continue
                replaced, doc = doc_id, self.data.documents[current]
                row = next((r for r, p in enumerate(self.passages) if p.doc_id == current), row)
            if audience and doc.audience != audience:
                continue
            if doc.id not in hits:
                passage = self.passages[row]
                hits[doc.id] = Hit(doc, relevance, score, passage.text, passage.section, replaced)
        return list(hits.values())

    def _conflict(self, old_id: str, current: str, conflicts: list[dict[str, str]]) -> None:
        if any(c["superseded"] == old_id for c in conflicts):
            return
        old, new = self.data.documents[old_id], self.data.documents[current]
        conflicts.append({"superseded": old_id, "current": current, "superseded_updated_at": old.updated_at,
                          "reason": f"'{old.title}' is outdated; '{new.title}' replaces it"})

    def search(self, text: str | np.ndarray, vector: np.ndarray | None = None, k: int = 4,
               audience: str | None = None) -> tuple[list[Hit], list[dict[str, str]]]:
        """Rank documents for a query (one hit per document, best first) and report conflicts.

        Args:
            text: The whole query text (BM25 reads all of it). A vector here (the old call
                form ``search(vector, k=…)``) searches dense-only.
            vector: The query's unit vector (``embed_long``); embedded from ``text`` when None.
            k: Documents to return.
            audience: Keep only ``customer`` or ``internal`` documents when set.
        """
        if not isinstance(text, str):
            text, vector = "", np.asarray(text, dtype=np.float32)
        conflicts: list[dict[str, str]] = []
        return self._select(self._rank(text, vector), k, audience, conflicts), conflicts

    def retrieve(self, text: str, vector: np.ndarray | None = None, k: int = 4) -> Retrieval:
        """The best customer-facing and internal sources, conflicts and the calibrated confidence."""
        ranked = self._rank(text, vector)
        conflicts: list[dict[str, str]] = []
        customer = self._select(ranked, k, "customer", conflicts)
        internal = self._select(ranked, k, "internal", conflicts)
        top = max((h.relevance for h in customer + internal), default=0.0)
        return Retrieval(customer, internal, conflicts, round(top, 4), top >= CONFIDENT, CONFIDENT)

    def _weight(self, doc_id: str) -> float:
        return self.weights.get(self.data.documents[doc_id].authority, 0.5)

    def _current(self, doc_id: str) -> str:
        seen = {doc_id}
        while doc_id in self.superseded_by and self.superseded_by[doc_id] not in seen:
            doc_id = self.superseded_by[doc_id]
            seen.add(doc_id)
        return doc_id

    def best_sentences(self, doc: Document, vector: np.ndarray, limit: int = 2, exclude: set[str] | None = None) -> list[str]:
        """The sentences of ``doc``'s passages closest to ``vector``, skipping ``exclude`` (grounds a redraft)."""
        texts = [p.text for p in self.passages if p.doc_id == doc.id] or doc.paragraphs
        sentences = [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if s.strip()]
        sentences = [s for s in dict.fromkeys(sentences) if s not in (exclude or set())]
        if not sentences:
            return []
        scores = self.embedder.embed_array(sentences) @ np.asarray(vector, dtype=np.float32)
        return [sentences[i] for i in np.argsort(-scores)[:limit]]


def _three_args(progress: Callable[..., None] | None) -> Progress | None:
    """Accept the older ``progress(done, total)`` callback too (until every caller passes ``step``)."""
    if progress is None:
        return None
    import inspect

    try:
        positional = [p for p in inspect.signature(progress).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return progress
    if len(positional) == 2:
        return lambda step, done, total: progress(done, total)
    return progress


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 - a cache key, not security
