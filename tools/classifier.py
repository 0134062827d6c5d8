"""Offline text classifier on precomputed sentence embeddings plus TF-IDF features.

The caller embeds each text once (see ``tools.embeddings``) and passes the vectors in;
the classifier never embeds by itself. Features are word and character TF-IDF blocks
concatenated with a weighted embedding block; a linear model is calibrated by
cross-validation on the training data so that confidences can drive a
"low confidence -> human check" threshold.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

DEFAULTS: dict[str, Any] = {"emb_weight": 1.0, "C": 0.5, "cv": 5}


class TextClassifier:
    """Calibrated text classifier on sentence embeddings + TF-IDF features."""

    def __init__(self, *, seed: int = 0, **params: Any) -> None:
        """Create an unfitted classifier.

        Args:
            seed: Random seed; fitting is deterministic for a given seed.
            **params: Overrides of ``DEFAULTS``.
        """
        unknown = set(params) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown parameters: {sorted(unknown)}")
        self.seed = seed
        self.params = {**DEFAULTS, **params}
        self._word: TfidfVectorizer | None = None
        self._model: CalibratedClassifierCV | None = None

    def _features(self, texts: list[str], vectors: np.ndarray, fit: bool = False) -> sparse.csr_matrix:
        if fit:
            self._word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
            tfidf = self._word.fit_transform(texts)
        else:
            assert self._word is not None
            tfidf = self._word.transform(texts)
        emb = sparse.csr_matrix(np.asarray(vectors, dtype=np.float64) * self.params["emb_weight"])
        return sparse.hstack([tfidf, emb], format="csr")

    def fit(self, texts: list[str], labels: list[str], vectors: np.ndarray) -> TextClassifier:
        """Fit on texts, their labels and their precomputed embeddings."""
        _check(texts, vectors)
        counts = np.unique(np.asarray(labels), return_counts=True)[1]
        cv = int(max(2, min(self.params["cv"], counts.min())))
        base = LinearSVC(C=self.params["C"], random_state=self.seed)
        self._model = CalibratedClassifierCV(base, method="sigmoid", cv=cv)
        self._model.fit(self._features(texts, vectors, fit=True), np.asarray(labels))
        return self

    @property
    def classes_(self) -> list[str]:
        """Class labels in the column order of ``predict_proba``."""
        if self._model is None:
            raise RuntimeError("classifier is not fitted")
        return [str(c) for c in self._model.classes_]

    def predict_proba(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """Return calibrated class probabilities, shape ``(n, n_classes)``."""
        if self._model is None:
            raise RuntimeError("classifier is not fitted")
        _check(texts, vectors)
        proba = self._model.predict_proba(self._features(texts, vectors))
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, texts: list[str], vectors: np.ndarray) -> list[tuple[str, float]]:
        """Return ``(label, calibrated confidence)`` for each text."""
        proba = self.predict_proba(texts, vectors)
        classes = self.classes_
        best = proba.argmax(axis=1)
        return [(classes[i], float(proba[r, i])) for r, i in enumerate(best)]

    def save(self, path: Path) -> None:
        """Pickle the fitted classifier to ``path``."""
        Path(path).write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    @classmethod
    def load(cls, path: Path) -> TextClassifier:
        """Load a classifier saved with :meth:`save` (trusted files only)."""
        obj = pickle.loads(Path(path).read_bytes())  # noqa: S301
        if not isinstance(obj, cls):
            raise TypeError(f"{path} does not hold a {cls.__name__}")
        return obj


def _check(texts: list[str], vectors: np.ndarray) -> None:
    if np.ndim(vectors) != 2 or len(vectors) != len(texts):
        raise ValueError(f"vectors must have shape (len(texts), dim); got {np.shape(vectors)} for {len(texts)} texts")
