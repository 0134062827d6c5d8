"""Request-detection evals: policy questions vs action requests on Bitext, and P/R on the labelled eval set.

Bitext (``../shared/benchmarks/bitext``, 27 intents) is mapped to the generic playbook's request types by
``evals/bitext_requests.yaml``. On the test CSV it reports

* ``policy_action_rate``: tickets that only ask about a policy or look something up (``kind: question``)
  that get a money, account or data action proposed (goal < 1 %);
* ``request_none_rate``: requests whose expected type proposes an action that get no such action (goal < 3 %),
  and ``wrong_action_rate`` (an action, but not the expected one);
* ``false_action_rate``: every other ticket (no action expected) that gets one;
* precision / recall per request type, and ms per ticket.

Twice: ``untrained`` (examples + patterns only, a team with no labels) and, when ``--train`` is given,
``trained`` (a classifier fitted on the training CSV's intents mapped to request types, averaged with the
examples). The test CSV is never used for fitting or choosing anything.

The eval set: ``evals/datasets/sample_requests.jsonl`` labels what each ticket of
``sample_eval.jsonl`` asks for; :func:`run_eval_set` detects with the sample company's playbook
(``data/playbook.yaml``) and reports micro and per-type P/R and the action-level P/R.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from evals.triage_bench import read_labelled_csv
from tools.engine import embed_texts, ticket_text
from tools.playbook import Playbook, generic_playbook, read_playbook
from tools.requests import DetectedRequest, RequestDetector, train_classifier

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BITEXT_MAP = HERE / "bitext_requests.yaml"
EVAL_SET = HERE / "datasets" / "sample_eval.jsonl"
EVAL_LABELS = HERE / "datasets" / "sample_requests.jsonl"
SAMPLE_PLAYBOOK = REPO / "data" / "playbook.yaml"
Say = Callable[[str], None]


def per_type(gold: Sequence[set[str]], predicted: Sequence[set[str]]) -> dict[str, dict[str, float]]:
    """Precision, recall and support of every type seen in ``gold`` or ``predicted`` (sets per ticket)."""
    tp, fp, fn = Counter[str](), Counter[str](), Counter[str]()
    for g, p in zip(gold, predicted, strict=True):
        tp.update(g & p)
        fp.update(p - g)
        fn.update(g - p)
    out = {}
    for name in sorted(set(tp) | set(fp) | set(fn)):
        out[name] = {"precision": _ratio(tp[name], tp[name] + fp[name]), "recall": _ratio(tp[name], tp[name] + fn[name]),
                     "support": tp[name] + fn[name]}
    return out


def micro(gold: Sequence[set[str]], predicted: Sequence[set[str]]) -> dict[str, float]:
    """Micro-averaged precision and recall over all (ticket, type) pairs."""
    tp = sum(len(g & p) for g, p in zip(gold, predicted, strict=True))
    return {"precision": _ratio(tp, sum(len(p) for p in predicted)), "recall": _ratio(tp, sum(len(g) for g in gold))}


def _ratio(num: float, den: float) -> float:
    return round(num / den, 4) if den else 1.0


def actions_of(found: Sequence[DetectedRequest]) -> set[str]:
    """The gated actions a ticket's requests propose."""
    return {r.action for r in found if r.action}


def bitext_metrics(labels: Sequence[str], found: Sequence[Sequence[DetectedRequest]], mapping: dict[str, dict[str, str]],
                   playbook: Playbook) -> dict[str, Any]:
    """Policy→action, request→none and per-type P/R of detections against Bitext intents."""
    action_of = {name: t.action for name, t in playbook.requests.items()}
    rows: dict[str, list[int]] = {"question": [], "request_none": [], "request_wrong": [], "other": []}
    for label, requests in zip(labels, found, strict=True):
        spec, proposed = mapping[label], actions_of(requests)
        expected = action_of.get(spec["type"])
        if spec["kind"] == "question":
            rows["question"].append(int(bool(proposed)))
        elif spec["kind"] == "request" and expected:
            rows["request_none"].append(int(not proposed))
            rows["request_wrong"].append(int(bool(proposed) and expected not in proposed))
        else:
            rows["other"].append(int(bool(proposed - ({expected} if expected else set()))))
    gold = [{mapping[label]["type"]} for label in labels]
    predicted = [{r.type for r in requests} for requests in found]
    return {
        "tickets": len(labels),
        "policy_questions": len(rows["question"]),
        "policy_action_rate": _rate(rows["question"]),
        "policy_action_tickets": sum(rows["question"]),
        "action_requests": len(rows["request_none"]),
        "request_none_rate": _rate(rows["request_none"]),
        "request_none_tickets": sum(rows["request_none"]),
        "wrong_action_rate": _rate(rows["request_wrong"]),
        "false_action_rate": _rate(rows["other"]),
        "no_request_detected_rate": _rate([int(not p) for p in predicted]),
        "micro": micro(gold, predicted),
        "per_type": per_type(gold, predicted),
    }


