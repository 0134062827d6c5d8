"""Retraining triage on reviewer corrections, switched in only when it is not worse.

Reviewer-corrected tickets (a category the reviewer set on a packet) become labelled examples. A
candidate classifier is trained on the workspace's labelled tickets plus most corrections; a fixed
slice of the corrections (every 5th, by a stable hash) is held out. Candidate and current model are
scored on the workspace's eval set (if it has one) and on the held-out corrections; the candidate
becomes the active model only if it is not worse on either. Models are versioned: the active version
is written next to the index (``active_model.json``), loaded by the engine, and recorded on every packet.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tools.classifier import TextClassifier

ACTIVE = "active_model.json"
BASE_VERSION = "base"


@dataclass
class Scores:
    """Accuracy of one model on the eval set and on the held-out corrections (None: nothing to score)."""

    eval_accuracy: float | None
    eval_n: int
    held_out_accuracy: float | None
    held_out_n: int


@dataclass
class RetrainResult:
    """What a retrain measured and decided."""

    current_version: str
    candidate_version: str
    before: Scores
    after: Scores
    switched: bool
    reason: str
    corrections: int
    trained_on: int
    held_out: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON for the CLI and the API."""
        return asdict(self)


def held_out(text: str) -> bool:
    """Whether a correction is in the held-out slice (every 5th, stable across runs)."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 5 == 0  # noqa: S324 - a split, not security


def accuracy(model: Any, examples: Sequence[tuple[str, str]], vectors: np.ndarray) -> float | None:
    """Share of ``examples`` whose top class is the label."""
    if not examples:
        return None
    proba = model.predict_proba([text for text, _ in examples], vectors)
    classes = list(model.classes_)
    return float(np.mean([classes[int(row.argmax())] == label for row, (_, label) in zip(proba, examples, strict=True)]))


def active_version(index_dir: Path) -> str:
    """The version the engine uses (``base``: trained on the workspace's labelled tickets only)."""
    path = index_dir / ACTIVE
    return str(json.loads(path.read_text())["version"]) if path.exists() else BASE_VERSION


def load_active(index_dir: Path, training_hash: str) -> TextClassifier | None:
    """The retrained model in use, if one was switched in for this training data (else None: use the base)."""
    path = index_dir / ACTIVE
    if not path.exists():
        return None
    meta = json.loads(path.read_text())
    model = index_dir / f"classifier-{meta['version']}.pkl"
    if meta.get("training_hash") != training_hash or not model.exists():
        return None  # the labelled tickets changed since: the base model is retrained from them instead
    classifier = TextClassifier.load(model)
    classifier.version = str(meta["version"])  # type: ignore[attr-defined]
    return classifier


def retrain(current: Any, texts: list[str], labels: list[str], text_vectors: np.ndarray,
            corrections: Sequence[tuple[str, str]], correction_vectors: np.ndarray,
            eval_set: Sequence[tuple[str, str]], eval_vectors: np.ndarray,
            index_dir: Path, training_hash: str, dry_run: bool = False) -> RetrainResult:
    """Train a candidate on ``texts`` + most ``corrections``; switch to it only if it is not worse."""
    keep = [i for i, (text, _) in enumerate(corrections) if not held_out(text)]
    hold = [i for i, (text, _) in enumerate(corrections) if held_out(text)]
    train_texts = texts + [corrections[i][0] for i in keep]
    train_labels = labels + [corrections[i][1] for i in keep]
    train_vectors = np.vstack([text_vectors, correction_vectors[keep]]) if keep else text_vectors
    candidate = TextClassifier(seed=0).fit(train_texts, train_labels, train_vectors)
    held = [corrections[i] for i in hold]
    held_vectors = correction_vectors[hold] if hold else np.zeros((0, text_vectors.shape[1]), dtype=np.float32)

    def scores(model: Any) -> Scores:
        return Scores(accuracy(model, eval_set, eval_vectors), len(eval_set), accuracy(model, held, held_vectors), len(held))

    before, after = scores(current), scores(candidate)
    worse = [name for name, b, a in (("eval set", before.eval_accuracy, after.eval_accuracy),
                                     ("held-out corrections", before.held_out_accuracy, after.held_out_accuracy))
             if b is not None and a is not None and a < b - 1e-9]
    version = datetime.now(UTC).strftime("v%Y%m%d%H%M%S")
    current_version = str(getattr(current, "version", BASE_VERSION))
    if not corrections:
        return RetrainResult(current_version, version, before, after, False, "no corrections to learn from", 0, len(texts))
    switched = not worse and not dry_run
    reason = (f"refused: worse on the {' and the '.join(worse)}" if worse
              else "dry run: not switched" if dry_run else "switched: not worse on any measured set")
    if switched:
        index_dir.mkdir(parents=True, exist_ok=True)
        candidate.save(index_dir / f"classifier-{version}.pkl")
        history = json.loads((index_dir / ACTIVE).read_text()).get("history", []) if (index_dir / ACTIVE).exists() else []
        entry = {"version": version, "at": datetime.now(UTC).isoformat(timespec="seconds"), "corrections": len(corrections),
                 "before": asdict(before), "after": asdict(after)}
        (index_dir / ACTIVE).write_text(json.dumps({"version": version, "training_hash": training_hash,
                                                    "history": [*history, entry]}, indent=2))
    return RetrainResult(current_version, version, before, after, switched, reason, len(corrections), len(train_texts),
                         [corrections[i][0][:60] for i in hold])
