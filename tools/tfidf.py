"""Fitted TF-IDF vectorizers applied to a few texts without scikit-learn's per-call overhead.

``TfidfVectorizer.transform`` validates, builds and sorts a sparse matrix per call: about a millisecond
for one ticket, most of what a prediction costs. :func:`transform` computes the same rows (sublinear tf,
idf, L2 norm per vectorizer, the vectorizers' columns side by side) from each vectorizer's own analyzer
and vocabulary. Used by the triage classifier and the sentiment model, which score one ticket at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import sparse

#: ``(analyzer, vocabulary, idf, column offset)`` of one fitted vectorizer.
Block = tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, int]


def blocks_of(vectorizers: Sequence[Any]) -> list[Block]:
    """The blocks of fitted ``TfidfVectorizer`` s (``sublinear_tf=True``, ``norm="l2"``), their columns in order."""
    out, offset = [], 0
    for v in vectorizers:
        if not (v.sublinear_tf and v.norm == "l2" and v.use_idf):
            raise ValueError("only sublinear, L2-normalised TF-IDF is supported")
        out.append((v.build_analyzer(), v.vocabulary_, v.idf_.astype(np.float64), offset))
        offset += len(v.vocabulary_)
    return out


def transform(blocks: Sequence[Block], inputs: Sequence[Sequence[str]], n_features: int,
              dtype: Any = np.float32) -> sparse.csr_matrix:
    """Rows for ``len(inputs[0])`` texts; ``inputs[b]`` are the texts block ``b`` reads (same length each)."""
    rows, cols, vals = [], [], []
    for (analyze, vocab, idf, offset), texts in zip(blocks, inputs, strict=True):
        for r, text in enumerate(texts):
            counts = Counter(j for g in analyze(text) if (j := vocab.get(g)) is not None)
            if counts:
                idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                v = (1.0 + np.log(tf)) * idf[idx]
                rows.append(np.full(len(idx), r))
                cols.append(idx + offset)
                vals.append(v / np.linalg.norm(v))
    n = len(inputs[0]) if inputs else 0
    if not vals:
        return sparse.csr_matrix((n, n_features), dtype=dtype)
    data = (np.concatenate(vals).astype(dtype), (np.concatenate(rows), np.concatenate(cols)))
    return sparse.csr_matrix(data, shape=(n, n_features))
