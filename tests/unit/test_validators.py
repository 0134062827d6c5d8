"""Validators on model output, and retry-then-fallback with crafted bad answers (no model, no network)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableLambda
from pydantic import ValidationError

from graph.nodes.llm import ask, draft_schema, render
from prompts.draft_llm import DRAFT_RETRY
from tests.conftest import REPO
from tools.data import load_company
from tools.validators import check_promises, citations_of, shingles, validate_reply

DATA = load_company(REPO / "data")
DOCS = DATA.documents
SUPERSEDED = {old for d in DOCS.values() for old in d.supersedes}
RETRIEVED = ["kb-refund-policy", "kb-plans-and-billing-faq"]
INTERNAL = DOCS["ki-salesforce-token-expiry"]


def problems(text: str, **kwargs: Any) -> list[str]:
    return validate_reply(text, retrieved=RETRIEVED, documents=DOCS, superseded=SUPERSEDED, **kwargs)


class ScriptedModel:
    """Stands in for ChatOpenAI: answers ``with_structured_output`` calls from a script, records prompts."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers, self.prompts = list(answers), []

    def with_structured_output(self, schema: Any, method: str, include_raw: bool) -> RunnableLambda:
        assert (method, include_raw) == ("json_schema", True)

        def answer(messages: list[Any]) -> dict[str, Any]:
            self.prompts.append(messages)
            data = self.answers.pop(0)
            raw = AIMessage(content=json.dumps(data), usage_metadata={"input_tokens": 100, "output_tokens": 20, "total_tokens": 120})
            try:
                return {"raw": raw, "parsed": schema.model_validate(data), "parsing_error": None}
            except ValidationError as exc:
                return {"raw": raw, "parsed": None, "parsing_error": exc}

        return RunnableLambda(answer)


def reply(*sentences: tuple[str, str | None]) -> dict[str, Any]:
    return {"sentences": [{"text": t, "source": s} for t, s in sentences]}


GOOD = reply(("Duplicate charges are reviewed by our billing team.", "kb-refund-policy"))
FAKE_CITATION = reply(("Refunds are automatic [kb-free-money].", None))
INTERNAL_QUOTE = reply(("The refresh token is revoked and status write-back stops without an error in the Quillstack UI.", None))
REFUND_PROMISE = reply(("We will refund the duplicate charge to your card.", "kb-refund-policy"))


def run(answers: list[dict[str, Any]]) -> tuple[Any, ScriptedModel]:
    model = ScriptedModel(answers)

    def validate(answer: Any) -> list[str]:
        return problems(render(answer))

    outcome = ask(model, "draft", draft_schema(RETRIEVED), [HumanMessage(content="draft")], validate, DRAFT_RETRY)  # type: ignore[arg-type]
    return outcome, model


def test_good_reply_passes_and_renders_inline_citations() -> None:
    assert render(draft_schema(RETRIEVED).model_validate(GOOD)).endswith("[kb-refund-policy]")
    assert problems("Duplicate charges are reviewed by billing [kb-refund-policy].") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("See [kb-free-money].", "is not a document"),
    ("See [ki-salesforce-token-expiry].", "internal-only"),
    ("See [kb-reset-password].", "was not retrieved"),
    ("See [kb-refund-policy-2024].", "outdated"),
])
def test_each_citation_must_exist_be_current_customer_facing_and_retrieved(text: str, expected: str) -> None:
    found = problems(text)
    assert len(found) == 1 and expected in found[0]


def test_eight_copied_words_from_an_internal_document_are_refused() -> None:
    copied = "As we found, the refresh token is revoked and status write-back stops without an error."
    assert any("internal-only text from ki-salesforce-token-expiry" in p for p in problems(copied))
    seven = "Your refresh token is revoked and status write."  # 7 words in a row shared: allowed
    assert not shingles(seven) & shingles(INTERNAL.body)
    assert problems(seven) == []


@pytest.mark.parametrize("text", [
    "We will refund the duplicate charge.",
    "You'll receive a credit on your next invoice.",
    "We'll fix this by Friday.",
    "I will issue compensation within 3 days.",
])
def test_money_and_date_promises_are_refused(text: str) -> None:
    assert check_promises(text)


def test_policy_statements_and_approved_refunds_are_allowed() -> None:
    assert check_promises("Refund requests are reviewed by billing.") == []
    assert check_promises("We will refund the duplicate charge.", allow_money=True) == []
    quoted = "We will refund duplicate charges within 5 business days."
    assert check_promises(quoted + " [kb-refund-policy]", quoted=[quoted]) == []


def test_citations_are_read_inline() -> None:
    assert citations_of("A [kb-a]. B [kb-b] and [kb-a].") == ["kb-a", "kb-b"]


@pytest.mark.parametrize(("bad", "why"), [(FAKE_CITATION, "is not a document"), (INTERNAL_QUOTE, "internal-only text"),
                                          (REFUND_PROMISE, "promises money")])
def test_bad_answer_is_retried_once_with_the_validator_message(bad: dict[str, Any], why: str) -> None:
    outcome, model = run([bad, GOOD])
    assert outcome.fallback is None and outcome.value is not None
    assert [c["ok"] for c in outcome.calls] == [False, True]
    assert why in outcome.calls[0]["problems"][0]
    retry_prompt = model.prompts[1][-1].content
    assert retry_prompt.startswith("Your draft was rejected:") and why in retry_prompt


@pytest.mark.parametrize("bad", [FAKE_CITATION, INTERNAL_QUOTE, REFUND_PROMISE])
def test_two_bad_answers_fall_back(bad: dict[str, Any]) -> None:
    outcome, model = run([bad, bad, GOOD])
    assert outcome.value is None and outcome.fallback == "draft: rejected twice by the validators"
    assert len(outcome.calls) == 2 and len(model.answers) == 1  # no third call
    assert sum(c["input_tokens"] for c in outcome.calls) == 200


def test_schema_mismatch_counts_as_a_rejection() -> None:
    outcome, _ = run([{"sentences": [{"text": "x", "source": "kb-free-money"}]}, GOOD])
    assert [c["ok"] for c in outcome.calls] == [False, True]
    assert "JSON schema" in outcome.calls[0]["problems"][0]


def test_no_model_configured_falls_back_without_a_call() -> None:
    outcome = ask(None, "draft", draft_schema(RETRIEVED), [], lambda a: [], DRAFT_RETRY)
    assert outcome.unavailable and outcome.calls == [] and "SUPPORT_LLM=off" in (outcome.fallback or "")
