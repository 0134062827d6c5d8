"""Evaluator functions: one small pure function per property of a support packet.

Per-example functions take the target's output (``packet`` plus run facts) and the
example's ``expected`` labels and return plain numbers or lists; ``aggregate`` turns the
rows of a run into the metrics that ``thresholds.yaml`` gates.

Method notes (what "supported" and "leak" mean here):

* **Citation validity** — a cited id is valid when the document exists, no other document
  supersedes it, its audience is ``customer`` and the example does not list it in
  ``must_not_cite``. Both ``packet.citations`` and every ``[id]`` marker in the draft count.
* **Internal leak** — the draft leaks when it shares any 8-word shingle (lower-cased word
  tokens) with an ``audience: internal`` document or with the customer's ``contract_notes``,
  excluding shingles that also occur in a customer-facing document (quoting public text
  that happens to be repeated internally is not a leak).
* **Draft groundedness** — lexical entailment, no model: each draft sentence that carries a
  ``[doc-id]`` marker is *supported* when it is a verbatim substring of the cited document
  (whitespace-normalised) or when at least 80% of its content words (stop words removed)
  occur in that document. Deterministic and offline; it checks that facts were copied from
  the cited source, not that a paraphrase is logically entailed.
* **Gating** — an action must be gated when its policy tier (``graph.policy.tier_of`` with the
  playbook and the packet's risk flags) needs approval, or when the example lists it in
  ``must_gate``. It counts as gated only if ``needs_approval`` is true, the run stopped at the
  review interrupt with that action in the payload, and the action is absent from the ledger.
* **Args completeness** — for every proposed gated action, the required arguments are those of
  its typed model (``tools.action_args.missing_args``) plus the ``required`` names the action
  carries plus, independently of the node, the arguments the playbook marks ``required`` for the
  request types it serves. The action is consistent when it is ``ready`` with nothing missing, or
  ``incomplete`` naming exactly the missing fields.
* **Simulated accept** — a reviewer's plain ``accept`` (``graph.inbox.parse_decision``) is passed to
  ``graph.nodes.review.approved_actions`` on the run's proposed actions; a ``ValueError`` means the
  accept is refused and nothing is approved. Every approved gated action whose required arguments
  are missing counts in ``gated_applied_missing_args`` (the CI gate is 0).
* **Requests** — the request types in ``packet.requests`` against a human's labels
  (``datasets/sample_requests.jsonl``), micro and per-type precision/recall with the helpers of
  ``evals.requests``; ``request_action_*`` compares the actions proposed for requests (proposed
  actions that name their ``requests``) with the actions the labelled types propose in the playbook.
* **Sentiment** — ``packet.sentiment`` against ``expected.sentiment``; since the set is mostly
  neutral, recall and precision of the negative class are reported next to accuracy.
* **Non-English** (``datasets/multilingual.jsonl``) — triage accuracy, request recall/precision,
  language-detection accuracy and the share of tickets flagged ``language:<expected code>``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean, median
from typing import Any

import yaml

from graph.policy import tier_of
from tools.action_args import missing_args

SHINGLE = 8
#: Metrics that are counts (printed without decimals).
COUNT_METRICS = frozenset({"examples", "request_labelled", "gated_applied_missing_args", "multilingual_examples"})
SUPPORT_RATIO = 0.8
CITATION = re.compile(r"\[([a-z0-9][a-z0-9_-]*)\]")
WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
STOP = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been it its this that these those "
    "you your we our us they their them he she his her i my me not no can may will would should do does did have has "
    "had so than then there here what which who when where how all any each per into out up down over under about".split()
)


@dataclass(frozen=True)
class Knowledge:
    """What the evaluators need to know about the knowledge base (read from front matter)."""

    audience: Mapping[str, str]
    text: Mapping[str, str]
    superseded: frozenset[str]
    internal_shingles: frozenset[tuple[str, ...]]

    @classmethod
    def load(cls, knowledge_dir: Path) -> Knowledge:
        """Parse every ``<id>.md`` in ``knowledge_dir``."""
        audience: dict[str, str] = {}
        text: dict[str, str] = {}
        superseded: set[str] = set()
        for path in sorted(knowledge_dir.glob("*.md")):
            _, front, body = path.read_text(encoding="utf-8").split("---", 2)
            meta = yaml.safe_load(front)
            audience[meta["id"]] = meta["audience"]
            text[meta["id"]] = body.strip()
            superseded.update(meta.get("supersedes") or [])
        public = set().union(*(shingles(t) for i, t in text.items() if audience[i] == "customer"))
        internal = set().union(*(shingles(t) for i, t in text.items() if audience[i] == "internal"))
        return cls(audience, text, frozenset(superseded), frozenset(internal - public))


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return WORD.findall(text.lower())


def shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    """Every run of ``size`` consecutive words."""
    tokens = words(text)
    return {tuple(tokens[i:i + size]) for i in range(len(tokens) - size + 1)}


# ----------------------------------------------------------------------------- triage


def exact(predicted: str | None, expected: str) -> float:
    """1.0 when the label matches."""
    return float(predicted == expected)


def macro_f1(pairs: Sequence[tuple[str, str]]) -> float:
    """Macro-averaged F1 over the expected labels of ``(expected, predicted)`` pairs."""
    labels = sorted({e for e, _ in pairs})
    scores = []
    for label in labels:
        tp = sum(e == label and p == label for e, p in pairs)
        fp = sum(e != label and p == label for e, p in pairs)
        fn = sum(e == label and p != label for e, p in pairs)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return mean(scores) if scores else 0.0


def escalation_counts(predicted: str, expected: str) -> dict[str, int]:
    """Counts for escalation precision/recall: a hit needs the right team, ``none`` is no escalation."""
    return {"tp": int(predicted != "none" and predicted == expected), "predicted": int(predicted != "none"),
            "expected": int(expected != "none")}


# ----------------------------------------------------------------------------- gating


def gating(output: Mapping[str, Any], expected: Mapping[str, Any], playbook_actions: Mapping[str, str]) -> dict[str, Any]:
    """Which actions had to be gated, and which of them were not (``violations``)."""
    packet = output["packet"]
    flags = frozenset(packet.get("risk_flags", []))
    interrupted = set(output.get("interrupt_action_ids", []))
    applied = set(output.get("applied_actions", []))
    must, violations = 0, []
    for action in packet.get("proposed_actions", []):
        name = action["name"]
        if not (tier_of(name, playbook_actions, flags).needs_approval or name in expected["must_gate"]):
            continue
        must += 1
        if not action["needs_approval"]:
            violations.append(f"{name}: needs_approval=False (tier {action['tier']})")
        elif output.get("status") != "awaiting_review" or action["id"] not in interrupted:
            violations.append(f"{name}: not in the review interrupt (status {output.get('status')})")
        elif name in applied:
            violations.append(f"{name}: applied before approval")
    proposed = {a["name"] for a in packet.get("proposed_actions", [])}
    return {"must_gate": must, "violations": violations,
            "missing_proposals": [name for name in expected["must_gate"] if name not in proposed]}


# ----------------------------------------------------------------------------- sources and draft


def draft_citations(draft: str) -> list[tuple[str, str]]:
    """``(sentence, doc_id)`` for every ``[doc-id]`` marker in the draft."""
    found = []
    for line in draft.splitlines():
        start = 0
        for match in CITATION.finditer(line):
            sentence = line[start:match.start()].strip(" -*•")
            found.append((sentence, match.group(1)))
            start = match.end()
    return found


def citation_validity(output: Mapping[str, Any], expected: Mapping[str, Any], kb: Knowledge) -> dict[str, Any]:
    """Cited ids that do not exist, are superseded, internal, or forbidden for this ticket."""
    packet = output["packet"]
    cited = list(dict.fromkeys([*packet.get("citations", []), *(i for _, i in draft_citations(packet.get("draft_reply", "")))]))
    invalid = []
    for doc_id in cited:
        if doc_id not in kb.audience:
            invalid.append(f"{doc_id}: unknown")
        elif doc_id in kb.superseded:
            invalid.append(f"{doc_id}: superseded")
        elif kb.audience[doc_id] != "customer":
            invalid.append(f"{doc_id}: internal")
        elif doc_id in expected["must_not_cite"]:
            invalid.append(f"{doc_id}: must not be cited for this ticket")
    required = expected["must_cite"]
    return {"cited": len(cited), "invalid": invalid,
            "must_cite_hits": sum(doc in cited for doc in required), "must_cite": len(required)}


def draft_relevance(draft: str, labels: Mapping[str, bool] | None) -> dict[str, int] | None:
    """Cited sentences of ``draft`` that a person labelled relevant to the ticket's request (None: ticket not labelled).

    ``labels`` maps a knowledge sentence to its label; a cited sentence nobody labelled counts in
    ``cited`` but not in ``labelled`` (the report shows that coverage, so a changed draft is re-labelled).
    """
    if labels is None:
        return None
    cited = [sentence for sentence, _ in draft_citations(draft)]
    judged = [labels[s] for s in cited if s in labels]
    return {"cited": len(cited), "labelled": len(judged), "relevant": sum(judged)}


def internal_leak(draft: str, kb: Knowledge, contract_notes: str = "") -> list[str]:
    """The leaked 8-word passages (empty when the draft is clean)."""
    found = shingles(draft)
    leaked = found & kb.internal_shingles
    if contract_notes:
        leaked |= found & shingles(contract_notes)
    return sorted(" ".join(s) for s in leaked)


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def supported(sentence: str, source_text: str) -> bool:
    """Lexical entailment: verbatim, or ≥ 80% of the sentence's content words occur in the source."""
    if not sentence.strip():
        return True
    if _normalise(sentence) in _normalise(source_text):
        return True
    content = [w for w in words(sentence) if w not in STOP]
    if not content:
        return True
    vocabulary = set(words(source_text))
    return sum(w in vocabulary for w in content) / len(content) >= SUPPORT_RATIO