def _rate(values: Sequence[int]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def load_mapping(path: Path = BITEXT_MAP) -> dict[str, dict[str, str]]:
    """Intent → {kind, type} from the mapping file."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    intents: dict[str, dict[str, str]] = raw["intents"]
    return intents


def _timed_detect(detector: RequestDetector, texts: list[str], vectors: np.ndarray, sample: int = 300) -> float:
    """Milliseconds per ticket of ``detect`` one ticket at a time (the ticket vector given, as the graph has it)."""
    order = np.random.default_rng(0).permutation(len(texts))[: min(sample, len(texts))]
    detector.detect(texts[0], vectors[0])  # warm-up
    start = time.perf_counter()
    for i in order:
        detector.detect(texts[i], vectors[i])
    return round((time.perf_counter() - start) * 1000 / len(order), 2)


def run_bitext(test_csv: Path, train_csv: Path | None = None, mapping_path: Path = BITEXT_MAP,
               progress: Say | None = None) -> dict[str, Any]:
    """Detect requests on ``test_csv`` without training and, given ``train_csv``, with a trained classifier."""
    from tools.embeddings import default_embeddings

    say = progress or (lambda _m: None)
    mapping = load_mapping(mapping_path)
    texts, labels = read_labelled_csv(test_csv)
    unknown = sorted(set(labels) - set(mapping))
    if unknown:
        raise ValueError(f"{test_csv}: intents not in {mapping_path.name}: {', '.join(unknown)}")
    embedder = default_embeddings()
    playbook = Playbook(generic_playbook())
    say(f"embedding {len(texts)} test texts")
    vectors = embed_texts(embedder, texts)
    detector = RequestDetector.for_embedder(playbook, embedder)
    say("detecting without training (examples + patterns)")
    result: dict[str, Any] = {"test": str(test_csv), "mapping": str(mapping_path), "temperature": round(detector.temperature, 4)}
    found = detector.detect_many(texts, vectors)
    result["untrained"] = bitext_metrics(labels, found, mapping, playbook)
    result["untrained"]["ms_per_ticket"] = _timed_detect(detector, texts, vectors)
    if train_csv is not None:
        train_texts, train_labels = read_labelled_csv(train_csv)
        types = [mapping[label]["type"] for label in train_labels if label in mapping]
        kept = [t for t, label in zip(train_texts, train_labels, strict=True) if label in mapping]
        say(f"training a request classifier on {len(kept)} texts ({len(set(types))} request types)")
        start = time.perf_counter()
        classifier = train_classifier(kept, types, embed_texts(embedder, kept))
        trained = RequestDetector.for_embedder(playbook, embedder, classifier)
        result["train"] = {"file": str(train_csv), "texts": len(kept), "seconds": round(time.perf_counter() - start, 1)}
        say("detecting with the trained classifier")
        result["trained"] = bitext_metrics(labels, trained.detect_many(texts, vectors), mapping, playbook)
        result["trained"]["ms_per_ticket"] = _timed_detect(trained, texts, vectors)
    return result


def load_labels(path: Path = EVAL_LABELS) -> dict[str, list[str]]:
    """Ticket id → the request types a human read in it."""
    labels = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row.get("requests"), list):
                raise ValueError(f"{path}:{number}: 'requests' must be a list of request types")
            labels[str(row["id"])] = [str(r) for r in row["requests"]]
    return labels


def run_eval_set(labels_path: Path = EVAL_LABELS, dataset: Path = EVAL_SET, playbook_path: Path = SAMPLE_PLAYBOOK,
                 progress: Say | None = None) -> dict[str, Any]:
    """Request-detection P/R on the labelled tickets of the eval set, with the sample company's playbook."""
    from tools.embeddings import default_embeddings

    say = progress or (lambda _m: None)
    raw, _, errors = read_playbook(playbook_path)
    if errors:
        raise ValueError("; ".join(errors))
    playbook, labels = Playbook(raw), load_labels(labels_path)
    unknown = sorted({t for types in labels.values() for t in types} - set(playbook.requests))
    if unknown:
        raise ValueError(f"{labels_path}: request types not in {playbook_path}: {', '.join(unknown)}")
    tickets = {row["ticket"]["id"]: row["ticket"] for row in map(json.loads, dataset.read_text(encoding="utf-8").splitlines())}
    ids = [i for i in labels if i in tickets]
    texts = [ticket_text(tickets[i]) for i in ids]
    embedder = default_embeddings()
    detector = RequestDetector.for_embedder(playbook, embedder)
    say(f"detecting requests in {len(ids)} labelled tickets")
    start = time.perf_counter()
    vectors = embed_texts(embedder, texts)
    embed_ms = (time.perf_counter() - start) * 1000 / max(1, len(texts))
    found = detector.detect_many(texts, vectors)
    gold = [set(labels[i]) for i in ids]
    predicted = [{r.type for r in requests} for requests in found]
    action_of = {name: t.action for name, t in playbook.requests.items()}
    gold_actions = [{a for t in g if (a := action_of.get(t))} for g in gold]
    errors_list = [{"id": i, "expected": sorted(g), "detected": sorted(p)} for i, g, p in zip(ids, gold, predicted, strict=True) if g != p]
    return {
        "tickets": len(ids), "labels": str(labels_path), "playbook": str(playbook_path),
        "micro": micro(gold, predicted), "per_type": per_type(gold, predicted),
        "actions": micro(gold_actions, [actions_of(r) for r in found]),
        "actions_per_type": per_type(gold_actions, [actions_of(r) for r in found]),
        "exact_match": _rate([int(g == p) for g, p in zip(gold, predicted, strict=True)]),
        "ms_per_ticket": _timed_detect(detector, texts, vectors), "ticket_embedding_ms": round(embed_ms, 2),
        "errors": errors_list,
    }
