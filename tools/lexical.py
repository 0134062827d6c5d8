r"""Lexical retrieval: BM25 (bm25s, scores on a sparse matrix) with English stop words and stemming.

Tokens are lower-cased ``\w+`` runs without scikit-learn's English stop-word list (the
list the doc2dial baselines use), stemmed with the Snowball English stemmer when
PyStemmer is installed. Queries are whole tickets: every distinct term counts once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

_WORD = re.compile(r"\w\w+")


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """scikit-learn's English stop words (318 words)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    try:
        import Stemmer
    except ImportError:  # pragma: no cover - optional
        return None
    return Stemmer.Stemmer("english")


def tokens(text: str, stem: bool = True) -> list[str]:
    """Lexical tokens of ``text``: lower-case words, stop words removed, stemmed."""
    stops = stop_words()
    words = [w for w in _WORD.findall(text.lower()) if w not in stops]
    stemmer = _stemmer() if stem else None
    return list(stemmer.stemWords(words)) if stemmer is not None and words else words


class Lexical:
    """A BM25 index over a list of texts (rows keep the order they were given in)."""

    def __init__(self, retriever: Any, stem: bool = True) -> None:
        """Wrap a built or loaded ``bm25s.BM25``; use :meth:`build` or :meth:`load`."""
        self.retriever = retriever
        self.stem = stem
        self.vocab: dict[str, int] = dict(retriever.vocab_dict)

    @classmethod
    def build(cls, texts: Iterable[str], stem: bool = True, k1: float = 1.2, b: float = 0.75) -> Lexical:
        """Index ``texts`` (streamed: one token list per text)."""
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b)
        corpus = [tokens(t, stem) or [""] for t in texts]
        retriever.index(corpus, show_progress=False)
        return cls(retriever, stem)

    def save(self, folder: Path) -> None:
        """Write the sparse matrix and vocabulary to ``folder``."""
        self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, stem: bool = True) -> Lexical:
        """Read an index written by :meth:`save`."""
        import bm25s

        return cls(bm25s.BM25.load(str(folder), show_progress=False), stem)

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every indexed text for the query ``text`` (zeros when no term matches)."""
        # Each distinct term once: in a long ticket, chatter repeated ten times must not outweigh the one
        # sentence that asks the question.
        ids = [self.vocab[t] for t in dict.fromkeys(tokens(text, self.stem)) if t in self.vocab]
        if not ids:
            return np.zeros(self.retriever.scores["num_docs"], dtype=np.float32)
        return np.asarray(self.retriever.get_scores_from_ids(ids), dtype=np.float32)
