"""Unit tests for tools.dense.DenseIndex: scores, save/load round trip, the file the langchain store wrote.

Above its exact size the index scans 8-bit codes for candidates and re-scores them exactly; the
tests use a small ``exact_up_to`` so that path runs on a few thousand vectors.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from tools.dense import DenseIndex


def _unit(rows: int, seed: int) -> np.ndarray:
    matrix = np.random.default_rng(seed).normal(size=(rows, 48)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _clustered(rows: int, queries: int, seed: int, dim: int = 96, topics: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around ``topics`` centres (cosine ~0.6 to the centre), and queries drawn the same way."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = []
    for count in (rows, queries):
        vectors = (centres[rng.integers(0, topics, count)] + rng.normal(scale=1.2 / np.sqrt(dim), size=(count, dim))).astype(np.float32)
        out.append(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    return out[0], out[1]


def test_scores_are_every_passages_cosine_in_passage_order() -> None:
    matrix, query = _unit(500, 1), _unit(1, 2)[0]
    index = DenseIndex.build(matrix)
    assert len(index) == 500
    np.testing.assert_allclose(index.scores(query), matrix @ query, rtol=1e-5, atol=1e-6)


def test_up_to_the_threshold_every_score_is_exact_and_the_ranking_unchanged() -> None:
    matrix, queries = _clustered(3000, 10, seed=1)
    index = DenseIndex.build(matrix, exact_up_to=3000, candidates=10)  # at the threshold: still the exact scan
    assert index.exact and index.codes is None
    for query in queries:
        found = index.search(query)
        assert found.exact_rows is None
        np.testing.assert_array_equal(found.scores, matrix @ query)  # the same product as before, bit for bit
        assert np.argsort(-found.scores, kind="stable").tolist() == np.argsort(-(matrix @ query), kind="stable").tolist()


def test_above_the_threshold_the_top_matches_the_exact_scan_and_candidates_score_exactly() -> None:
    matrix, queries = _clustered(4000, 30, seed=2)
    index = DenseIndex.build(matrix, exact_up_to=1000, candidates=100)
    assert not index.exact and len(index) == 4000
    for query in queries:
        exact = matrix @ query
        found = index.search(query)
        assert found.exact_rows is not None and len(found.exact_rows) == 100
        np.testing.assert_allclose(found.scores[found.exact_rows], exact[found.exact_rows], rtol=0, atol=1e-6)
        top = np.argsort(-found.scores, kind="stable")[:20]
        assert set(top.tolist()) <= set(found.exact_rows.tolist())
        assert top[:10].tolist() == np.argsort(-exact, kind="stable")[:10].tolist()
        np.testing.assert_array_less(exact[top][1:] - 1e-6, exact[top][:-1])  # best first, by the exact cosine
        others = np.setdiff1d(np.arange(len(matrix)), found.exact_rows)
        assert np.all(found.scores[others] == np.float32(found.bound))
        assert np.all(exact[others] <= found.bound)  # the bound really bounds the passages it stands for
    np.testing.assert_allclose(index.exact_scores(queries[0], np.array([7, 3, 3999])), matrix[[7, 3, 3999]] @ queries[0], atol=1e-6)


def test_above_the_threshold_random_vectors_keep_their_top_ten() -> None:
    matrix, queries = _unit(5000, 7), _unit(20, 8)  # random vectors: the closest calls for 8-bit codes
    index = DenseIndex.build(matrix, exact_up_to=1000, candidates=200)
    for query in queries:
        assert np.argsort(-index.scores(query))[:10].tolist() == np.argsort(-(matrix @ query))[:10].tolist()


def test_an_approximate_index_saves_and_loads_the_same(tmp_path: Path) -> None:
    matrix, queries = _clustered(3000, 10, seed=3)
    built = DenseIndex.build(matrix, exact_up_to=1000, candidates=50)
    built.save(tmp_path / "dense.faiss")
    assert [p.name for p in tmp_path.iterdir()] == ["dense.faiss"]  # the codes are derived, not saved
    loaded = DenseIndex.load(tmp_path / "dense.faiss", exact_up_to=1000, candidates=50)
    assert not loaded.exact
    np.testing.assert_array_equal(loaded.matrix, matrix)
    for query in queries:
        a, b = built.search(query), loaded.search(query)
        np.testing.assert_array_equal(a.scores, b.scores)
        assert a.exact_rows is not None and b.exact_rows is not None
        np.testing.assert_array_equal(a.exact_rows, b.exact_rows)


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


def test_a_flat_index_file_written_before_the_8bit_scan_loads_above_the_threshold(tmp_path: Path) -> None:
    matrix, queries = _clustered(3000, 10, seed=4)
    old = faiss.IndexFlatIP(matrix.shape[1])  # what DenseIndex.save wrote before (and still writes)
    old.add(matrix)
    faiss.write_index(old, str(tmp_path / "faiss.faiss"))
    loaded = DenseIndex.load(tmp_path / "faiss.faiss", exact_up_to=1000, candidates=100)
    assert not loaded.exact
    for query in queries:
        assert np.argsort(-loaded.scores(query))[:10].tolist() == np.argsort(-(matrix @ query))[:10].tolist()


def test_an_empty_index_scores_nothing() -> None:
    index = DenseIndex.build(np.zeros((0, 48), dtype=np.float32))
    assert len(index) == 0 and index.scores(_unit(1, 6)[0]).shape == (0,)


def test_more_candidates_than_passages_scores_them_all_exactly() -> None:
    matrix, query = _unit(30, 9), _unit(1, 10)[0]
    found = DenseIndex.build(matrix, exact_up_to=10, candidates=100).search(query)
    assert found.exact_rows is not None and found.exact_rows.tolist() == list(range(30))
    np.testing.assert_allclose(found.scores, matrix @ query, atol=1e-6)


def test_refuses_an_index_that_is_not_flat_inner_product() -> None:
    with pytest.raises(TypeError, match="flat inner-product"):
        DenseIndex(faiss.IndexFlatL2(8))
