"""The passage vectors of a knowledge index: a raw FAISS ``IndexFlatIP`` and nothing around it.

Retrieval needs the cosine of the query with every passage (a document is as relevant as its
best passage, blended with BM25), so one query is one matrix-vector product over the stored
vectors — read in place from the FAISS index, without a top-k heap over all of them (a
``search`` with k = every passage took 16-23 ms at 10,000-100,000 passages, the product at one
BLAS thread 0.2-5 ms; ``benchmarks/flat_cost.py``). The file is FAISS's own (``write_index`` /
``read_index``), the same file the langchain-community store wrote as ``faiss.faiss``; the
passage texts live beside it in plain JSON (:mod:`tools.knowledge`), not in a pickled docstore.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController


def _faiss() -> Any:
    import faiss

    return faiss


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


class DenseIndex:
    """Unit vectors of passages; scores are inner products (cosines)."""

    def __init__(self, index: Any) -> None:
        """Wrap a FAISS flat inner-product index (use :meth:`build` or :meth:`load`)."""
        faiss = _faiss()
        if not isinstance(index, faiss.IndexFlat) or index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise TypeError(f"expected a flat inner-product FAISS index, got {type(index).__name__}")
        self.index = index
        n, dim = int(index.ntotal), int(index.d)
        #: The stored vectors: a view of the index's own memory (no copy) that keeps the index
        #: alive; nothing is added after construction, so the memory does not move.
        self.matrix: np.ndarray = np.asarray(_Storage(index, n, dim)) if n else np.zeros((0, dim), dtype=np.float32)

    @classmethod
    def build(cls, matrix: np.ndarray) -> DenseIndex:
        """An index of the rows of ``matrix`` (unit vectors, shape ``(n, dim)``)."""
        array = np.ascontiguousarray(matrix, dtype=np.float32)
        index = _faiss().IndexFlatIP(array.shape[1])
        if len(array):
            index.add(array)
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        """Read an index written by :meth:`save` (or by the langchain-community store's ``save_local``)."""
        return cls(_faiss().read_index(str(path)))

    def save(self, path: Path) -> None:
        """Write the index to ``path`` (FAISS format)."""
        _faiss().write_index(self.index, str(path))

    def __len__(self) -> int:
        """Number of passages."""
        return int(self.index.ntotal)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """The cosine of ``query`` (one unit vector) with every passage, in passage order."""
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        # One BLAS thread: the product is memory-bound, and with the cores busy (other requests,
        # the embedder) a second BLAS thread made it 2-30x slower (flat_cost.py: 100k passages
        # 11.6 → 5.0 ms p50 on a loaded 2-core machine; it gains ~40 % only on an idle one).
        with _blas_controller().limit(limits=1, user_api="blas"):
            out: np.ndarray = self.matrix @ vector
        return out


class _Storage:
    """The ``(n, dim)`` float32 vectors of a flat FAISS index as a numpy array interface (owns the index)."""

    def __init__(self, index: Any, n: int, dim: int) -> None:
        self.index = index  # the array's ``base`` is this object, so the index outlives every view
        address = _faiss().rev_swig_ptr(index.get_xb(), n * dim).__array_interface__["data"][0]
        self.__array_interface__ = {"shape": (n, dim), "typestr": "<f4", "data": (address, True), "version": 3}
