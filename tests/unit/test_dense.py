"""Unit tests for tools.dense.DenseIndex: scores, save/load round trip, the file the langchain store wrote."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from tools.dense import DenseIndex


def _unit(rows: int, seed: int) -> np.ndarray:
    matrix = np.random.default_rng(seed).normal(size=(rows, 48)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_scores_are_every_passages_cosine_in_passage_order() -> None:
    matrix, query = _unit(500, 1), _unit(1, 2)[0]
    index = DenseIndex.build(matrix)
    assert len(index) == 500
    np.testing.assert_allclose(index.scores(query), matrix @ query, rtol=1e-5, atol=1e-6)


def test_save_and_load_give_the_same_results(tmp_path: Path) -> None:
    matrix, queries = _unit(2000, 3), _unit(20, 4)
    built = DenseIndex.build(matrix)
    built.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss")
    np.testing.assert_array_equal(loaded.matrix, matrix)
    for query in queries:
        np.testing.assert_array_equal(loaded.scores(query), built.scores(query))
        assert np.argsort(-loaded.scores(query))[:10].tolist() == np.argsort(-(matrix @ query))[:10].tolist()


def test_reads_the_index_file_of_the_langchain_store(tmp_path: Path) -> None:
    matrix = _unit(100, 5)
    old = faiss.IndexFlatIP(matrix.shape[1])  # what FAISS.save_local wrote as faiss.faiss
    old.add(matrix)
    faiss.write_index(old, str(tmp_path / "faiss.faiss"))
    np.testing.assert_array_equal(DenseIndex.load(tmp_path / "faiss.faiss").matrix, matrix)


def test_an_empty_index_scores_nothing() -> None:
    index = DenseIndex.build(np.zeros((0, 48), dtype=np.float32))
    assert len(index) == 0 and index.scores(_unit(1, 6)[0]).shape == (0,)


def test_refuses_an_index_that_is_not_flat_inner_product() -> None:
    with pytest.raises(TypeError, match="flat inner-product"):
        DenseIndex(faiss.IndexFlatL2(8))
