"""Zero-shot triage: a ticket's category from the playbook's category descriptions alone.

Used when a workspace has no labelled tickets. Each category is embedded as the mean unit vector
of ``"name: description"`` and of the description's comma/semicolon/full-stop separated phrases
(each phrase is one typical way a customer says it); a ticket's scores are its cosine
similarities to these vectors, turned into probabilities by a softmax with temperature
:data:`TEMPERATURE`.

The temperature is the one that minimises the log-loss of the sample company (Quillstack,
``data/tickets.jsonl``: 528 labelled tickets, the 12 categories of ``data/playbook.yaml``,
all-MiniLM-L6-v2 vectors of subject + body), so that the confidence means what it says:

=====================================  ========  =========  ===============  ========
setting                                accuracy  log-loss   mean confidence  tickets
=====================================  ========  =========  ===============  ========
sample playbook, T = 0.0461 (fitted)   0.638     1.015      0.666            528
  T fitted on one half, other half     0.648                0.658            264
generic playbook, same T               0.618     1.190      0.669            440 [1]_
=====================================  ========  =========  ===============  ========

.. [1] The sample tickets whose label is also a generic category (the generic playbook has no
   ``permissions`` or ``integrations``; its ``other`` category is a possible wrong answer).

Chance is 1/12 = 0.083. Embedding the description alone scored 0.589 and ``"name: description"``
alone 0.638 with a worse log-loss (1.151); centring the category vectors did not help (0.636).
Reliability on the generic playbook: tickets with confidence >= 0.8 were right 91 % of the time,
0.4-0.6 46 %, below 0.4 27 %. With the default ``min_triage_confidence`` of 0.55, 34 % of the
sample tickets are flagged for a human check (the rest are right 75 % of the time), the honest
outcome without labelled data. Unrelated texts ("The weather in Lisbon is lovely ...", "Hello",
random letters) get 0.32-0.48.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import log_softmax

#: Softmax temperature over cosine similarities (minimum log-loss on the sample company, see above).
TEMPERATURE = 0.0461
#: Measured on the sample company with TEMPERATURE (see the module docstring).
MEASURED = {"tickets": 528, "categories": 12, "accuracy": 0.638, "log_loss": 1.015, "mean_confidence": 0.666}


def label_phrasings(name: str, description: str) -> list[str]:
    """The texts that stand for one category: ``"name: description"`` and each phrase of the description."""
    phrases = [p.strip() for p in re.split(r"[,;.]", description) if len(p.strip()) > 3]
    return [f"{name.replace('_', ' ')}: {description}".strip(), *phrases]


class ZeroShotClassifier:
    """Nearest category description by cosine similarity, with a calibrated softmax."""

    mode = "zero-shot"

    def __init__(self, classes: list[str], centroids: np.ndarray, temperature: float = TEMPERATURE) -> None:
        """Wrap one unit vector per class (rows of ``centroids``, in the order of ``classes``)."""
        if len(classes) != len(centroids) or not classes:
            raise ValueError(f"{len(classes)} classes for {len(centroids)} category vectors")
        self._classes = list(classes)
        self._centroids = np.asarray(centroids, dtype=np.float32)
        self.temperature = float(temperature)

    @classmethod
    def from_playbook(cls, categories: dict[str, dict[str, Any]],
                      embed: Callable[[list[str]], np.ndarray]) -> ZeroShotClassifier:
        """Build from the playbook's ``categories`` (name -> settings with a ``description``).

        Args:
            categories: The playbook's categories; a missing description falls back to the name.
            embed: Embeds a list of texts into unit vectors (the engine's embedder).
        """
        names = list(categories)
        texts = [label_phrasings(n, str((categories[n] or {}).get("description") or n)) for n in names]
        vectors = np.asarray(embed([t for group in texts for t in group]), dtype=np.float32)
        centroids, start = [], 0
        for group in texts:
            mean = vectors[start : start + len(group)].mean(axis=0)
            centroids.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
            start += len(group)
        return cls(names, np.stack(centroids))

    @property
    def classes_(self) -> list[str]:
        """Class labels in the column order of ``predict_proba``."""
        return list(self._classes)

    def predict_proba(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities, shape ``(n, n_classes)``, rows summing to 1 (``texts`` is unused)."""
        array = np.asarray(vectors, dtype=np.float32)
        if array.ndim != 2 or len(array) != len(texts):
            raise ValueError(f"vectors must have shape (len(texts), dim); got {array.shape} for {len(texts)} texts")
        proba: np.ndarray = np.exp(log_softmax((array @ self._centroids.T) / self.temperature, axis=1))
        return proba

    def predict(self, texts: list[str], vectors: np.ndarray) -> list[tuple[str, float]]:
        """``(label, calibrated confidence)`` for each text."""
        proba = self.predict_proba(texts, vectors)
        return [(self._classes[i], float(proba[r, i])) for r, i in enumerate(proba.argmax(axis=1))]
