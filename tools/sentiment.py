"""Ticket sentiment (negative / neutral / positive): a trained linear model with a calibrated score.

Replaces the word list of ``tools.signals.sentiment``. The model is trained at first use from
``tools/defaults/sentiment_train.jsonl`` (hand-written support-ticket texts in seven languages,
labelled for the *tone* a support lead reads: a calm report of a serious problem is neutral,
a polite request that ends in "thanks" is neutral, positive is reserved for thanks and praise).

Features: word 1-2 grams of the text with negation marked (``not happy`` -> ``not NOT_happy``,
so "not great" and "no complaints" are learnt as themselves) and character 2-5 grams inside
word boundaries (inflections, the non-English rows, typos). A ``LinearSVC`` scores the classes;
a softmax with a temperature turns the scores into probabilities. The temperature minimises the
log-loss of out-of-fold scores (stratified 5-fold on the training file), so a probability of
0.8 is right about 80 % of the time on texts like the training data.

Measured in one run (2 shared cores; eval = ``evals/datasets/sample_eval.jsonl``, 216 tickets,
subject + body, never trained on; its labels are 201 neutral and 15 negative, so "always
neutral" scores 0.931 and the negatives are what matter):

==========================================  ========  ==============  ===========  =====
model                                       accuracy  negatives       ECE / Brier  where
==========================================  ========  ==============  ===========  =====
this model (bundled, lexical)               0.949     15/15, 11 FP    0.031/0.081  eval
word list (``tools.signals``)               0.764     15/15, 8 FP     -            eval
  (it calls 43 neutral tickets positive: "please", "thanks")
this model, 5-fold on the training file     0.844     R 0.81, P 0.82  0.033/0.222  cv
word list on the training file              0.538     R 0.26, P 0.94  -            all
lexical + embedding head (``fit`` vectors)  0.963     13/15, 6 FP     -            eval
  (5-fold on the training file: 0.876)
==========================================  ========  ==============  ===========  =====

ECE: 10-bin expected calibration error of the predicted label's probability; Brier: the
3-class Brier score. ``load`` takes ~0.6 s, a one-ticket ``predict`` ~4 ms.

``predict`` takes the tickets' sentence embeddings like ``tools.classifier`` does. The bundled
model does not use them: training on them needs the embeddings of every training row, ~15-20 s
on this hardware, while :meth:`SentimentModel.load` must stay under a second and persist
nothing. A caller that has those vectors (e.g. an index build) can ``fit(texts, labels, vectors)``
a fused model (table above). Nothing is loaded at import time.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from tools import tfidf

TRAIN_FILE = Path(__file__).parent / "defaults" / "sentiment_train.jsonl"
LABELS = ("negative", "neutral", "positive")
#: Tokens after a negator that are marked negated (punctuation ends the scope sooner).
NEGATION_SCOPE = 3
#: Negators of the languages in the training file (en, de, fr, es, pt, it, nl).
NEGATORS = frozenset(
    "not no never none nobody nothing neither nor hardly cannot without zero "
    "nicht kein keine keinen keiner nie niemand nichts ohne "
    "ne pas jamais aucun aucune personne rien sans "
    "nunca nada ningún ninguna ninguno nadie sin "
    "não nem nenhum nenhuma ninguém sem "
    "non mai nessun nessuno nessuna niente "
    "niet geen nooit niemand niets zonder".split()
)
_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[.,;:!?]+")
SVM_C = 1.0
LR_C = 10.0
#: Weight of the embedding head relative to the lexical scores (5-fold CV on the training file).
EMBEDDING_WEIGHT = 0.5


def mark_negation(text: str) -> str:
    """Lower-cased tokens; the ``NEGATION_SCOPE`` tokens after a negator get a ``NOT_`` prefix."""
    out: list[str] = []
    scope = 0
    for token in _TOKEN.findall(text.lower()):
        if not token[0].isalnum() and token[0] != "_":
            scope = 0
            out.append(token)
        elif token in NEGATORS or token.endswith(("n't", "n’t")):
            scope = NEGATION_SCOPE
            out.append(token)
        else:
            out.append(f"NOT_{token}" if scope else token)
            scope = max(0, scope - 1)
    return " ".join(out)


def read_training(path: Path = TRAIN_FILE) -> tuple[list[str], list[str]]:
    """Texts and labels of a ``{"text", "label"}`` JSONL file."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    bad = sorted({str(r.get("label")) for r in rows} - set(LABELS))
    if bad:
        raise ValueError(f"{path}: unknown labels {bad}")
    return [str(r["text"]) for r in rows], [str(r["label"]) for r in rows]


