"""Offline text classifier on precomputed sentence embeddings plus TF-IDF features.

The caller embeds each text once (see ``tools.embeddings``) and passes the vectors in;
the classifier never embeds by itself. Three linear-time scorers are fused late:

* ``tfidf``: a linear SVM on word 1-2 gram and character 2-5 gram TF-IDF (sublinear tf);
* ``lr``: a multinomial logistic regression on the embeddings;
* ``knn``: per class, the mean cosine similarity of the ``k`` nearest training embeddings.

Each scorer's out-of-fold scores on the training data (stratified K-fold) pick the fusion
weights (best out-of-fold accuracy, ties broken by log-loss) and a softmax temperature
(minimum out-of-fold log-loss), so confidences are calibrated and can drive a
"low confidence -> human check" threshold. Nothing is tuned outside the training data;
the defaults below were picked by 5-fold cross-validation on the banking77 training split.

Cost stays flat as the labelled set grows (``benchmarks/flat_cost.py``): the TF-IDF
vocabularies are capped, the out-of-fold scores come from a stratified sample of at most
``cv_texts`` texts, the kNN scorer keeps at most ``knn_vectors`` training vectors, and the
final fit runs alongside the folds with one BLAS thread per process. Below those sizes
(banking77's 10,003 texts included) the model is the one an unbounded fit gives.
"""

from __future__ import annotations

import itertools
import pickle
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed, parallel_config
from scipy import sparse
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC
from threadpoolctl import ThreadpoolController

from tools import tfidf as fast_tfidf

DEFAULTS: dict[str, Any] = {
    "svm_C": 1.0,  # LinearSVC on the TF-IDF blocks
    "lr_C": 20.0,  # logistic regression on the embeddings
    "knn_k": 3,  # neighbours averaged per class
    "cv": 5,  # folds for the out-of-fold scores
    "weights": None,  # fixed (lr, knn) weights relative to tfidf = 1; None = chosen by CV
    "weight_grid": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0),
    "n_jobs": 2,  # processes for the folds and the final fit when there are at least 2,000 texts
    # Bounds that keep training and one prediction flat as the labelled set grows; none of them
    # binds on banking77's 10,003 training texts (23,608 word and 20,340 character n-grams, at most
    # 187 texts per class). See benchmarks/flat_cost.py for what they buy at 50,000 texts.
    "word_features": 50_000,  # most word 1-2 grams kept (the most frequent)
    "char_features": 100_000,  # most character 2-5 grams kept
    "cv_texts": 12_000,  # out-of-fold scores on a stratified sample of at most this many texts
    "knn_vectors": 16_384,  # training vectors the kNN scorer keeps in all (a per-class cap)
}
SCORERS = ("tfidf", "lr", "knn")


