"""Draft: the category's macro, filled with customer context and cited facts from current sources.

Only customer-facing sources are quoted; internal documents shape the packet but never
the reply. Every factual sentence carries its source id. Reviewer comments (``response``)
become extra retrieval queries, so a redraft adds grounded facts, not the comment itself.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any, cast

import numpy as np
from langgraph.runtime import Runtime

from graph.context import Context
from graph.nodes.triage import ticket_vector
from graph.packet import sanitize_subject
from graph.state import State
from prompts import reply as T
from tools.engine import Engine, ticket_text

#: Placeholders a macro may use, and what to say when the value is unknown (None: drop it with its commas).
FALLBACKS: dict[str, str | None] = {"first_name": "there", "company": "your team", "plan": None, "account_owner": None}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
#: A fact worth quoting is a sentence: at least this many words, ending like one, not a heading.
MIN_FACT_WORDS = 4
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?$")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def fill(template: str, values: dict[str, str]) -> str:
    """Render ``{placeholder}`` fields: known values once; unknown ones fall back or vanish with their commas.

    "Your account manager, {account_owner}, will be in touch" with no owner becomes "Your account
    manager will be in touch" — never an empty slot or the same words twice.
    """
    def known(name: str) -> str | None:
        value = (values.get(name) or "").strip()
        return value or FALLBACKS.get(name)

    text = re.sub(r",\s*\{([a-z_]+)\}\s*,", lambda m: f", {known(m.group(1))}," if known(m.group(1)) else "", template)
    text = re.sub(r"\s*\(\{([a-z_]+)\}\)", lambda m: f" ({known(m.group(1))})" if known(m.group(1)) else "", text)
    text = _PLACEHOLDER.sub(lambda m: known(m.group(1)) or "", text)
    text = re.sub(r"\b(\w+(?: \w+){0,3}), \1\b", r"\1", text)  # "your account manager, your account manager"
    return re.sub(r"[ \t]{2,}", " ", re.sub(r"\s+([,.;:!?])", r"\1", text)).strip()


def _macros(engine: Engine, category: str, request_types: list[str], values: dict[str, str]) -> tuple[str, list[str]]:
    """The macro of each request type the playbook has one for (composed), else the category's macro."""
    docs = engine.data.documents
    chosen = [docs[f"macro-{t}"] for t in request_types if f"macro-{t}" in docs]
    if not chosen:
        doc = docs.get(f"macro-{category}") or next(
            (d for d in docs.values() if d.kind == "macro" and category in d.categories), None)
        chosen = [doc] if doc is not None else []
    chosen = list({d.id: d for d in chosen}.values())
    text = "\n\n".join(fill("\n\n".join(d.paragraphs), values) for d in chosen)
    return text.strip(), [r for d in chosen for r in d.requires]


def is_fact(sentence: str) -> bool:
    """A quotable sentence: complete, at least ``MIN_FACT_WORDS`` words, not a heading, list stub or placeholder."""
    words = sentence.split()
    return (len(words) >= MIN_FACT_WORDS and bool(_SENTENCE_END.search(sentence)) and "{" not in sentence
            and not sentence.rstrip().endswith(":") and not sentence.lstrip().startswith("#"))


