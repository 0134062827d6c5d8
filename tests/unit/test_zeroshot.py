"""Zero-shot triage from category descriptions: well above chance, and its confidence is honest."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import REPO
from tools.playbook import generic_playbook
from tools.zeroshot import ZeroShotClassifier


@pytest.fixture(scope="module")
def embed():  # type: ignore[no-untyped-def]
    from tools.embeddings import default_embeddings

    return default_embeddings().embed_array


def _sample(n: int) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in (REPO / "data" / "tickets.jsonl").read_text().splitlines() if line.strip()]
    return rows[:: len(rows) // n][:n]  # spread over the file, every category represented


def _playbook_categories(path: Path) -> dict[str, dict[str, str]]:
    categories: dict[str, dict[str, str]] = yaml.safe_load(path.read_text())["categories"]
    return categories


def test_accuracy_is_well_above_chance_and_confidence_matches_it(embed) -> None:  # type: ignore[no-untyped-def]
    categories = _playbook_categories(REPO / "data" / "playbook.yaml")
    clf = ZeroShotClassifier.from_playbook(categories, embed)
    tickets = _sample(50)
    texts = [f"{t['subject']}\n{t['body']}" for t in tickets]
    proba = clf.predict_proba(texts, embed(texts))
    assert proba.shape == (50, len(categories)) and np.allclose(proba.sum(axis=1), 1.0)
    predicted = [clf.classes_[i] for i in proba.argmax(axis=1)]
    accuracy = float(np.mean([p == t["category"] for p, t in zip(predicted, tickets, strict=True)]))
    confidence = float(proba.max(axis=1).mean())
    assert accuracy >= 3 / len(categories)  # chance is 1/12
    assert abs(confidence - accuracy) <= 0.15
    assert clf.mode == "zero-shot"


def test_unrelated_text_gets_low_confidence(embed) -> None:  # type: ignore[no-untyped-def]
    clf = ZeroShotClassifier.from_playbook(_playbook_categories(REPO / "data" / "playbook.yaml"), embed)
    texts = ["The weather in Lisbon is lovely and the sardines are grilled.", "qwzx plorf 8812 zzkk"]
    confidences = [c for _, c in clf.predict(texts, embed(texts))]
    assert max(confidences) < 0.55  # below the default min_triage_confidence: a human checks


def test_generic_playbook_routes_obvious_requests(embed) -> None:  # type: ignore[no-untyped-def]
    clf = ZeroShotClassifier.from_playbook(generic_playbook()["categories"], embed)
    texts = ["I forgot my password and cannot log in to my account",
             "Please give me my money back, I want a refund for last month's charge",
             "Your website is down, nobody in our office can load anything"]
    assert [label for label, _ in clf.predict(texts, embed(texts))] == ["account_access", "refund", "outage"]
