"""Knowledge retrieval: a FAISS index of document passages, ranked by relevance × authority.

Passages (one per paragraph, prefixed with the title) are embedded once and stored in a
``langchain_community`` FAISS index (inner product on unit vectors = cosine). The index is
saved to disk with the content hash of the knowledge files and rebuilt only when they
change. Superseded documents are never returned: a hit on one is replaced by its
successor and reported as a conflict. Macros are templates, not sources, and are not indexed.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools.data import CompanyData, Document
from tools.embeddings import MODEL_ID, MiniLMEmbeddings


def _faiss() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # langchain-community announces its sunset on import
        from langchain_community.vectorstores import FAISS
        from langchain_community.vectorstores.utils import DistanceStrategy
    return FAISS, DistanceStrategy


@dataclass(frozen=True)
class Hit:
    """One ranked source for a query."""

    doc: Document
    relevance: float
    score: float
    passage: str
    replaced: str | None = None  # id of the superseded document this hit stands in for

    def as_source(self) -> dict[str, Any]:
        """The packet's view of this source."""
        return {
            "id": self.doc.id, "title": self.doc.title, "kind": self.doc.kind,
            "authority": self.doc.authority, "audience": self.doc.audience,
            "updated_at": self.doc.updated_at, "relevance": round(self.relevance, 4),
            "score": round(self.score, 4), "passage": self.passage, "replaces": self.replaced,
        }


class KnowledgeBase:
    """FAISS-backed retrieval over a company's knowledge documents."""

    def __init__(self, data: CompanyData, embedder: MiniLMEmbeddings, index_dir: Path) -> None:
        """Bind to the data; call :meth:`load_or_build` before searching."""
        self.data = data
        self.embedder = embedder
        self.index_dir = index_dir
        self.weights: dict[str, float] = {k: float(v) for k, v in data.playbook["authority_weights"].items()}
        self.superseded_by: dict[str, str] = {
            old: doc.id for doc in data.documents.values() for old in doc.supersedes
        }
        self.store: Any = None

    def _passages(self) -> tuple[list[str], list[dict[str, Any]]]:
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        for doc in self.data.documents.values():
            if doc.kind == "macro":
                continue
            for number, paragraph in enumerate(doc.paragraphs):
                texts.append(f"{doc.title}. {paragraph}")
                metas.append({"doc_id": doc.id, "paragraph": number})
        return texts, metas

    def load_or_build(self, progress: Callable[[int, int], None] | None = None) -> bool:
        """Load the saved index, or rebuild it when the knowledge changed. Returns True if rebuilt."""
        faiss_cls, _ = _faiss()
        meta_file = self.index_dir / "faiss.json"
        expected = {"knowledge_hash": self.data.knowledge_hash(), "model": MODEL_ID}
        if meta_file.exists() and json.loads(meta_file.read_text()) == expected:
            self.store = faiss_cls.load_local(
                str(self.index_dir), self.embedder, index_name="faiss", allow_dangerous_deserialization=True
            )
            return False
        self.build(progress)
        self.store.save_local(str(self.index_dir), index_name="faiss")
        meta_file.write_text(json.dumps(expected))
        return True

    def build(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Embed every passage and create the in-memory FAISS index."""
        faiss_cls, strategy = _faiss()
        texts, metas = self._passages()
        vectors: list[np.ndarray] = []
        for start in range(0, len(texts), 64):
            vectors.append(self.embedder.embed_array(texts[start : start + 64]))
            if progress:
                progress(min(start + 64, len(texts)), len(texts))
        matrix = np.vstack(vectors)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.store = faiss_cls.from_embeddings(
            list(zip(texts, matrix.tolist(), strict=True)), self.embedder, metadatas=metas,
            distance_strategy=strategy.MAX_INNER_PRODUCT,
        )

    def search(self, vector: np.ndarray | list[float], k: int = 4, audience: str | None = None) -> tuple[list[Hit], list[dict[str, str]]]:
        """Rank documents for a query vector.

        Args:
            vector: Unit query vector (the ticket's embedding).
            k: Documents to return.
            audience: Keep only ``customer`` or ``internal`` documents when set.

        Returns:
            The hits, best first, and the conflicts found (superseded documents that matched).
        """
        raw = self.store.similarity_search_with_score_by_vector(list(map(float, vector)), k=max(24, k * 6))
        best: dict[str, tuple[float, str]] = {}
        for passage, sim in raw:
            doc_id = passage.metadata["doc_id"]
            text = passage.page_content.split(". ", 1)[-1]
            if doc_id not in best or sim > best[doc_id][0]:
                best[doc_id] = (float(sim), text)
        # Rank every matched document (superseded ones included) by relevance × authority;
        # a superseded document that would make the top k is a conflict and gives way to
        # its successor. Ones that would not are irrelevant and simply dropped.
        scored = sorted(best.items(), key=lambda kv: kv[1][0] * self._weight(kv[0]), reverse=True)
        conflicts: list[dict[str, str]] = []
        hits: dict[str, Hit] = {}
        for rank, (doc_id, (sim, text)) in enumerate(scored):
            replaced = None
            if doc_id in self.superseded_by:
                if rank >= k:
                    continue
                current, old = self._current(doc_id), self.data.documents[doc_id]
                conflicts.append({"superseded": doc_id, "current": current, "superseded_updated_at": old.updated_at,
                                  "reason": f"'{old.title}' is outdated; '{self.data.documents[current].title}' replaces it"})
                if current in best:
                    continue
                replaced, doc_id = doc_id, current
                text = self.data.documents[current].paragraphs[0]
            doc = self.data.documents[doc_id]
            if audience and doc.audience != audience:
                continue
            hit = Hit(doc, sim, sim * self._weight(doc_id), text, replaced)
            if doc_id not in hits or hit.score > hits[doc_id].score:
                hits[doc_id] = hit
        ranked = sorted(hits.values(), key=lambda h: h.score, reverse=True)
        return ranked[:k], conflicts

    def _weight(self, doc_id: str) -> float:
        return self.weights.get(self.data.documents[doc_id].authority, 0.5)

    def _current(self, doc_id: str) -> str:
        seen = {doc_id}
        while doc_id in self.superseded_by and self.superseded_by[doc_id] not in seen:
            doc_id = self.superseded_by[doc_id]
            seen.add(doc_id)
        return doc_id

    def best_sentences(self, doc: Document, vector: np.ndarray, limit: int = 2, exclude: set[str] | None = None) -> list[str]:
        """The sentences of ``doc`` closest to ``vector``, skipping ``exclude`` (used to ground a redraft)."""
        sentences = [s for p in doc.paragraphs for s in re.split(r"(?<=[.!?])\s+", p) if s.strip()]
        sentences = [s for s in sentences if s not in (exclude or set())]
        if not sentences:
            return []
        scores = self.embedder.embed_array(sentences) @ np.asarray(vector, dtype=np.float32)
        return [sentences[i] for i in np.argsort(-scores)[:limit]]
