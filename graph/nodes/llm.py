"""The model's two calls per packet, each validated: analysis (from triage) and the reply body (from draft).

The model only writes text. The classifier decides the category unless its confidence is
below the threshold (then the model's suggestion is used and marked). Tiers, flags and
review stay with code. A rejected answer is retried once with the validator's words; a
second rejection, a server error or a timeout falls back to the offline draft, and
``assess_risk`` raises the ``llm_fallback`` flag from ``draft["llm_fallback"]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import httpx
import openai
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError, create_model

from prompts import analysis as PA
from prompts import draft_llm as PD
from tools.engine import Engine
from tools.models import ModelUnavailable, get_chat_model
from tools.validators import citations_of, validate_reply

#: What a dead, slow or confused server raises; anything else is a bug and propagates.
MODEL_ERRORS = (openai.OpenAIError, httpx.HTTPError, ModelUnavailable, OutputParserException, ValidationError)


@dataclass
class Outcome:
    """One validated model step: the accepted answer (or None), every attempt, and why it fell back."""

    value: Any = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    fallback: str | None = None
    unavailable: bool = False


def ask(model: BaseChatModel | None, name: str, schema: type[BaseModel], messages: Sequence[AnyMessage],
        validate: Callable[[Any], list[str]], retry: str) -> Outcome:
    """Call ``model`` for ``schema``; on rejection retry once with the problems; never raise on model failure."""
    if model is None:
        return Outcome(fallback=f"{name}: no model configured (SUPPORT_LLM=off)", unavailable=True)
    runnable = model.with_structured_output(schema, method="json_schema", include_raw=True)
    history, outcome = list(messages), Outcome()
    for attempt in (1, 2):
        started = time.perf_counter()
        out: Any
        try:
            out = runnable.invoke(history)
        except openai.LengthFinishReasonError as exc:  # the answer hit max_tokens: a rejection, not an outage
            used = exc.completion.usage
            out = {"raw": AIMessage(content="", usage_metadata={
                "input_tokens": used.prompt_tokens if used else 0, "output_tokens": used.completion_tokens if used else 0,
                "total_tokens": used.total_tokens if used else 0}), "parsed": None,
                   "parsing_error": "cut off at the token limit; answer shorter"}
        except MODEL_ERRORS as exc:
            outcome.calls.append({"call": name, "attempt": attempt, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:300],
                                  "latency_ms": round(1000 * (time.perf_counter() - started)), "input_tokens": 0, "output_tokens": 0})
            outcome.fallback, outcome.unavailable = f"{name}: model error ({type(exc).__name__})", True
            return outcome
        raw, parsed = out["raw"], out["parsed"]
        usage = getattr(raw, "usage_metadata", None) or {}
        problems = [f"The answer did not match the JSON schema ({out['parsing_error']})."] if parsed is None else validate(parsed)
        outcome.calls.append({"call": name, "attempt": attempt, "ok": not problems, "problems": problems,
                              "latency_ms": round(1000 * (time.perf_counter() - started)),
                              "input_tokens": int(usage.get("input_tokens", 0)), "output_tokens": int(usage.get("output_tokens", 0))})
        if not problems:
            outcome.value = parsed
            return outcome
        history = [*history, AIMessage(content=str(getattr(raw, "content", ""))),
                   HumanMessage(content=retry.format(problems=" ".join(problems)))]
    outcome.fallback = f"{name}: rejected twice by the validators"
    return outcome


def analysis_schema(categories: Sequence[str]) -> type[BaseModel]:
    """Structured output of call 1; the category is constrained to the known ones."""
    sentiment: Any = Literal["positive", "neutral", "negative"]
    category: Any = Literal[tuple(categories)]
    return create_model(
        "TicketAnalysis",
        summary=(str, Field(min_length=1, max_length=200, description="One sentence for the reviewer.")),
        sentiment=(sentiment, ...),
        missing_information=(list[Annotated[str, Field(max_length=80)]], Field(max_length=3,
                                                                              description="What the customer still has to tell us.")),
        category=(category, Field(description="The best category from the list.")),
    )


def analyze(ticket: dict[str, Any], categories: Sequence[str], category: str, confidence: float) -> dict[str, Any]:
    """Call 1: summary, sentiment, missing information and a category suggestion for the reviewer."""
    messages: list[AnyMessage] = [
        SystemMessage(content=PA.ANALYSIS_SYSTEM),
        HumanMessage(content=PA.ANALYSIS_USER.format(subject=ticket.get("subject", ""), body=str(ticket.get("body", ""))[:1500],
                                                     categories=", ".join(categories), category=category,
                                                     confidence=f"{confidence:.2f}")),
    ]

    def validate(answer: Any) -> list[str]:
        problems = [] if answer.summary.strip() else ["The summary is empty."]
        return problems + ([] if answer.category in categories else [f"'{answer.category}' is not one of: {', '.join(categories)}."])

    try:
        model = get_chat_model()
    except ModelUnavailable as exc:
        return {"analysis": None, "calls": [], "fallback": f"analysis: {exc}", "unavailable": True}
    outcome = ask(model, "analysis", analysis_schema(categories), messages, validate, PA.ANALYSIS_RETRY)
    return {"analysis": outcome.value.model_dump() if outcome.value is not None else None, "calls": outcome.calls,
            "fallback": outcome.fallback, "unavailable": outcome.unavailable}


def draft_schema(source_ids: Sequence[str]) -> type[BaseModel]:
    """Structured output of call 2: sentences, each citing one allowed source id (or none)."""
    source_type: Any = (Literal[tuple(source_ids)] | None) if source_ids else None
    # Bounded so that a whole answer fits in max_tokens (llama.cpp turns the limits into its grammar).
    sentence = create_model("ReplySentence", text=(str, Field(min_length=1, max_length=160)),
                            source=(source_type, Field(default=None, description="Id of the source this sentence uses.")))
    sentences: Any = list[sentence]
    return create_model("ReplyBody", sentences=(sentences, Field(min_length=1, max_length=3)))


def render(answer: Any) -> str:
    """The reply body with inline ``[doc-id]`` citations."""
    parts = [f"{s.text.strip()} [{s.source}]" if s.source and f"[{s.source}]" not in s.text else s.text.strip()
             for s in answer.sentences]
    return " ".join(parts)


def write_reply(engine: Engine, state: dict[str, Any], offline: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
    """Call 2: the reply body, validated; returns the draft to use (the model's, or ``offline`` on fallback).

    ``frame`` holds what code writes around the model's text: ``tone``, ``first_name``,
    ``greeting`` and ``tail`` (missing-information questions, closing).
    """
    ticket, customer, triage = state["ticket"], state.get("customer", {}), state["triage"]
    prior = triage.get("llm") or {"calls": [], "fallback": "analysis: not run", "unavailable": False}
    allowed = list(dict.fromkeys([s["id"] for s in state.get("sources", []) if s["audience"] == "customer"] + offline["citations"]))
    sources = [s for s in state.get("sources", []) if s["id"] in allowed]
    approved = {a["name"] for a in state.get("approved_actions", [])}
    superseded = set(engine.kb.superseded_by)
    outcome = Outcome(fallback="draft: skipped, the model was unavailable for the analysis", unavailable=True)
    if not prior.get("unavailable"):
        messages: list[AnyMessage] = [
            SystemMessage(content=PD.DRAFT_SYSTEM.format(company_name=engine.playbook.raw.get("company", "us"), tone=frame["tone"])),
            HumanMessage(content=PD.DRAFT_USER.format(
                first_name=frame["first_name"], plan=customer.get("plan", "unknown"), subject=ticket.get("subject", ""),
                body=str(ticket.get("body", ""))[:1500], summary=(prior.get("analysis") or {}).get("summary", "-"),
                sources="\n".join(PD.SOURCE_LINE.format(source_id=s["id"], passage=s["passage"][:400]) for s in sources)
                or PD.NO_SOURCES) + (PD.REVIEWER_NOTES.format(notes="\n".join(f"- {n}" for n in state.get("review_notes", [])))
                                     if state.get("review_notes") else "")),
        ]

        def validate(answer: Any) -> list[str]:
            return validate_reply(render(answer), retrieved=allowed, documents=engine.data.documents, superseded=superseded,
                                  allow_money=bool(approved & {"issue_refund", "issue_credit"}))

        try:
            outcome = ask(get_chat_model(), "draft", draft_schema(allowed), messages, validate, PD.DRAFT_RETRY)
        except ModelUnavailable as exc:
            outcome = Outcome(fallback=f"draft: {exc}", unavailable=True)
    calls = [*prior.get("calls", []), *outcome.calls]
    usage = {"model_calls": len(calls), "input_tokens": sum(c["input_tokens"] for c in calls),
             "output_tokens": sum(c["output_tokens"] for c in calls), "latency_ms": sum(c["latency_ms"] for c in calls),
             "calls": calls}
    reasons = [r for r in (prior.get("fallback"), outcome.fallback) if r]
    result = {**offline, "engine": "llm", "llm_usage": usage, "llm_analysis": prior.get("analysis"),
              "llm_fallback": bool(reasons), "llm_fallback_reason": "; ".join(reasons)}
    if outcome.value is None:
        return result
    middle = render(outcome.value)
    return {**result, "body": "\n\n".join([frame["greeting"], middle, *frame["tail"]]), "citations": citations_of(middle)}
