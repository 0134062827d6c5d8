"""Unit tests for tools.classifier.TextClassifier on a small synthetic 3-class problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.classifier import TextClassifier

DIM = 32
WORDS = {
    "billing": ["invoice", "refund", "charge", "payment", "bill", "price"],
    "login": ["password", "login", "account", "locked", "reset", "signin"],
    "shipping": ["delivery", "parcel", "courier", "tracking", "shipped", "package"],
}
FILLER = ["please", "help", "my", "the", "is", "not", "working", "today", "urgent", "hello"]
CENTRES = {label: np.random.default_rng(i).normal(size=DIM) for i, label in enumerate(WORDS)}


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def _make(n_per_class: int, seed: int) -> tuple[list[str], list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, labels, vectors = [], [], []
    for label, words in WORDS.items():
        for _ in range(n_per_class):
            tokens = list(rng.choice(words, size=2)) + list(rng.choice(FILLER, size=4))
            rng.shuffle(tokens)
            texts.append(" ".join(tokens))
            labels.append(label)
            vectors.append(CENTRES[label] + rng.normal(scale=0.8, size=DIM))
    return texts, labels, _unit(np.array(vectors))


@pytest.fixture(scope="module")
def data() -> tuple[list[str], list[str], np.ndarray]:
    return _make(20, seed=1)


@pytest.fixture(scope="module")
def fitted(data: tuple[list[str], list[str], np.ndarray]) -> TextClassifier:
    texts, labels, vectors = data
    return TextClassifier(seed=0).fit(texts, labels, vectors)


def test_learns_and_predicts_held_out(fitted: TextClassifier) -> None:
    texts, labels, vectors = _make(10, seed=99)
    predicted = [label for label, _ in fitted.predict(texts, vectors)]
    accuracy = np.mean(np.array(predicted) == np.array(labels))
    assert accuracy >= 0.9
    assert sorted(fitted.classes_) == sorted(WORDS)


def test_probabilities_are_a_distribution(fitted: TextClassifier) -> None:
    texts, _, vectors = _make(5, seed=7)
    proba = fitted.predict_proba(texts, vectors)
    assert proba.shape == (len(texts), 3)
    assert np.all(proba >= 0) and np.all(proba <= 1)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    for (label, conf), row in zip(fitted.predict(texts, vectors), proba, strict=True):
        assert 0.0 <= conf <= 1.0
        assert conf == pytest.approx(row.max())
        assert label == fitted.classes_[int(row.argmax())]


def test_confidence_higher_on_clear_than_ambiguous(fitted: TextClassifier) -> None:
    clear_texts = ["refund the invoice charge", "password reset account locked", "courier parcel tracking"]
    clear_vectors = _unit(np.array([CENTRES[k] for k in WORDS]))
    ambiguous_texts = ["refund password", "parcel login", "invoice tracking"]
    ambiguous_vectors = _unit(
        np.array(
            [
                CENTRES["billing"] + CENTRES["login"],
                CENTRES["shipping"] + CENTRES["login"],
                CENTRES["billing"] + CENTRES["shipping"],
            ]
        )
    )
    clear = [c for _, c in fitted.predict(clear_texts, clear_vectors)]
    ambiguous = [c for _, c in fitted.predict(ambiguous_texts, ambiguous_vectors)]
    assert [lab for lab, _ in fitted.predict(clear_texts, clear_vectors)] == list(WORDS)
    assert min(clear) > 0.9
    assert max(ambiguous) < min(clear)
    assert np.mean(ambiguous) < 0.8


def test_save_load_round_trip(fitted: TextClassifier, tmp_path: Path) -> None:
    texts, _, vectors = _make(5, seed=3)
    path = tmp_path / "clf.joblib"
    fitted.save(path)
    loaded = TextClassifier.load(path)
    assert loaded.classes_ == fitted.classes_
    np.testing.assert_array_equal(loaded.predict_proba(texts, vectors), fitted.predict_proba(texts, vectors))
    assert loaded.predict(texts, vectors) == fitted.predict(texts, vectors)


def test_deterministic_with_same_seed(data: tuple[list[str], list[str], np.ndarray]) -> None:
    texts, labels, vectors = data
    probe_texts, _, probe_vectors = _make(5, seed=11)
    a = TextClassifier(seed=5).fit(texts, labels, vectors).predict_proba(probe_texts, probe_vectors)
    b = TextClassifier(seed=5).fit(texts, labels, vectors).predict_proba(probe_texts, probe_vectors)
    np.testing.assert_array_equal(a, b)


def test_rejects_mismatched_vectors(fitted: TextClassifier) -> None:
    with pytest.raises(ValueError, match="shape"):
        fitted.predict_proba(["one", "two"], np.zeros((3, DIM), dtype=np.float32))


def test_unfitted_raises() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        TextClassifier().predict_proba(["x"], np.zeros((1, DIM), dtype=np.float32))


def test_fast_tfidf_matches_sklearn_transform(fitted: TextClassifier) -> None:
    from scipy import sparse

    scorers = fitted._scorers
    assert scorers is not None
    texts = ["Refund my invoice, please!", "zzz unseen words only", "", "parcel parcel parcel tracking"]
    expected = sparse.hstack([scorers.word.transform(texts), scorers.char.transform(texts)], format="csr")
    np.testing.assert_allclose(scorers.tfidf(texts).toarray(), expected.toarray(), atol=1e-6)


def test_rejects_singleton_class(data: tuple[list[str], list[str], np.ndarray]) -> None:
    texts, labels, vectors = data
    with pytest.raises(ValueError, match="two examples"):
        TextClassifier().fit(texts + ["odd one"], labels + ["other"], np.vstack([vectors, vectors[:1]]))


def test_benchmark_csv_validation_names_file_and_line(tmp_path: Path) -> None:
    from evals.triage_bench import read_labelled_csv

    good = tmp_path / "good.csv"
    good.write_text('text,category\n"hello, world",greet\nbye,leave\n', encoding="utf-8")
    assert read_labelled_csv(good) == (["hello, world", "bye"], ["greet", "leave"])
    missing = tmp_path / "missing.csv"
    missing.write_text("text,intent\nhello,greet\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing\.csv, line 1: missing column 'label'"):
        read_labelled_csv(missing)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("text,label\nhello,greet\nbye,leave,extra\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"ragged\.csv, line 3: expected 2 fields, got 3"):
        read_labelled_csv(ragged)


UNBOUNDED = {"word_features": None, "char_features": None, "cv_texts": 10**9, "knn_vectors": 10**9}


def test_bounds_do_not_change_a_small_set(data: tuple[list[str], list[str], np.ndarray]) -> None:
    texts, labels, vectors = data
    probe_texts, _, probe_vectors = _make(5, seed=13)
    bounded = TextClassifier(seed=0).fit(texts, labels, vectors)
    unbounded = TextClassifier(seed=0, **UNBOUNDED).fit(texts, labels, vectors)
    np.testing.assert_array_equal(bounded.predict_proba(probe_texts, probe_vectors),
                                  unbounded.predict_proba(probe_texts, probe_vectors))
    assert bounded.cv_report == unbounded.cv_report


def test_a_large_set_keeps_the_model_bounded_and_accurate() -> None:
    texts, labels, vectors = _make(700, seed=21)  # 2,100 texts
    limits = {"word_features": 40, "char_features": 300, "cv_texts": 600, "knn_vectors": 240}
    model = TextClassifier(seed=0, n_jobs=1, **limits).fit(texts, labels, vectors)
    scorers = model._scorers
    assert scorers is not None
    assert scorers.n_features <= 40 + 300
    assert scorers.svm_wt.shape == (scorers.n_features, 3)
    assert len(scorers.train) <= 240 + 1  # kNN bank: 80 per class and the padding row
    assert (scorers.index < len(scorers.train) - 1).sum(axis=1).tolist() == [80, 80, 80]
    assert 600 <= model.cv_report["cv_texts"] <= 603  # the fusion was chosen on a stratified sample
    probe_texts, probe_labels, probe_vectors = _make(30, seed=22)
    predicted = [label for label, _ in model.predict(probe_texts, probe_vectors)]
    assert np.mean(np.array(predicted) == np.array(probe_labels)) >= 0.9


def test_the_kept_knn_neighbours_are_real_members_of_their_class() -> None:
    texts, labels, vectors = _make(100, seed=23)
    model = TextClassifier(seed=0, knn_vectors=60).fit(texts, labels, vectors)
    scorers = model._scorers
    assert scorers is not None
    for c, label in enumerate(model.classes_):
        rows = scorers.index[c][scorers.index[c] < len(scorers.train) - 1]
        assert len(rows) == 20
        members = vectors[[i for i, lab in enumerate(labels) if lab == label]]
        # each kept vector is one of the class's training vectors (float32 copy, exact)
        assert all(np.any(np.all(members == scorers.train[r], axis=1)) for r in rows)


def test_the_final_fit_in_a_worker_process_gives_the_same_model() -> None:
    texts, labels, vectors = _make(700, seed=24)
    limits = {"cv_texts": 300, "cv": 3}
    probe_texts, _, probe_vectors = _make(5, seed=25)
    alone = TextClassifier(seed=0, n_jobs=1, **limits).fit(texts, labels, vectors)
    pooled = TextClassifier(seed=0, n_jobs=2, **limits).fit(texts, labels, vectors)
    np.testing.assert_allclose(pooled.predict_proba(probe_texts, probe_vectors),
                               alone.predict_proba(probe_texts, probe_vectors), rtol=1e-6, atol=1e-9)