def _sentences_of(text: str) -> list[str]:
    lines = [line.strip(" -*\t") for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [s.strip() for line in lines for s in re.split(r"(?<=[.!?])\s+", line) if s.strip()]


_VECTORS: OrderedDict[tuple[int, str], np.ndarray] = OrderedDict()
_VECTORS_MAX = 50_000
_VECTORS_LOCK = threading.Lock()


def _sentence_vectors(engine: Engine, sentences: list[str]) -> np.ndarray:
    """Embeddings of knowledge sentences, cached per embedder: the same passages answer many tickets."""
    owner = id(engine.embedder)
    with _VECTORS_LOCK:
        known = {s: _VECTORS[(owner, s)] for s in sentences if (owner, s) in _VECTORS}
    todo = [s for s in dict.fromkeys(sentences) if s not in known]
    if todo:
        known.update(zip(todo, engine.embedder.embed_array(todo), strict=True))
        with _VECTORS_LOCK:
            for sentence in todo:
                _VECTORS[(owner, sentence)] = known[sentence]
            while len(_VECTORS) > _VECTORS_MAX:
                _VECTORS.popitem(last=False)
    return np.stack([known[s] for s in sentences])


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _facts(engine: Engine, state: State, threshold: float) -> list[tuple[str, str]]:
    """The sentences of the retrieved customer-facing sources that answer what the ticket asks.

    Ranked by embedding similarity to the requests' evidence (else the ticket) plus lexical overlap
    with the ticket; whole sentences only, each once; nothing when no sentence is close enough —
    the draft then says a specialist will follow up instead of padding with unrelated facts.
    """
    ticket = dict(state["ticket"])
    # The ticket's vector (embedded once, in triage) for meaning; the requests' own words for focus.
    focus_vector = ticket_vector(state, engine)
    evidence = _content_words(" ".join(str(r["evidence"]) for r in state["triage"].get("requests", [])))
    asked = _content_words(ticket_text(ticket))
    customer_sources = [s for s in state.get("sources", []) if s["audience"] == "customer"]
    candidates: list[tuple[str, str]] = []
    ranks: list[int] = []
    for rank, source in enumerate(customer_sources[:MAX_FACT_SOURCES]):
        if source["relevance"] < threshold * 0.9:
            continue
        for sentence in _sentences_of(source["passage"])[:MAX_SENTENCES_PER_SOURCE]:
            if is_fact(sentence) and sentence not in {c for c, _ in candidates}:
                candidates.append((sentence, source["id"]))
                ranks.append(rank)
    facts: list[tuple[str, str]] = []
    if candidates:
        vectors = _sentence_vectors(engine, [c for c, _ in candidates])
        similarity = vectors @ focus_vector
        words = [_content_words(c) for c, _ in candidates]
        overlap = [(len(w & asked) + 2 * len(w & evidence)) / max(1, 3 * len(w)) for w in words]
        # Retrieval ranked the whole passages with every signal (hybrid, authority, freshness): a sentence of
        # a lower-ranked source must be clearly closer to the ticket to displace one of the best source.
        score = similarity + 0.5 * np.asarray(overlap) - SOURCE_RANK_PENALTY * np.asarray(ranks)
        best = float(score.max())
        for i in np.argsort(-score)[:MAX_FACTS]:
            if similarity[i] >= MIN_FACT_SIMILARITY and score[i] >= best - FACT_SCORE_MARGIN:
                facts.append(candidates[i])
    for note in state.get("review_notes", []):
        note_vector = engine.embed(note)
        hits, _ = engine.kb.search(note, note_vector, k=1, audience="customer")
        if hits:
            used = {sentence for sentence, _ in facts}
            facts.extend((s, hits[0].doc.id) for s in engine.kb.best_sentences(hits[0].doc, note_vector, 2, used) if is_fact(s))
    return list({sentence: (sentence, source_id) for sentence, source_id in reversed(facts)}.values())[::-1]


#: At most this many quoted facts, each at least this similar to what the customer asks.
MAX_FACTS = 3
MIN_FACT_SIMILARITY = 0.3
#: Candidate sentences come from the best sources only (their vectors are cached once embedded).
MAX_FACT_SOURCES = 3
MAX_SENTENCES_PER_SOURCE = 10
#: Score taken off a candidate sentence per rank of its source below the best one.
SOURCE_RANK_PENALTY = 0.2
#: A fact scores at most this much below the best one (the rest would pad the reply).
FACT_SCORE_MARGIN = 0.2


#: What a reviewer's comment may ask to mention, and where the value comes from (offline redraft).
_ASKED = {"invoice": re.compile(r"\binvoice|\binv\b", re.I), "amount": re.compile(r"\bamount|\bhow much|\bsum\b", re.I),
          "plan": re.compile(r"\bplan\b", re.I), "account_owner": re.compile(r"account (manager|owner)|\bcsm\b", re.I)}
_LABEL = {"invoice": "invoice", "amount": "amount", "plan": "plan", "account_owner": "account manager"}


def comment_details(state: State, notes: list[str]) -> list[str]:
    """Details of this ticket that the reviewer's comments ask the reply to mention ("mention the invoice number").

    Taken from the proposed actions' arguments, the ticket and the customer record — never from the comment's
    own text, so a comment cannot make the draft state a value nobody supplied.
    """
    if not notes:
        return []
    args: dict[str, Any] = {}
    for action in state.get("proposed_actions", []) + [dict(a) for a in state["triage"].get("request_actions", [])]:
        for key, value in (action.get("args") or {}).items():
            args.setdefault(key, value)
    ticket, customer = dict(state["ticket"]), state.get("customer", {})
    found = {
        "invoice": args.get("invoice") or _first_invoice(ticket_text(ticket)),
        "amount": f"{args['amount']} {args.get('currency') or ''}".strip() if args.get("amount") else None,
        "plan": customer.get("plan"), "account_owner": customer.get("account_owner"),
    }
    comment = " ".join(notes)
    return [f"{_LABEL[key]} {found[key]}" for key, pattern in _ASKED.items() if pattern.search(comment) and found[key]]


def _first_invoice(text: str) -> str | None:
    from tools.action_args import DEFAULT_INVOICE

    match = re.search(DEFAULT_INVOICE, text, re.I)
    return None if match is None else (match.group("id") or match.group(0)).strip()


def offline_draft(engine: Engine, state: State, tone: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The deterministic reply, and its frame (greeting, questions, closing) for the model's text."""
    ticket, customer, triage = dict(state["ticket"]), state.get("customer", {}), state["triage"]
    first_name = (customer.get("contact_name") or "there").split()[0]
    values = {"first_name": first_name, "company": customer.get("name", ""), "plan": customer.get("plan", ""),
              "account_owner": customer.get("account_owner") or ""}
    request_types = [r["type"] for r in triage.get("requests", [])]
    macro_text, requires = _macros(engine, triage["category"], request_types, values)
    requires = requires or list(engine.playbook.category(triage["category"]).get("requires", []))
    missing = engine.playbook.missing_info(requires, ticket_text(ticket) + " " + str(ticket.get("email", "")))
    missing += _action_questions(engine, triage, missing)
    facts = _facts(engine, state, state.get("retrieval", {}).get("threshold", 0.35))
    greeting = T.GREETING[tone].format(first_name=first_name)
    parts = [macro_text] if macro_text else []
    details = comment_details(state, list(state.get("review_notes", [])))
    if details:
        parts.append(T.DETAILS_LINE.format(details="; ".join(details)))
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
        "answered": bool(facts),
        "revision": len(state.get("review_notes", [])),
    }
    return reply, {"tone": tone, "first_name": first_name, "greeting": greeting, "tail": tail}


#: Argument names of actions and the playbook's required-information keys that ask for the same thing.
SAME_AS = {"invoice": "invoice_number", "workspace": "workspace_url", "reason": "refund_reason"}


def _action_questions(engine: Engine, triage: dict[str, Any], already: list[dict[str, str]]) -> list[dict[str, str]]:
    """Questions for what the requested actions still lack (amount, invoice …), unless already asked."""
    asked = {m["key"] for m in already} | {m["question"] for m in already}
    out = []
    for wanted in triage.get("request_actions", []):
        rules = [engine.playbook.requests[t].args for t in wanted.get("requests", []) if t in engine.playbook.requests]
        for field in wanted.get("missing", []):
            ask = next((r[field].ask for r in rules if field in r and r[field].ask), None)
            question = ask or f"Could you tell us the {field.replace('_', ' ')}?"
            if SAME_AS.get(field, field) in asked or question in asked:
                continue
            asked |= {SAME_AS.get(field, field), question}
            out.append({"key": f"{wanted['name']}.{field}", "label": field.replace("_", " "), "question": question})
    return out


def draft(state: State, runtime: Runtime[Context], engine: Engine) -> dict[str, Any]:
    """Write the customer reply with citations and the questions for missing information.

    With ``engine="llm"`` the model rewrites the body between greeting and questions
    (validated, else this offline draft stays and ``llm_fallback`` is set).
    """
    tone = runtime.context.tone if runtime.context.tone in T.GREETING else "friendly"
    # A later invocation (a redraft) has no ticket vector (it is not checkpointed): embed it once, for this node
    # and the ones after it.
    restored = {} if state.get("ticket_vector") is not None else {"ticket_vector": ticket_vector(state, engine).tolist()}
    if restored:
        state = cast(State, {**state, **restored})
    reply, frame = offline_draft(engine, state, tone)
    if runtime.context.engine == "llm":
        from graph.nodes.llm import write_reply  # the model stack loads only in llm mode

        reply = write_reply(engine, dict(state), reply, frame)
    return {"status": "drafted", "draft": reply, **restored}
