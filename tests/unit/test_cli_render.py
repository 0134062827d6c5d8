"""What the CLI prints: literal customer text, colours only on a terminal, time left to the SLA."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from cli.packet_view import packet_renderable, print_view, sent_reply
from cli.tables import by_deadline, reviews_table, time_left

HOSTILE = "[bold red]APPROVED[/] \x1b[2J\x1b[31mred\x1b[0m \u202eevil :smile: **Category** done"


def packet(**overrides: Any) -> dict[str, Any]:
    base = {"ticket_id": "T-1", "summary": "Refund request from Ada (pro): " + HOSTILE, "category": "refund",
            "category_confidence": 0.9, "priority": "urgent", "sla_hours": 4, "sla_at_risk": True, "sentiment": "negative",
            "suggested_owner": "billing-team", "customer": {"known": True, "name": "Ada", "plan": "pro"},
            "risk_flags": ["money", "prompt_injection_suspected", "vip", "sla_at_risk", "missing_information", "contract_terms"],
            "escalation": {"team": "billing", "reason": "money"}, "message": HOSTILE + "\nsecond line", "sources": [],
            "draft_reply": "Hi Ada,\n\nthe draft", "missing_information": [], "a_key_added_later": {"x": 1},
            "proposed_actions": [{"id": "a7-issue_refund", "name": "issue_refund", "tier": "never_without_approval",
                                  "needs_approval": True, "why": "Requested", "args": {}, "missing": ["amount"]}]}
    return {**base, **overrides}


def render(renderable: Any, terminal: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, color_system="standard" if terminal else None, width=100,
                      markup=False, emoji=False, highlight=False)
    console.print(renderable)
    return out.getvalue()


def test_customer_text_is_literal_and_cannot_drive_the_terminal() -> None:
    text = render(packet_renderable(packet()), terminal=True)
    assert "\x1b[2J" not in text and "\x1b[31mred" not in text and "\u202e" not in text
    assert "[bold red]APPROVED[/]" in text and ":smile:" in text  # printed as typed, not as markup or emoji
    assert "second line" in text


def test_plain_output_has_no_escape_codes_and_every_flag() -> None:
    text = render(packet_renderable(packet()), terminal=False)
    assert "\x1b" not in text
    for flag in packet()["risk_flags"]:
        assert flag in text
    words = " ".join(text.split())  # as wrapped at 100 columns
    assert "⚠ incomplete — missing amount" in words and "never_without_approval" in words
    assert "4 h target ⚠ at risk" in words


def test_colours_on_a_terminal() -> None:
    text = render(packet_renderable(packet()), terminal=True)
    assert re.search(r"\x1b\[1;31mnever_without_approval", text)  # the strictest tier in bold red
    assert re.search(r"\x1b\[1;31mmoney", text) and re.search(r"\x1b\[33mvip", text)


def test_show_prints_the_sent_reply_and_the_decision() -> None:
    ledger = [{"action_id": "a4-send_reply", "action": "send_reply", "tier": "supervised", "applied_at": "2026-01-01T10:00:00+00:00",
               "args": '{"to": "ada@example.com", "body": "Edited by Maya"}', "result": '{"outbox_id": 3}'}]
    decisions = [{"type": "edit", "reviewer": "maya", "at": "2026-01-01T09:59:00+00:00", "changes": {"reply_edited": True},
                  "comment": None}]
    out = io.StringIO()
    print_view(Console(file=out, width=120), {"thread_id": "T-1", "status": "completed", "packet": packet(), "interrupts": [],
                                              "decisions": decisions, "ledger": ledger})
    text = out.getvalue()
    assert sent_reply(ledger) == {"to": "ada@example.com", "body": "Edited by Maya"}
    assert "Reply sent to ada@example.com (edited by maya)" in text and "Edited by Maya" in text and "the draft" not in text
    assert re.search(r"2026-01-01T09:59:00\+00:00\s+maya\s+edited\s+reply edited", text)
    assert re.search(r"a4-send_reply\s+send_reply\s+supervised\s+outbox_id 3", text)


def test_reviews_show_time_left_soonest_first() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    rows = [{"thread_id": "T-late", "priority": "low", "sla_hours": 72, "category": "how_to", "risk_flags": [],
             "created_at": (now - timedelta(hours=1)).isoformat()},
            {"thread_id": "T-over", "priority": "urgent", "sla_hours": 1, "category": "refund", "risk_flags": ["money"],
             "created_at": (now - timedelta(hours=3, minutes=5)).isoformat()},
            {"thread_id": "T-soon", "priority": "high", "sla_hours": 8, "category": "security", "risk_flags": ["security"],
             "created_at": (now - timedelta(hours=7, minutes=30)).isoformat()}]
    assert [r["thread_id"] for r in by_deadline(rows)] == ["T-over", "T-soon", "T-late"]
    assert time_left(rows[1], now).plain == "overdue 2 h 05 m"
    assert time_left(rows[2], now).plain == "30 m left"
    assert time_left(rows[0], now).plain == "2 d 23 h left"
    text = render(reviews_table(rows, now), terminal=False)
    assert text.index("T-over") < text.index("T-soon") < text.index("T-late")
