"""Draft: the category's macro, filled with customer context and cited facts from current sources.

Only customer-facing sources are quoted; internal documents shape the packet but never
the reply. Every factual sentence carries its source id. Reviewer comments (``response``)
become extra retrieval queries, so a redraft adds grounded facts, not the comment itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.packet import sanitize_subject
from graph.state import State
from prompts import reply as T
from tools.engine import Engine, ticket_text


def _sentences(text: str, limit: int) -> list[str]:
    parts = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]
    return parts[:limit]


def _macro(engine: Engine, category: str, values: dict[str, str]) -> tuple[str, list[str]]:
    doc = engine.data.documents.get(f"macro-{category}")
    if doc is None:
        doc = next((d for d in engine.data.documents.values() if d.kind == "macro" and category in d.categories), None)
    if doc is None:
        return "", []
    body = "\n\n".join(doc.paragraphs)
    return body.format_map(defaultdict(str, values)).strip(), list(doc.requires)


def _facts(engine: Engine, state: State, threshold: float) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    customer_sources = [s for s in state.get("sources", []) if s["audience"] == "customer"]
    for source in customer_sources[:2]:
        # A second source must be nearly as relevant as the first to earn a place in the reply.
        if source["relevance"] < max(threshold * 0.9, customer_sources[0]["relevance"] * 0.85):
            continue
        facts.extend((sentence, source["id"]) for sentence in _sentences(source["passage"], 2))
    for note in state.get("review_notes", []):
        note_vector = engine.embed(note)
        hits, _ = engine.kb.search(note, note_vector, k=1, audience="customer")
        if hits:
            used = {sentence for sentence, _ in facts}
            facts.extend((s, hits[0].doc.id) for s in engine.kb.best_sentences(hits[0].doc, note_vector, 2, used))
    unique: dict[str, tuple[str, str]] = {}
    for sentence, source_id in facts:
        unique.setdefault(sentence, (sentence, source_id))
    return list(unique.values())


def offline_draft(engine: Engine, state: State, tone: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The deterministic reply, and its frame (greeting, questions, closing) for the model's text."""
    ticket, customer, triage = dict(state["ticket"]), state.get("customer", {}), state["triage"]
    first_name = (customer.get("contact_name") or "there").split()[0]
    values = {"first_name": first_name, "company": customer.get("name", "your team"), "plan": customer.get("plan", ""),
              "account_owner": customer.get("account_owner") or "your account manager"}
    macro_text, requires = _macro(engine, triage["category"], values)
    requires = requires or list(engine.playbook.category(triage["category"]).get("requires", []))
    missing = engine.playbook.missing_info(requires, ticket_text(ticket) + " " + str(ticket.get("email", "")))
    facts = _facts(engine, state, state.get("retrieval", {}).get("threshold", 0.35))
    greeting = T.GREETING[tone].format(first_name=first_name)
    parts = [macro_text] if macro_text else []
    if facts:
        parts.append(T.FACTS_INTRO + "\n" + "\n".join(T.FACT_LINE.format(sentence=s, source_id=i) for s, i in facts))
    else:
        parts.append(T.NO_SOURCE_LINE)
    tail = [T.MISSING_INFO_INTRO + "\n" + "\n".join(T.MISSING_INFO_LINE.format(question=m["question"]) for m in missing)] if missing else []
    tail.append(T.CLOSING[tone].format(sign_off=engine.playbook.sign_off))
    cited = list(dict.fromkeys(i for _, i in facts))
    reply = {
        "subject": sanitize_subject(T.REPLY_SUBJECT.format(subject=ticket["subject"])),
        "body": "\n\n".join([greeting, *parts, *tail]),
        "citations": cited,
        "missing_info": missing,
        "revision": len(state.get("review_notes", [])),
    }
    return reply, {"tone": tone, "first_name": first_name, "greeting": greeting, "tail": tail}


def draft(state: State, runtime: Runtime[Context], engine: Engine) -> dict[str, Any]:
    """Write the customer reply with citations and the questions for missing information.

    With ``engine="llm"`` the model rewrites the body between greeting and questions
    (validated, else this offline draft stays and ``llm_fallback`` is set).
    """
    tone = runtime.context.tone if runtime.context.tone in T.GREETING else "friendly"
    reply, frame = offline_draft(engine, state, tone)
    if runtime.context.engine == "llm":
        from graph.nodes.llm import write_reply  # the model stack loads only in llm mode

        reply = write_reply(engine, dict(state), reply, frame)
    return {"status": "drafted", "draft": reply}
