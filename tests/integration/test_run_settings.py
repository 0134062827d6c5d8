"""A run keeps its settings (tone, engine, thresholds) for its whole life, and a redraft follows the comment.

Resumes from the API, the CLI and Studio pass a fresh context; before the fix a formal-tone run came back
friendly after "respond". Real graph on the sample company with a SQLite checkpointer.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from graph.context import Context, settings_of, with_settings
from tests.conftest import refund_ticket

pytestmark = pytest.mark.integration


def _redraft(desk: Any, view: dict[str, Any], comment: str) -> dict[str, Any]:
    return desk.decide(view["thread_id"], {"type": "response", "args": comment}, interrupt_id=view["interrupts"][0]["id"])


def test_a_formal_run_stays_formal_after_a_redraft(desk: Any, new_id: Any) -> None:
    view = desk.submit(refund_ticket(new_id("F")), Context(tone="formal"))
    assert view["packet"]["draft_reply"].startswith("Dear ")
    again = _redraft(desk, view, "Add how long the refund takes to reach the card.")
    assert again["status"] == "awaiting_review"
    assert again["packet"]["draft_reply"].startswith("Dear "), again["packet"]["draft_reply"][:40]
    assert "Kind regards" in again["packet"]["draft_reply"]


def test_studio_resume_with_another_context_keeps_the_runs_settings(desk: Any, new_id: Any) -> None:
    from graph.builder import make_builder

    graph = make_builder(lambda _w: desk.engine).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": new_id("S")}}
    graph.invoke({"ticket": refund_ticket(config["configurable"]["thread_id"])}, config, context=Context(tone="formal"))
    state = graph.get_state(config)
    assert state.values["settings"]["tone"] == "formal"
    interrupt = state.interrupts[0]
    # Studio sends the assistant's context with the resume: friendly here
    graph.invoke(Command(resume={"type": "response", "args": "Mention the invoice number."}), config,
                 context=Context(tone="friendly"))
    after = graph.get_state(config).values
    assert after["draft"]["body"].startswith("Dear "), after["draft"]["body"][:40]
    assert graph.get_state(config).interrupts[0].id != interrupt.id


def test_a_comment_asking_for_the_invoice_number_puts_it_in_the_draft(desk: Any, new_id: Any) -> None:
    body = "We were charged twice this month, invoice INV-20417, $49. Please refund the duplicate charge."
    view = desk.submit(refund_ticket(new_id("I"), body))
    first = view["packet"]["draft_reply"]
    assert "INV-20417" not in first  # the first draft does not quote it
    again = _redraft(desk, view, "Please mention the invoice number in the reply.")
    assert "INV-20417" in again["packet"]["draft_reply"]
    assert "Please mention" not in again["packet"]["draft_reply"]  # the comment itself is never pasted


def test_settings_roundtrip_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = settings_of(Context(tone="formal", retrieval_k=7))
    monkeypatch.setenv("SUPPORT_TONE", "friendly")
    merged = with_settings(Context(), stored)
    assert (merged.tone, merged.retrieval_k) == ("formal", 7)
    assert with_settings(Context(workspace="acme"), {}).workspace == "acme"
