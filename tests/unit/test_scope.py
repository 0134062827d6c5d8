"""Unit tests for the out-of-scope floor of a corpus (``Corpus.scope_similarity``)."""

from __future__ import annotations

import numpy as np
import pytest

from tools import engine
from tools.engine import Corpus


def _corpus(rows: int, seed: int) -> Corpus:
    history = np.random.default_rng(seed).normal(size=(rows, 16)).astype(np.float32)
    corpus = Corpus.__new__(Corpus)  # only the labelled-ticket vectors matter here
    corpus.history_vectors = history / np.linalg.norm(history, axis=1, keepdims=True)
    return corpus


def _exact(history: np.ndarray) -> float:
    sims = history @ history.T
    np.fill_diagonal(sims, -1.0)
    return float(np.percentile(sims.max(axis=1), 1))


def test_the_floor_is_the_1st_percentile_of_nearest_neighbour_similarity() -> None:
    corpus = _corpus(1500, 1)
    assert corpus.scope_similarity == _exact(corpus.history_vectors)


def test_a_large_history_is_sampled_and_stays_close(monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _corpus(1500, 2)
    monkeypatch.setattr(engine, "SCOPE_SAMPLE", 500)
    sampled = corpus.scope_similarity
    assert sampled is not None and abs(sampled - _exact(corpus.history_vectors)) < 0.03


def test_no_floor_without_enough_history() -> None:
    assert _corpus(10, 3).scope_similarity is None
