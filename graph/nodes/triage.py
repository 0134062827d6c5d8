"""Triage: category (trained classifier), priority and SLA (playbook × customer), sentiment, owner."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from graph.context import Context, settings_of
from graph.state import RESET_NOTES, Message, State
from tools.engine import Engine, ticket_text
from tools.language import detect_language
from tools.requests import request_actions
from tools.sentiment import SentimentModel
from tools.signals import injection_attempt


def customer_facts(engine: Any, ticket: dict[str, Any]) -> dict[str, Any] | None:
    """The customer record of a ticket, by id or by the sender's email domain."""
    if ticket.get("customer_id"):
        return engine.crm.get(ticket["customer_id"])  # type: ignore[no-any-return]
    if ticket.get("email"):
        return engine.crm.find_by_email(ticket["email"])  # type: ignore[no-any-return]
    return None


#: Below this the language guess is not trusted enough to re-route a ticket.
MIN_LANGUAGE_CONFIDENCE = 0.8


def _sentiment(text: str) -> tuple[str, float, float]:
    """Label, its calibrated probability, and a signed score in [-1, 1] (P(positive) - P(negative))."""
    model = SentimentModel.load()
    proba = model.probabilities([text])[0]
    by_label = dict(zip(model.classes, (float(p) for p in proba), strict=True))
    label = max(by_label, key=by_label.__getitem__)
    return label, by_label[label], by_label.get("positive", 0.0) - by_label.get("negative", 0.0)


def _language_route(engine: Engine, language: str, confidence: float, owner: str) -> tuple[str, str]:
    """The owner and a packet note when the customer wrote in a language the replies are not written in.

    The playbook's ``languages`` (optional): ``default`` (the drafts' language, ``en``), ``supported``
    (languages the team replies in; macros exist for them) and ``queue`` (who takes the others).
    """
    languages = engine.playbook.raw.get("languages") or {}
    default = str(languages.get("default", "en"))
    if language == default or confidence < MIN_LANGUAGE_CONFIDENCE or language in (languages.get("supported") or []):
        return owner, ""
    queue = str(languages.get("queue") or owner)
    return queue, (f"The customer wrote in '{language}'; the draft is in '{default}' (no macro in that language): "
                   f"have it translated or answered by {queue}.")


def new_round(state: State) -> dict[str, Any]:
    """What a new round (the first packet, or one after a customer message) starts from.

    The thread's first message is the ticket; action ids continue after the previous round's; the previous
    packet's draft, missing information and flags are kept to show what changed; redraft comments are cleared.
    """
    ticket = dict(state["ticket"])
    first: Message = {"id": f"{ticket['id']}#1", "author": "customer", "body": str(ticket.get("body", "")), "at": ""}
    before = state.get("packet") or {}
    numbers = [int(m.group(1)) for a in state.get("proposed_actions", []) if (m := _NUMBER.match(str(a.get("id"))))]
    return {
        "messages": [] if state.get("messages") else [first],
        "action_base": max(numbers, default=0),
        "previous": {"draft": before.get("draft_reply", ""), "missing": before.get("missing_information", []),
                     "flags": before.get("risk_flags", []), "round": int((state.get("previous") or {}).get("round", 1)) + 1}
        if before else {},
        "review_notes": [RESET_NOTES],
    }


_NUMBER = re.compile(r"^a(\d+)-")


def ticket_vector(state: State, engine: Engine) -> np.ndarray:
    """The ticket's unit embedding: triage's of this invocation, else the same vector embedded again (not checkpointed)."""
    vector = state.get("ticket_vector")
    if vector is None:
        return engine.embed(ticket_text(dict(state["ticket"])))
    return np.asarray(vector, dtype=np.float32)


def triage(state: State, runtime: Runtime[Context], engine: Engine) -> dict[str, Any]:
    """Classify the ticket and set priority, SLA risk, sentiment and the suggested owner."""
    text = ticket_text(dict(state["ticket"]))
    vector = engine.embed(text)
    proba = engine.classifier.predict_proba([text], vector[None, :])[0]
    order = proba.argsort()[::-1]
    classes = engine.classifier.classes_
    category, confidence = classes[order[0]], float(proba[order[0]])
    threshold = runtime.context.min_triage_confidence or float(engine.playbook.raw.get("min_triage_confidence", 0.55))
    extra: dict[str, Any] = {}
    if runtime.context.engine == "llm":
        from graph.nodes.llm import analyze  # the model stack loads only in llm mode

        llm = analyze(dict(state["ticket"]), [str(c) for c in classes], category, confidence)
        suggested = (llm["analysis"] or {}).get("category")
        # The classifier decides; the model's suggestion counts only when the classifier is unsure.
        if confidence < threshold and suggested and suggested != category:
            extra = {"classifier_category": category, "category_source": "model"}
            category = suggested
        extra["llm"] = llm
    mood, mood_confidence, mood_score = _sentiment(text)
    customer = customer_facts(engine, dict(state["ticket"])) or {}
    language, language_confidence = detect_language(text)
    found = engine.corpus.requests.detect(text, vector) if engine.corpus.requests is not None else []
    wanted = request_actions(found, engine.playbook, dict(state["ticket"]), customer, text)
    owner = engine.playbook.category(category).get("owner", "support-tier1")
    owner, language_note = _language_route(engine, language, language_confidence, owner)
    plan = customer.get("plan", engine.playbook.default_plan)
    facts = {"category": category, "plan": plan, "vip": bool(customer.get("vip")), "sentiment": mood}
    priority, rules = engine.playbook.priority(category, facts, text)
    sla = engine.playbook.sla_hours(plan, priority)
    return {
        **new_round(state),
        "workspace": engine.workspace,
        "settings": state.get("settings") or settings_of(runtime.context),
        "ticket_vector": vector.tolist(),
        "status": "triaged",
        "triage": {
            "category": category,
            "confidence": round(confidence, 3),
            "confident": confidence >= threshold,
            "mode": engine.corpus.triage_mode,
            "model_version": str(getattr(engine.classifier, "version", "base")),
            "setup_notes": list(engine.corpus.notes),
            "alternatives": [{"category": classes[i], "confidence": round(float(proba[i]), 3)} for i in order[1:3]],
            "priority": priority,
            "priority_rules": rules,
            "sentiment": mood,
            "sentiment_score": round(mood_score, 2),
            "sentiment_confidence": round(mood_confidence, 3),
            "language": language,
            "language_confidence": language_confidence,
            "sla_hours": sla,
            "sla_at_risk": engine.playbook.sla_at_risk(sla),
            "owner": owner,
            "language_note": language_note,
            "requests": [r.model_dump() for r in found],
            "request_actions": [r.model_dump() for r in wanted],
            "injection": injection_attempt(text),
            **extra,
        },
    }
