"""tools.sentiment: negation, sarcasm, thanks and requests, calibrated probabilities, eval-set accuracy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tools.engine import ticket_text
from tools.sentiment import LABELS, TRAIN_FILE, SentimentModel, mark_negation, read_training
from tools.signals import sentiment as word_list

EVAL = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "sample_eval.jsonl"


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel.load()


@pytest.fixture(scope="module")
def eval_set() -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [ticket_text(r["ticket"]) for r in rows], [r["expected"]["sentiment"] for r in rows]


def _label(model: SentimentModel, text: str) -> str:
    return model.predict([text])[0][0]


@pytest.mark.parametrize(
    "text",
    [
        "This is not great. I am not happy at all.",
        "I'm not satisfied, the invoice you sent is still not correct.",
        "Your reply did not help and the sync is not working.",
    ],
)
def test_negated_praise_is_negative(model: SentimentModel, text: str) -> None:
    assert _label(model, text) == "negative"


def test_the_word_list_called_a_negated_complaint_positive(model: SentimentModel) -> None:
    text = "This is not great. I am not happy at all."
    assert word_list(text)[0] == "positive"
    assert model.predict([text])[0][0] == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "Great, another outage. Just what I needed.",
        "Wonderful, the export is broken again. Love it.",
    ],
)
def test_sarcasm_is_negative(model: SentimentModel, text: str) -> None:
    assert _label(model, text) == "negative"


def test_threat_to_cancel_is_negative(model: SentimentModel) -> None:
    assert _label(model, "If the outage happens once more we will cancel our contract. I'm furious.") == "negative"


@pytest.mark.parametrize("text", ["Thank you so much, everything works again!", "No complaints at all, the new editor is great."])
def test_thanks_and_negated_complaints_are_positive(model: SentimentModel, text: str) -> None:
    assert _label(model, text) == "positive"


@pytest.mark.parametrize(
    "text",
    [
        "How do I add a new user to our workspace?",
        "Could you send me the invoice for May? Thanks in advance.",
        "Since 9am our users get error 503 when opening documents. Please check.",
    ],
)
def test_requests_and_calm_reports_are_neutral(model: SentimentModel, text: str) -> None:
    assert _label(model, text) == "neutral"


def test_probabilities_are_a_distribution_and_the_label_is_the_argmax(model: SentimentModel) -> None:
    texts = ["Not happy.", "Thanks a lot!", "Where is the API key?", "", "INV-2231"]
    proba = model.probabilities(texts)
    assert proba.shape == (5, 3)
    assert np.all((proba >= 0) & (proba <= 1))
    assert np.allclose(proba.sum(axis=1), 1.0)
    for (label, p), row in zip(model.predict(texts), proba, strict=True):
        assert label == LABELS[int(row.argmax())]
        assert p == pytest.approx(row.max())
    assert model.predict([]) == []


def test_load_is_cached(model: SentimentModel) -> None:
    assert SentimentModel.load() is model


def test_negation_marking() -> None:
    assert mark_negation("Not happy at all. Thanks") == "not NOT_happy NOT_at NOT_all . thanks"
    assert mark_negation("It doesn't work") == "it doesn't NOT_work"
    assert "NOT_zufrieden" in mark_negation("Wir sind nicht zufrieden")


def test_eval_set_accuracy_floor(model: SentimentModel, eval_set: tuple[list[str], list[str]]) -> None:
    texts, gold = eval_set
    predicted = [label for label, _ in model.predict(texts)]
    accuracy = np.mean([p == g for p, g in zip(predicted, gold, strict=True)])
    negatives = [p for p, g in zip(predicted, gold, strict=True) if g == "negative"]
    old = np.mean([word_list(t)[0] == g for t, g in zip(texts, gold, strict=True)])
    # Most eval tickets are neutral, so accuracy alone rewards "always neutral": also require the negatives.
    assert accuracy >= 0.88
    assert accuracy > old
    assert negatives and np.mean([p == "negative" for p in negatives]) >= 0.8


def test_out_of_fold_confidence_matches_accuracy() -> None:
    texts, labels = read_training()
    rng = np.random.default_rng(0)
    held = rng.permutation(len(texts))[: len(texts) // 4]
    train = np.setdiff1d(np.arange(len(texts)), held)
    fitted = SentimentModel.fit([texts[i] for i in train], [labels[i] for i in train])
    proba = fitted.probabilities([texts[i] for i in held])
    correct = np.array(LABELS)[proba.argmax(axis=1)] == np.array([labels[i] for i in held])
    assert abs(proba.max(axis=1).mean() - correct.mean()) < 0.08


def test_embedding_head_needs_vectors() -> None:
    texts, labels = read_training()
    vectors = np.random.default_rng(1).normal(size=(len(texts), 8))
    fused = SentimentModel.fit(texts, labels, vectors)
    assert len(fused.predict(texts[:2], vectors[:2])) == 2
    with pytest.raises(ValueError, match="vectors"):
        fused.predict(texts[:2])


def test_fit_rejects_unknown_labels() -> None:
    with pytest.raises(ValueError, match="label"):
        SentimentModel.fit(["a", "b", "c", "d"], ["negative", "neutral", "positive", "angry"])


def test_training_file_is_balanced_multilingual_and_held_out(eval_set: tuple[list[str], list[str]]) -> None:
    texts, labels = read_training(TRAIN_FILE)
    assert len(texts) >= 600 and len(set(texts)) == len(texts)
    assert all(labels.count(label) >= 0.15 * len(labels) for label in LABELS)
    assert sum(bool(re.search(r"[äöüßéèàçñãõ]", t)) for t in texts) >= 40

    def grams(text: str, n: int = 8) -> set[str]:
        words = re.findall(r"\w+", text.lower())
        return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}

    held_out = set().union(*(grams(t) for t in eval_set[0]))
    assert not [t for t in texts if grams(t) & held_out], "training rows share 8-word runs with the eval set"
