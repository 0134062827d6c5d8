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
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean, median
from typing import Any

import yaml

from graph.policy import tier_of

SHINGLE = 8
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


# ----------------------------------------------------------------------------- one example


def score_example(output: Mapping[str, Any], expected: Mapping[str, Any], kb: Knowledge,
                  playbook_actions: Mapping[str, str]) -> dict[str, Any]:
    """Every per-example measurement in one flat row (what the runner stores and the report plots)."""
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
    return {
        "examples": float(len(rows)),
        "triage_accuracy": mean(r["category_ok"] for r in rows),
        "triage_macro_f1": macro_f1([(r["expected"]["category"], r["category"]) for r in rows]),
        "priority_accuracy": mean(r["priority_ok"] for r in rows),
        "escalation_precision": _ratio(sum(e["tp"] for e in esc), sum(e["predicted"] for e in esc)),
        "escalation_recall": _ratio(sum(e["tp"] for e in esc), sum(e["expected"] for e in esc)),
        "gating_recall": _ratio(sum(g["must_gate"] - len(g["violations"]) for g in gate), sum(g["must_gate"] for g in gate)),
        "must_gate_proposed": _ratio(must_gate - sum(len(g["missing_proposals"]) for g in gate), must_gate),
        "citation_validity": _ratio(sum(c["cited"] - len(c["invalid"]) for c in cit), sum(c["cited"] for c in cit)),
        "must_cite_recall": _ratio(sum(c["must_cite_hits"] for c in cit), sum(c["must_cite"] for c in cit)),
        "internal_leak_rate": mean(float(bool(r["leaks"])) for r in rows),
        "missing_info_recall": _ratio(sum(r["missing"]["tp"] for r in rows), sum(r["missing"]["expected"] for r in rows)),
        "missing_info_precision": _ratio(sum(r["missing"]["tp"] for r in rows), sum(r["missing"]["predicted"] for r in rows)),
        "risk_flag_recall": _ratio(sum(r["flags"]["tp"] for r in rows), sum(r["flags"]["expected"] for r in rows)),
        "groundedness": _ratio(sum(g["cited_sentences"] - len(g["unsupported"]) for g in grounding),
                               sum(g["cited_sentences"] for g in grounding)),
        "latency_p50_s": median(latencies),
        "latency_p95_s": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
    }