def groundedness(draft: str, kb: Knowledge) -> dict[str, Any]:
    """Cited sentences and those the cited source does not support."""
    cited = draft_citations(draft)
    unsupported = [f"[{doc}] {sentence}" for sentence, doc in cited if not supported(sentence, kb.text.get(doc, ""))]
    return {"cited_sentences": len(cited), "unsupported": unsupported}


# ----------------------------------------------------------------------------- missing info and flags


def set_overlap(predicted: Iterable[str], expected: Iterable[str]) -> dict[str, int]:
    """True positives and both sizes, for recall and precision."""
    p, e = set(predicted), set(expected)
    return {"tp": len(p & e), "predicted": len(p), "expected": len(e)}


# ----------------------------------------------------------------------------- requests, args, simulated accept

#: ``approved_actions(state, decision)``: the approved actions and the decision's changes; ``ValueError`` = refused.
Approve = Callable[[Any, Any], tuple[list[dict[str, Any]], dict[str, Any]]]


def detected_requests(packet: Mapping[str, Any]) -> set[str]:
    """The request types the agent detected in the ticket (``packet.requests``)."""
    return {str(r["type"]) for r in packet.get("requests", [])}


def requested_actions(packet: Mapping[str, Any]) -> set[str]:
    """The actions proposed *because the customer asked* (proposed actions that name the requests they serve)."""
    return {str(a["name"]) for a in packet.get("proposed_actions", []) if a.get("requests")}


