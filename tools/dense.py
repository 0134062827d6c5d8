"""The passage vectors of a knowledge index: a raw FAISS ``IndexFlatIP``, plus 8-bit codes above 50,000 passages.

Retrieval ranks documents by their best passage's cosine blended with BM25, so up to
:data:`EXACT_UP_TO` passages one query is one exact matrix-vector product over the stored
vectors — read in place from the FAISS index, without a top-k heap over all of them (a
``search`` with k = every passage took 16-23 ms at 10,000-100,000 passages;
``benchmarks/flat_cost.py``).

At 100,000 passages that product reads 154 MB per query and is memory-bound: 5.5 ms p50 on a
quiet 2-core machine, 6-9 ms with the cores shared — over the 5 ms goal. So above
:data:`EXACT_UP_TO` the index also keeps the vectors as 8-bit integer codes (384 bytes a
passage, +25 % memory) in a FAISS ``IndexScalarQuantizer``: a query scans the codes (38 MB at
100,000) for its :data:`CANDIDATES` best passages and re-scores those exactly from the float32
vectors, which therefore stay. Every other passage gets an upper bound of its cosine instead
of the cosine (:func:`_bound`); :mod:`tools.knowledge` scores exactly the passages of any
document that could still reach its first 50 with that bound, so its ranking there is the exact
scan's (scoring every passage would be the full scan again).

The file is FAISS's own (``write_index`` / ``read_index``), the same file the langchain-community
store wrote as ``faiss.faiss``; the passage texts live beside it in plain JSON
(:mod:`tools.knowledge`), not in a pickled docstore. The codes are not saved: they are derived
from the vectors when an index is built or loaded (0.1 s at 100,000 passages), so an index file
written before them loads unchanged, and the file format did not change.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from threadpoolctl import ThreadpoolController

#: Up to this many passages every query is the exact scan, so the ranking of small and normal
#: knowledge bases does not change at all. With the cores shared the exact scan took ~4 ms p50 at
#: 50,000 passages (5.6 ms at 75,000, 9 ms at 100,000; 8-bit path 2.2 / 3.1 / 3.8 ms in the same
#: run): it meets the 5 ms goal up to here with some room, and the 8-bit path's fixed cost (heap,
#: re-score, bound; ~0.5 ms) only pays off well above 25,000.
EXACT_UP_TO = 50_000
#: Above it: how many passages the 8-bit scan hands to the exact re-score. The exact top 50 were
#: within the 8-bit scan's first 100 on random and on clustered vectors at 100,000 passages, the
#: exact top 10 within its first 24 on doc2dial's real MiniLM vectors; each further 250 candidates
#: cost ~0.25 ms (the heap and the random-access re-score).
CANDIDATES = 250
_CODE_CHUNK = 1_024  # rows encoded at a time (1.5 MB float temporaries)


def _faiss() -> Any:
    import faiss

    return faiss


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


class DenseScores(NamedTuple):
    """One query's scores: every passage's, in passage order, and how exact they are."""

    scores: np.ndarray  #: float32, one per passage
    exact_rows: np.ndarray | None  #: sorted rows whose score is the exact cosine (None: every row)
    bound: float  #: every other row's score, at least its cosine (inf when all rows are exact)


class DenseIndex:
    """Unit vectors of passages; scores are inner products (cosines).

    Up to ``exact_up_to`` passages :meth:`scores` is every passage's exact cosine. Above it,
    the ``candidates`` passages nearest the query by an 8-bit scan get their exact cosine and
    every other passage an upper bound of its cosine. ``benchmarks/flat_cost.py`` (384-d random
    unit vectors, 2 shared cores, medians of 5 runs, exact scan vs this in the same runs):

    - dense query p50: 10,000 passages ~0.35 ms either way (the exact scan); 100,000 passages
      8.3 → 2.3 ms (across the runs the exact scan's p50 varied 6.8-8.6 ms, this one's 1.5-2.7);
    - recall of the exact top 10 and top 50 at 100,000 passages: 1.000 on the random vectors
      (the hard case for codes: a query's top 50 lie within ~0.03 of each other) and on
      clustered ones; no passage's cosine above the bound it was given (closest: 0.002 below);
    - cost at 100,000 passages: +38 MB for the codes (146 → 184 MB; the float32 vectors stay for
      the re-score), build 0.09 → 0.19 s, load 0.09 → 0.20 s (the codes are derived, not read).
    """

    def __init__(self, index: Any, *, exact_up_to: int = EXACT_UP_TO, candidates: int = CANDIDATES) -> None:
        """Wrap a FAISS flat inner-product index (use :meth:`build` or :meth:`load`).

        Args:
            index: A ``faiss.IndexFlatIP`` (or any flat index with the inner-product metric).
            exact_up_to: Up to this many passages every query is the exact scan.
            candidates: Above it, passages the 8-bit scan hands to the exact re-score.
        """
        faiss = _faiss()
        if not isinstance(index, faiss.IndexFlat) or index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise TypeError(f"expected a flat inner-product FAISS index, got {type(index).__name__}")
        if candidates < 1:
            raise ValueError("candidates must be at least 1")
        self.index = index
        n, dim = int(index.ntotal), int(index.d)
        #: The stored vectors: a view of the index's own memory (no copy) that keeps the index
        #: alive; nothing is added after construction, so the memory does not move.
        self.matrix: np.ndarray = np.asarray(_Storage(index, n, dim)) if n else np.zeros((0, dim), dtype=np.float32)
        self.candidates = candidates
        #: The 8-bit codes (None up to ``exact_up_to`` passages: the exact scan).
        self.codes: _Int8Codes | None = _Int8Codes(self.matrix) if n > exact_up_to else None

    @classmethod
    def build(cls, matrix: np.ndarray, *, exact_up_to: int = EXACT_UP_TO, candidates: int = CANDIDATES) -> DenseIndex:
        """An index of the rows of ``matrix`` (unit vectors, shape ``(n, dim)``)."""
        array = np.ascontiguousarray(matrix, dtype=np.float32)
        index = _faiss().IndexFlatIP(array.shape[1])
        if len(array):
            index.add(array)
        return cls(index, exact_up_to=exact_up_to, candidates=candidates)

    @classmethod
    def load(cls, path: Path, *, exact_up_to: int = EXACT_UP_TO, candidates: int = CANDIDATES) -> DenseIndex:
        """Read an index written by :meth:`save` (or by the langchain-community store's ``save_local``)."""
        return cls(_faiss().read_index(str(path)), exact_up_to=exact_up_to, candidates=candidates)

    def save(self, path: Path) -> None:
        """Write the index to ``path`` (FAISS format; the float32 vectors only, the codes are derived)."""
        _faiss().write_index(self.index, str(path))

    def __len__(self) -> int:
        """Number of passages."""
        return int(self.index.ntotal)

    @property
    def exact(self) -> bool:
        """True when every score is exact (no 8-bit codes: up to ``exact_up_to`` passages)."""
        return self.codes is None

    def scores(self, query: np.ndarray) -> np.ndarray:
        """The cosine of ``query`` (one unit vector) with every passage, in passage order.

        Above ``exact_up_to`` passages only the ``candidates`` best are exact; every other
        passage gets an upper bound of its cosine (see :meth:`search`).
        """
        return self.search(query).scores

    def search(self, query: np.ndarray) -> DenseScores:
        """:meth:`scores`, with which of them are exact and the bound the others got."""
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        if self.codes is None:
            # One BLAS thread: the product is memory-bound, and with the cores busy (other requests,
            # the embedder) a second BLAS thread made it 2-30x slower (flat_cost.py: 100k passages
            # 11.6 → 5.0 ms p50 on a loaded 2-core machine; it gains ~40 % only on an idle one).
            with _blas_controller().limit(limits=1, user_api="blas"):
                return DenseScores(self.matrix @ vector, None, float("inf"))
        # One thread for FAISS's OpenMP too: it splits even a single query's scan across threads,
        # which on the loaded 2-core machine took 8-14 ms instead of 1.9 ms (100k passages).
        with _blas_controller().limit(limits=1):
            rows, approx = self.codes.top(vector, min(self.candidates, len(self)))
            order = np.argsort(rows)
            rows, approx = rows[order], approx[order]
            exact = self.matrix[rows] @ vector
        bound = _bound(exact, approx)
        out = np.full(len(self), bound, dtype=np.float32)
        out[rows] = exact
        return DenseScores(out, rows, float(np.float32(bound)))

    def exact_scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The exact cosine of ``query`` with the passages at ``rows``, in that order."""
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        with _blas_controller().limit(limits=1, user_api="blas"):
            out: np.ndarray = self.matrix[rows] @ vector
        return out


class _Int8Codes:
    """Passage vectors as signed 8-bit integers, one scale per dimension, scanned by FAISS for the top rows.

    Component ``j`` of a passage is stored as ``round(x_j · s_j)`` with ``s_j = 127 / max |x_j|``
    over the passages, and the query as ``round(λ · q_j / s_j)`` (``λ`` fits it into ±127):
    their integer inner product is ``λ`` times the cosine up to the rounding, so it ranks the
    passages as the cosine does. The query is rounded to integers on purpose: FAISS's SIMD
    kernel for ``QT_8bit_direct_signed`` truncates the query to integers (FAISS 1.15, 32+
    dimensions; its plain kernel does not), and with integer queries both compute the same
    exact integer sums (at 384 dimensions at most 384 · 127² < 2²⁴: exact in float32 too).
    """

    def __init__(self, matrix: np.ndarray) -> None:
        faiss = _faiss()
        n, dim = matrix.shape
        peak = np.maximum(matrix.max(axis=0), -matrix.min(axis=0))  # per dimension, without an |matrix| copy
        self.scale = (127.0 / np.where(peak > 0, peak, 127.0)).astype(np.float32)
        self.index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit_direct_signed, faiss.METRIC_INNER_PRODUCT)
        codes = np.empty((n, dim), dtype=np.uint8)
        for start in range(0, n, _CODE_CHUNK):  # small float blocks: no float copy of the whole matrix
            block = matrix[start : start + _CODE_CHUNK] * self.scale
            np.rint(block, out=block)
            block += 128  # the stored byte is the signed value + 128
            codes[start : start + _CODE_CHUNK] = block
        self.index.add_sa_codes(codes)

    def top(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the ``k`` passages with the highest 8-bit inner product with ``query``, and that product as a cosine."""
        weights = query / self.scale
        peak = float(np.abs(weights).max())
        factor = 127.0 / peak if peak > 0 else 1.0
        weights *= factor
        products, rows = self.index.search(np.rint(weights).astype(np.float32)[None, :], k)
        found = rows[0] >= 0
        return rows[0][found], products[0][found] / np.float32(factor)


def _bound(exact: np.ndarray, approx: np.ndarray) -> float:
    """An upper bound of the cosine of every passage that is not a candidate.

    Such a passage's 8-bit score is at most the lowest candidate's; its cosine differs from
    that score by the rounding error, whose spread this query's candidates show (exact minus
    8-bit): six standard deviations above its mean. Measured at 100,000 passages (random
    vectors with two kinds of query, clustered vectors; 300 queries each, 250 candidates) and
    on doc2dial's real vectors: no passage above its bound (closest 0.0011 below); the bound
    sits ~0.005 above the lowest candidate's cosine.
    """
    if not len(exact):
        return -1.0
    error = exact.astype(np.float64) - approx
    return float(approx.min() + error.mean() + 6 * error.std())


class _Storage:
    """The ``(n, dim)`` float32 vectors of a flat FAISS index as a numpy array interface (owns the index)."""

    def __init__(self, index: Any, n: int, dim: int) -> None:
        self.index = index  # the array's ``base`` is this object, so the index outlives every view
        address = _faiss().rev_swig_ptr(index.get_xb(), n * dim).__array_interface__["data"][0]
        self.__array_interface__ = {"shape": (n, dim), "typestr": "<f4", "data": (address, True), "version": 3}