class _Lexical:
    """TF-IDF vectorizers and a linear SVM fitted on one set of texts."""

    def __init__(self, texts: list[str], y: np.ndarray) -> None:
        self.word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+", lowercase=False)
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
        #: The training rows' features, kept for the calibration folds of ``SentimentModel.fit``.
        self.train_features = sparse.hstack(
            [self.word.fit_transform([mark_negation(t) for t in texts]), self.char.fit_transform(texts)]
        ).tocsr()
        self.svm = LinearSVC(C=SVM_C).fit(self.train_features, y)
        self.blocks = tfidf.blocks_of([self.word, self.char])  # the same rows as their transform, ~1 ms less a call
        self.weights = np.ascontiguousarray(self.svm.coef_.T)  # (features, classes)

    def scores(self, texts: list[str]) -> np.ndarray:
        features = tfidf.transform(self.blocks, [[mark_negation(t) for t in texts], list(texts)],
                                   self.weights.shape[0], np.float64)
        return np.asarray(features @ self.weights + self.svm.intercept_, dtype=np.float64)


def _embedding_head(vectors: np.ndarray, y: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=LR_C, max_iter=2000).fit(vectors, y)


def _temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature minimising the log-loss of ``logits`` against ``y``."""

    def nll(log_t: float) -> float:
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[np.arange(len(y)), y].mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-5.0, 5.0), method="bounded").x))


class SentimentModel:
    """Negative / neutral / positive with a calibrated probability; build with :meth:`load` or :meth:`fit`."""

    def __init__(self, lexical: _Lexical, temperature: float, head: LogisticRegression | None = None) -> None:
        self._lexical = lexical
        self._head = head
        self.temperature = temperature
        self.classes: tuple[str, ...] = LABELS

    @classmethod
    def load(cls) -> SentimentModel:
        """The model trained on the bundled file, built once per process (~0.5 s)."""
        return _bundled()

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], vectors: np.ndarray | None = None, *, folds: int = 5) -> SentimentModel:
        """Train on labelled texts (and their embeddings, for an embedding head) and calibrate.

        The temperature is fitted on out-of-fold scores. The folds reuse the full-data TF-IDF
        vocabulary (only the SVM is refitted per fold), which keeps ``load`` fast; the idf
        weights seeing the held-out rows makes little difference to the fitted temperature.

        Raises:
            ValueError: On mismatched inputs or a label outside ``LABELS``.
        """
        if len(texts) != len(labels) or (vectors is not None and len(vectors) != len(texts)):
            raise ValueError("texts, labels and vectors must have the same length")
        if set(labels) != set(LABELS):
            raise ValueError(f"need examples of each of {LABELS} and no other label")
        y = np.searchsorted(np.array(LABELS), np.asarray(labels))
        lexical = _Lexical(texts, y)
        features, lexical.train_features = lexical.train_features, sparse.csr_matrix((0, 0))
        oof = np.zeros((len(texts), len(LABELS)))
        for train, held in StratifiedKFold(folds, shuffle=True, random_state=0).split(features, y):
            oof[held] = LinearSVC(C=SVM_C).fit(features[train], y[train]).decision_function(features[held])
            if vectors is not None:
                head = _embedding_head(vectors[train], y[train])
                oof[held] += EMBEDDING_WEIGHT * head.predict_log_proba(vectors[held])
        head = _embedding_head(vectors, y) if vectors is not None else None
        return cls(lexical, _temperature(oof, y), head)

    def logits(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Uncalibrated class scores, ``(len(texts), 3)`` in the order of ``classes``."""
        scores = self._lexical.scores(list(texts))
        if self._head is not None:
            if vectors is None:
                raise ValueError("this model was fitted with an embedding head: pass the texts' vectors")
            scores = scores + EMBEDDING_WEIGHT * self._head.predict_log_proba(np.asarray(vectors, dtype=np.float64))
        return scores

    def probabilities(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probabilities, ``(len(texts), 3)`` in the order of ``classes``; rows sum to 1."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        return np.asarray(softmax(self.logits(texts, vectors) / self.temperature, axis=1))

    def predict(self, texts: list[str], vectors: np.ndarray | None = None) -> list[tuple[str, float]]:
        """``(label, calibrated probability of that label)`` per text.

        Args:
            texts: Ticket texts (subject and body).
            vectors: Their sentence embeddings; used only by a model fitted with an embedding head.
        """
        proba = self.probabilities(texts, vectors)
        return [(self.classes[int(row.argmax())], float(row.max())) for row in proba]


@lru_cache(maxsize=1)
def _bundled() -> SentimentModel:
    texts, labels = read_training()
    return SentimentModel.fit(texts, labels)