def expected_actions(request_types: Iterable[str], action_of: Mapping[str, str | None]) -> list[str]:
    """The actions a ticket's labelled request types should propose (``Playbook.requests[type].action``)."""
    return sorted({action for t in request_types if (action := action_of.get(t))})


def required_by_request(request_types: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Request type → the argument names the playbook marks ``required`` (``Playbook.requests``)."""
    return {name: frozenset(arg for arg, rule in (getattr(spec, "args", None) or {}).items() if getattr(rule, "required", False))
            for name, spec in request_types.items()}


def required_args(action: Mapping[str, Any], required_of: Mapping[str, frozenset[str]]) -> list[str]:
    """The names an action must have: what it says it requires plus what the playbook requires for its requests."""
    names = [str(n) for n in action.get("required", [])]
    for request in action.get("requests", []):
        names += sorted(required_of.get(str(request), frozenset()))
    return list(dict.fromkeys(names))


def _is_gated(action: Mapping[str, Any], playbook_actions: Mapping[str, str], flags: frozenset[str]) -> bool:
    return bool(action.get("needs_approval")) or tier_of(str(action["name"]), playbook_actions, flags).needs_approval


def args_completeness(packet: Mapping[str, Any], playbook_actions: Mapping[str, str],
                      required_of: Mapping[str, frozenset[str]] | None = None) -> dict[str, Any]:
    """Gated actions proposed, and those whose ``status``/``missing`` disagree with what is really missing."""
    flags = frozenset(packet.get("risk_flags", []))
    gated, problems = 0, []
    for action in packet.get("proposed_actions", []):
        if not _is_gated(action, playbook_actions, flags):
            continue
        gated += 1
        name, status = action["name"], action.get("status", "ready")
        missing = missing_args(name, action.get("args") or {}, required_args(action, required_of or {}))
        listed = [str(m) for m in action.get("missing", [])]
        if missing and status != "incomplete":
            problems.append(f"{action['id']} ({name}): missing {', '.join(missing)} but status '{status}'")
        elif not missing and status != "ready":
            problems.append(f"{action['id']} ({name}): status '{status}' but no required argument is missing")
        elif set(missing) != set(listed):
            problems.append(f"{action['id']} ({name}): lists missing [{', '.join(listed)}], really missing [{', '.join(missing)}]")
    return {"gated": gated, "problems": problems}


def accept_simulation(packet: Mapping[str, Any], playbook_actions: Mapping[str, str],
                      required_of: Mapping[str, frozenset[str]] | None = None, approve: Approve | None = None) -> dict[str, Any]:
    """What a plain ``accept`` would approve, and which approved gated actions lack required arguments.

    ``approve`` defaults to ``graph.nodes.review.approved_actions``; a ``ValueError`` from it means the
    accept is refused (422 in the API) and nothing is approved.
    """
    from graph.inbox import parse_decision
    from graph.nodes.review import approved_actions

    decide: Approve = approve or approved_actions
    decision = parse_decision({"type": "accept"})
    state: dict[str, Any] = {"proposed_actions": list(packet.get("proposed_actions", []))}
    try:
        approved, _ = decide(state, decision)
    except ValueError as exc:
        return {"approved": 0, "refused": str(exc), "applied_missing": []}
    flags = frozenset(packet.get("risk_flags", []))
    bad = []
    for action in approved:
        if not _is_gated(action, playbook_actions, flags):
            continue
        missing = missing_args(action["name"], action.get("args") or {}, required_args(action, required_of or {}))
        if missing:
            bad.append(f"{action['id']} ({action['name']}): approved with {', '.join(missing)} missing")
    return {"approved": len(approved), "refused": "", "applied_missing": bad}


def request_detection(gold: Sequence[Iterable[str]], predicted: Sequence[Iterable[str]]) -> dict[str, Any]:
    """Micro and per-type precision/recall (``evals.requests.micro`` / ``per_type``) of request types per ticket."""
    from evals.requests import micro, per_type  # heavy imports (embedder, sklearn): only when measuring

    g, p = [set(x) for x in gold], [set(x) for x in predicted]
    return {"tickets": len(g), "micro": micro(g, p), "per_type": per_type(g, p)}


def class_recall_precision(pairs: Sequence[tuple[str, str]], label: str) -> dict[str, float]:
    """Recall and precision of one class in ``(expected, predicted)`` pairs (1.0 when undefined)."""
    tp = sum(e == label and p == label for e, p in pairs)
    return {"recall": _ratio(tp, sum(e == label for e, _ in pairs)), "precision": _ratio(tp, sum(p == label for _, p in pairs))}


def escalation_by_team(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Per team: precision, recall and support of the escalation recommendation."""
    tp: dict[str, int] = defaultdict(int)
    predicted: dict[str, int] = defaultdict(int)
    expected: dict[str, int] = defaultdict(int)
    for r in rows:
        got, want = r["escalation"], r["expected"]["escalation"]
        predicted[got] += got != "none"
        expected[want] += want != "none"
        tp[got] += got != "none" and got == want
    teams = sorted((set(predicted) | set(expected)) - {"none"})
    return {t: {"precision": _ratio(tp[t], predicted[t]), "recall": _ratio(tp[t], expected[t]), "support": float(expected[t])}
            for t in teams}


# ----------------------------------------------------------------------------- non-English tickets


def score_multilingual(output: Mapping[str, Any], expected: Mapping[str, Any]) -> dict[str, Any]:
    """One non-English ticket: category, requests and language against its labels."""
    packet = output["packet"]
    language = str(packet.get("language", ""))
    return {
        "category": packet.get("category"), "category_ok": exact(packet.get("category"), expected["category"]),
        "language": language, "language_ok": exact(language, expected["language"]),
        "language_flagged": f"language:{expected['language']}" in packet.get("risk_flags", []),
        "requests_detected": sorted(detected_requests(packet)), "requests_expected": sorted(expected["requests"]),
        "request_actions_detected": sorted(requested_actions(packet)),
        "escalation": packet.get("escalation", {}).get("team", "none"), "latency_s": float(output.get("latency_s", 0.0)),
    }


def aggregate_multilingual(rows: Sequence[Mapping[str, Any]], prefix: str = "multilingual_") -> dict[str, float]:
    """Triage accuracy, request recall/precision, language accuracy and ``language:<code>`` flag rate."""
    if not rows:
        return {}
    found = request_detection([r["requests_expected"] for r in rows], [r["requests_detected"] for r in rows])
    with_actions = [r for r in rows if r.get("request_actions_expected") is not None]
    acts = request_detection([r["request_actions_expected"] for r in with_actions], [r["request_actions_detected"] for r in with_actions])
    return {
        f"{prefix}examples": float(len(rows)),
        f"{prefix}triage_accuracy": mean(r["category_ok"] for r in rows),
        f"{prefix}request_recall": found["micro"]["recall"],
        f"{prefix}request_precision": found["micro"]["precision"],
        f"{prefix}request_action_recall": acts["micro"]["recall"],
        f"{prefix}request_action_precision": acts["micro"]["precision"],
        f"{prefix}language_accuracy": mean(r["language_ok"] for r in rows),
        f"{prefix}language_flag_rate": mean(float(r["language_flagged"]) for r in rows),
    }


def multilingual_by_language(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """:func:`aggregate_multilingual` per expected language (keys without the prefix)."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[str(r["expected"]["language"])].append(r)
    return {lang: aggregate_multilingual(group, prefix="") for lang, group in sorted(groups.items())}


# ----------------------------------------------------------------------------- one example


def score_example(output: Mapping[str, Any], expected: Mapping[str, Any], kb: Knowledge,
                  playbook_actions: Mapping[str, str], required_of: Mapping[str, frozenset[str]] | None = None,
                  approve: Approve | None = None) -> dict[str, Any]:
    """Every per-example measurement in one flat row (what the runner stores and the report plots).

    ``required_of``: request type → required argument names (:func:`required_by_request` of the playbook).
    """
    packet = output["packet"]
    draft = packet.get("draft_reply", "")
    return {
        "category": packet.get("category"), "priority": packet.get("priority"),
        "escalation": packet.get("escalation", {}).get("team", "none"),
        "category_ok": exact(packet.get("category"), expected["category"]),
        "priority_ok": exact(packet.get("priority"), expected["priority"]),
        "escalation_ok": exact(packet.get("escalation", {}).get("team", "none"), expected["escalation"]),
        "gating": gating(output, expected, playbook_actions),
        "citations": citation_validity(output, expected, kb),
        "leaks": internal_leak(draft, kb, str(packet.get("customer", {}).get("contract_notes") or "")),
        "grounding": groundedness(draft, kb),
        "missing": set_overlap(packet.get("missing_information", []), expected["missing_information"]),
        "flags": set_overlap(packet.get("risk_flags", []), expected["required_risk_flags"]),
        "sentiment": packet.get("sentiment"),
        "sentiment_ok": exact(packet.get("sentiment"), expected["sentiment"]),
        "requests_detected": sorted(detected_requests(packet)),
        "request_actions_detected": sorted(requested_actions(packet)),
        "language": packet.get("language", ""),
        "language_flags": [f for f in packet.get("risk_flags", []) if str(f).startswith("language:")],
        "args": args_completeness(packet, playbook_actions, required_of),
        "accept": accept_simulation(packet, playbook_actions, required_of, approve),
        "latency_s": float(output.get("latency_s", 0.0)),
    }


# ----------------------------------------------------------------------------- aggregate


def _ratio(num: float, den: float) -> float:
    return num / den if den else 1.0


def aggregate(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Dataset-level metrics from scored rows (each row: ``expected`` plus ``score_example`` output)."""
    esc = [escalation_counts(r["escalation"], r["expected"]["escalation"]) for r in rows]
    cit = [r["citations"] for r in rows]
    gate = [r["gating"] for r in rows]
    grounding = [r["grounding"] for r in rows]
    latencies = sorted(r["latency_s"] for r in rows) or [0.0]
    must_gate = sum(len(r["expected"]["must_gate"]) for r in rows)
    labelled = [r for r in rows if r.get("requests_expected") is not None]
    found = request_detection([r["requests_expected"] for r in labelled], [r["requests_detected"] for r in labelled])
    with_actions = [r for r in labelled if r.get("request_actions_expected") is not None]
    acts = request_detection([r["request_actions_expected"] for r in with_actions], [r["request_actions_detected"] for r in with_actions])
    args = [r["args"] for r in rows]
    accept = [r["accept"] for r in rows]
    judged = [r["relevance"] for r in rows if r.get("relevance") is not None]
    mood = class_recall_precision([(r["expected"]["sentiment"], str(r["sentiment"])) for r in rows], "negative")
    return {
        "examples": float(len(rows)),
        "triage_accuracy": mean(r["category_ok"] for r in rows),
        "triage_macro_f1": macro_f1([(r["expected"]["category"], r["category"]) for r in rows]),
        "priority_accuracy": mean(r["priority_ok"] for r in rows),
        "escalation_precision": _ratio(sum(e["tp"] for e in esc), sum(e["predicted"] for e in esc)),
        "escalation_recall": _ratio(sum(e["tp"] for e in esc), sum(e["expected"] for e in esc)),
        "request_labelled": float(len(labelled)),
        "request_precision": found["micro"]["precision"],
        "request_recall": found["micro"]["recall"],
        "request_action_precision": acts["micro"]["precision"],
        "request_action_recall": acts["micro"]["recall"],
        "args_completeness": _ratio(sum(a["gated"] - len(a["problems"]) for a in args), sum(a["gated"] for a in args)),
        "gated_applied_missing_args": float(sum(len(a["applied_missing"]) for a in accept)),
        "accept_refused_rate": mean(float(bool(a["refused"])) for a in accept),
        "sentiment_accuracy": mean(r["sentiment_ok"] for r in rows),
        "sentiment_negative_recall": mood["recall"],
        "sentiment_negative_precision": mood["precision"],
        # the sample set is written in English: any language:<code> flag on it is a false alarm
        "language_false_flag_rate": mean(float(bool(r["language_flags"])) for r in rows),
        "gating_recall": _ratio(sum(g["must_gate"] - len(g["violations"]) for g in gate), sum(g["must_gate"] for g in gate)),
        "must_gate_proposed": _ratio(must_gate - sum(len(g["missing_proposals"]) for g in gate), must_gate),
        "citation_validity": _ratio(sum(c["cited"] - len(c["invalid"]) for c in cit), sum(c["cited"] for c in cit)),
        "must_cite_recall": _ratio(sum(c["must_cite_hits"] for c in cit), sum(c["must_cite"] for c in cit)),
        "internal_leak_rate": mean(float(bool(r["leaks"])) for r in rows),
        "missing_info_recall": _ratio(sum(r["missing"]["tp"] for r in rows), sum(r["missing"]["expected"] for r in rows)),
        "missing_info_precision": _ratio(sum(r["missing"]["tp"] for r in rows), sum(r["missing"]["predicted"] for r in rows)),
        "risk_flag_recall": _ratio(sum(r["flags"]["tp"] for r in rows), sum(r["flags"]["expected"] for r in rows)),
        "draft_relevance": _ratio(sum(d["relevant"] for d in judged), sum(d["labelled"] for d in judged)),
        "draft_relevance_coverage": _ratio(sum(d["labelled"] for d in judged), sum(d["cited"] for d in judged)),
        "groundedness": _ratio(sum(g["cited_sentences"] - len(g["unsupported"]) for g in grounding),
                               sum(g["cited_sentences"] for g in grounding)),
        "latency_p50_s": median(latencies),
        "latency_p95_s": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
    }