class _Scorers:
    """The three base scorers fitted on one training set; ``scores`` returns ``(n, C, 3)``."""

    def __init__(self, texts: list[str], y: np.ndarray, x: np.ndarray, n: int, p: dict[str, Any], seed: int):
        self.word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32,
                                    max_features=p["word_features"])
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, dtype=np.float32,
                                    max_features=p["char_features"])
        tfidf = sparse.hstack([self.word.fit_transform(texts), self.char.fit_transform(texts)], format="csr")
        svm = LinearSVC(C=p["svm_C"], random_state=seed).fit(tfidf, y)
        lr = LogisticRegression(C=p["lr_C"], max_iter=3000).fit(x, y)
        svm_w, self.svm_b = _full(svm.coef_, svm.intercept_, svm.classes_, n)
        self.svm_wt = np.ascontiguousarray(svm_w.T, dtype=np.float32)  # (features, C): fast row products
        self.blocks = fast_tfidf.blocks_of([self.word, self.char])
        self.n_features = tfidf.shape[1]
        self.lr_w, self.lr_b = _full(lr.coef_, lr.intercept_, lr.classes_, n)
        # Training vectors grouped by class, padded with a row of -inf similarity (the last row).
        # A class larger than its share of ``knn_vectors`` keeps a seeded random sample of its
        # members, so one prediction costs the same at 5,000 or 500,000 labelled tickets.
        cap = max(p["knn_k"], p["knn_vectors"] // n)
        rng = np.random.default_rng(seed)
        members = [m if len(m) <= cap else np.sort(rng.choice(m, cap, replace=False))
                   for m in (np.flatnonzero(y == c) for c in range(n))]
        kept = np.sort(np.concatenate(members))  # all rows, in order, when no class is capped
        position = np.zeros(len(y), dtype=np.int64)
        position[kept] = np.arange(len(kept))
        self.train = np.vstack([x[kept], np.zeros((1, x.shape[1]))]).astype(np.float32)
        self.index = np.full((n, max(len(m) for m in members)), len(kept))
        for c, m in enumerate(members):
            self.index[c, : len(m)] = position[m]
        self.k = np.array([max(1, min(p["knn_k"], len(m))) for m in members])

    def tfidf(self, texts: list[str]) -> sparse.csr_matrix:
        """The fitted vectorizers' ``transform``, hstacked, without their per-call overhead."""
        return fast_tfidf.transform(self.blocks, [texts] * len(self.blocks), self.n_features)

    def scores(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        s_svm = self.tfidf(texts) @ self.svm_wt + self.svm_b
        s_lr = vectors @ self.lr_w.T + self.lr_b
        kmax, mask = self.k.max(), np.arange(self.k.max()) < self.k[:, None]
        s_knn = np.empty_like(s_lr)
        for start in range(0, len(texts), 256):  # bounded memory: (256, C, largest class)
            sim = vectors[start : start + 256] @ self.train.T
            sim[:, -1] = -np.inf
            top = -np.partition(-sim[:, self.index], kmax - 1, axis=2)[:, :, :kmax]
            top = np.sort(top, axis=2)[:, :, ::-1]  # the kmax largest, descending
            s_knn[start : start + 256] = np.where(mask, top, 0.0).sum(axis=2) / self.k
        return np.stack([s_svm, s_lr, s_knn], axis=2).astype(np.float64)


def _held_out(texts: list[str], y: np.ndarray, x: np.ndarray, fold: Any, n: int, p: Any, seed: int) -> Any:
    """Fit the scorers on the fold's training rows and score its held-out rows."""
    train, held = fold
    return _Scorers([texts[i] for i in train], y[train], x[train], n, p, seed).scores([texts[i] for i in held], x[held])


def _stratified_sample(y: np.ndarray, limit: int, floor: int, seed: int) -> np.ndarray:
    """Row numbers of at most about ``limit`` rows, every class in proportion (at least ``floor``); all rows up to ``limit``."""
    if len(y) <= limit:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    picked = []
    for c in range(int(y.max()) + 1):
        members = np.flatnonzero(y == c)
        take = min(len(members), max(floor, round(len(members) * limit / len(y))))
        picked.append(rng.choice(members, take, replace=False))
    return np.sort(np.concatenate(picked))


def _full(coef: np.ndarray, intercept: np.ndarray, seen: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Expand one-vs-rest weights to all ``n`` classes (binary problems give one row)."""
    if coef.shape[0] == 1 and len(seen) == 2:
        coef, intercept = np.vstack([-coef, coef]) / 2, np.array([-intercept[0], intercept[0]]) / 2
    w, b = np.zeros((n, coef.shape[1])), np.full(n, -1e3)
    w[seen], b[seen] = coef, intercept
    return w, b


def _nll(logits: np.ndarray, y: np.ndarray) -> float:
    """Log-loss against Platt-smoothed targets: the true class gets ``(n + 1) / (n + 2)``.

    The smoothing keeps a perfectly separated training set from driving the temperature to
    zero (confidence 1.0 everywhere).
    """
    logp = log_softmax(logits, axis=1)
    eps = 1.0 / (len(y) + 2)
    true = logp[np.arange(len(y)), y].mean()
    return float(-(1 - eps) * true - eps * logp.mean())


def _temper(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Return ``(log-loss, temperature)`` of the temperature minimising the log-loss."""
    fit = minimize_scalar(lambda t: _nll(logits / np.exp(t), y), bounds=(-6.0, 6.0), method="bounded")
    return float(fit.fun), float(np.exp(fit.x))


class TextClassifier:
    """Calibrated text classifier on sentence embeddings + TF-IDF features."""

    def __init__(self, *, seed: int = 0, **params: Any) -> None:
        """Create an unfitted classifier.

        Args:
            seed: Random seed; fitting is deterministic for a given seed.
            **params: Overrides of ``DEFAULTS`` (``svm_C``, ``lr_C``, ``knn_k``, ``cv``,
                ``weights``, ``weight_grid``).
        """
        unknown = set(params) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown parameters: {sorted(unknown)}")
        self.seed = seed
        self.params: dict[str, Any] = {**DEFAULTS, **params}
        self.cv_report: dict[str, Any] = {}
        self._classes: list[str] = []
        self._scorers: _Scorers | None = None
        self._weights = np.ones(len(SCORERS))  # includes the per-scorer scale and 1 / temperature

    def fit(self, texts: list[str], labels: list[str], vectors: np.ndarray) -> TextClassifier:
        """Fit on texts, their labels and their precomputed embeddings.

        Raises:
            ValueError: On mismatched inputs, fewer than two classes, or a class with one example.
        """
        vectors = _check(texts, vectors)
        if len(labels) != len(texts):
            raise ValueError(f"{len(labels)} labels for {len(texts)} texts")
        classes, y = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
        counts = np.bincount(y)
        if len(classes) < 2 or counts.min() < 2:
            raise ValueError("need at least two classes with at least two examples each")
        n_classes, p = len(classes), self.params
        # The fusion is chosen on the out-of-fold scores of a stratified sample (all texts up to
        # ``cv_texts``); the final scorers see every text. On a large set the final fit runs
        # alongside the folds, each process with one BLAS/OpenMP thread (no oversubscription).
        rows = _stratified_sample(y, p["cv_texts"], max(2, p["cv"]), self.seed)
        cv_texts, y_cv, x_cv = [texts[i] for i in rows], y[rows], vectors[rows]
        folds = StratifiedKFold(int(min(p["cv"], np.bincount(y_cv).min())), shuffle=True, random_state=self.seed)
        splits = list(folds.split(x_cv, y_cv))
        fold_args = [(cv_texts, y_cv, x_cv, fold, n_classes, p, self.seed) for fold in splits]
        if len(texts) >= 2000 and p["n_jobs"] > 1:
            final = delayed(_Scorers)(texts, y, vectors, n_classes, p, self.seed)  # first: the longest job
            with parallel_config(backend="loky", inner_max_num_threads=1):
                scorers, *parts = Parallel(n_jobs=p["n_jobs"])([final, *(delayed(_held_out)(*a) for a in fold_args)])
        else:
            with _blas_controller().limit(limits=1):  # 2 threads made the logistic regression ~5x slower
                parts = [_held_out(*a) for a in fold_args]
                scorers = _Scorers(texts, y, vectors, n_classes, p, self.seed)
        y = y_cv
        oof = np.zeros((len(y), n_classes, len(SCORERS)))
        for (_, held), scores in zip(splits, parts, strict=True):
            oof[held] = scores
        scale = 1.0 / oof.reshape(-1, len(SCORERS)).std(axis=0).clip(1e-12)
        oof *= scale
        grid = [p["weights"]] if p["weights"] is not None else itertools.product(p["weight_grid"], repeat=2)
        results = []
        for w_lr, w_knn in grid:
            logits = oof @ np.array([1.0, w_lr, w_knn])
            accuracy = float((logits.argmax(axis=1) == y).mean())
            results.append((accuracy, (w_lr, w_knn), logits))
        top = max(r[0] for r in results)
        tied = [(*_temper(logits, y), weights) for acc, weights, logits in results if acc == top]
        log_loss, temperature, weights = min(tied, key=lambda r: r[0])
        self._weights = np.array([1.0, *weights]) * scale / temperature
        by_scorer = {n: float((oof[:, :, i].argmax(1) == y).mean()) for i, n in enumerate(SCORERS)}
        self.cv_report = dict(
            folds=folds.get_n_splits(),
            oof_accuracy=top,
            weights=weights,
            temperature=temperature,
            oof_log_loss=log_loss,
            oof_accuracy_by_scorer=by_scorer,
            cv_texts=len(rows),
        )
        self._scorers = scorers
        self._classes = [str(c) for c in classes]
        return self

    @property
    def classes_(self) -> list[str]:
        """Class labels in the column order of ``predict_proba``."""
        if self._scorers is None:
            raise RuntimeError("classifier is not fitted")
        return list(self._classes)

    def predict_proba(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """Return calibrated class probabilities, shape ``(n, n_classes)``, rows summing to 1."""
        if self._scorers is None:
            raise RuntimeError("classifier is not fitted")
        vectors = _check(texts, vectors)
        if len(texts) == 0:
            return np.zeros((0, len(self._classes)))
        with _single_threaded_blas(len(texts)):
            logits = self._scorers.scores(list(texts), vectors) @ self._weights
        proba: np.ndarray = np.exp(log_softmax(logits, axis=1))
        return proba

    def predict(self, texts: list[str], vectors: np.ndarray) -> list[tuple[str, float]]:
        """Return ``(label, calibrated confidence)`` for each text."""
        proba = self.predict_proba(texts, vectors)
        best = proba.argmax(axis=1)
        return [(self._classes[i], float(proba[r, i])) for r, i in enumerate(best)]

    def save(self, path: Path) -> None:
        """Pickle the fitted classifier to ``path``."""
        Path(path).write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    @classmethod
    def load(cls, path: Path) -> TextClassifier:
        """Load a classifier saved with :meth:`save` (only load files you trust)."""
        obj = pickle.loads(Path(path).read_bytes())  # noqa: S301
        if not isinstance(obj, cls):
            raise TypeError(f"{path} does not hold a {cls.__name__}")
        return obj


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


def _single_threaded_blas(n_rows: int) -> AbstractContextManager[Any]:
    """Limit BLAS to one thread when scoring a few rows.

    On 2 cores, waking a second BLAS thread while the embedder's threads still spin costs
    several times the product itself.
    """
    if n_rows > 16:
        return nullcontext()
    limit: AbstractContextManager[Any] = _blas_controller().limit(limits=1, user_api="blas")
    return limit


def _check(texts: list[str], vectors: np.ndarray) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2 or len(array) != len(texts):
        raise ValueError(f"vectors must have shape (len(texts), dim); got {array.shape} for {len(texts)} texts")
    return array
