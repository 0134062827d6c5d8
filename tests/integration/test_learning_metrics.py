"""Reviewer feedback and outcome metrics on real decisions through SupportDesk (SQLite checkpointer and store)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from api import outcomes
from api.service import InvalidDecision
from api.threads import add_message
from tests.conftest import refund_ticket


def _report(desk: Any) -> dict[str, Any]:
    return desk.learning_report()


def _acceptance(desk: Any) -> dict[str, int]:
    totals = _report(desk)["totals"]
    return {**totals["acceptance"], "redraft": totals["redraft_requests"]}


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def _record(desk: Any, thread: str) -> list[dict[str, Any]]:
    """The thread's feedback records, oldest first."""
    rows = desk.store.query("SELECT detail FROM feedback WHERE thread_id = :t ORDER BY id", {"t": thread})
    return [json.loads(r["detail"]) for r in rows]


def _row(desk: Any, thread: str) -> dict[str, Any]:
    rows = outcomes.tickets(outcomes.load(desk.store, "default", None), desk.packet_of, datetime.now(UTC), 7)
    return next(r for r in rows if r["thread_id"] == thread)


def test_edits_are_classed_unchanged_light_or_heavy_by_the_text_actually_sent(desk: Any, new_id: Any) -> None:
    before = _acceptance(desk)
    accepted, light, heavy = new_id(), new_id(), new_id()
    desk.submit(refund_ticket(accepted))
    desk.decide(accepted, {"type": "accept"})
    draft = desk.submit(refund_ticket(light))["interrupts"][0]["action_request"]["args"]["reply"]
    desk.decide(light, {"type": "edit", "args": {"reply": draft.replace("Hi", "Hello", 1) + " Thanks!"}})
    desk.submit(refund_ticket(heavy))
    desk.decide(heavy, {"type": "edit", "args": {"reply": "Refunded. Bye."}})
    assert _delta(before, _acceptance(desk)) == {"unchanged": 1, "light_edit": 1, "heavy_edit": 1}
    [kept], [lightly], [rewritten] = (_record(desk, t) for t in (accepted, light, heavy))
    assert kept["edit_class"] == "unchanged" and kept["similarity"] == 1.0 and kept["sent"] == kept["draft"]
    assert lightly["edit_class"] == "light_edit" and 0.85 <= lightly["similarity"] < 1 and lightly["sent"].endswith("Thanks!")
    assert rewritten["edit_class"] == "heavy_edit" and rewritten["similarity"] < 0.85 and rewritten["sent"] == "Refunded. Bye."
    # what was sent is what the ledger applied
    sent = [json.loads(r["args"])["body"] for r in desk.view(light)["ledger"] if r["action"] == "send_reply"]
    assert sent == [lightly["sent"]]


def test_dropping_an_action_is_a_light_edit_with_the_action_named(desk: Any, new_id: Any) -> None:
    thread = new_id()
    view = desk.submit(refund_ticket(thread))
    kept = [a["id"] for a in view["interrupts"][0]["action_request"]["args"]["actions"] if a["name"] != "issue_refund"]
    desk.decide(thread, {"type": "edit", "args": {"actions": kept}})
    [record] = _record(desk, thread)
    assert record["edit_class"] == "light_edit" and record["similarity"] == 1.0
    assert [a["name"] for a in record["dropped"]] == ["issue_refund"] and record["added"] == []


def test_a_redraft_request_is_not_an_edit(desk: Any, new_id: Any) -> None:
    before = _acceptance(desk)
    thread = new_id()
    desk.submit(refund_ticket(thread))
    desk.decide(thread, {"type": "response", "args": "Mention the 5-day processing time."})
    desk.decide(thread, {"type": "accept"})
    assert _delta(before, _acceptance(desk)) == {"redraft": 1, "unchanged": 1}
    redraft, accept = _record(desk, thread)
    assert redraft["edit_class"] == "redraft" and redraft["comment"] == "Mention the 5-day processing time."
    assert accept["edit_class"] == "unchanged"


def test_a_rejection_records_its_reason(desk: Any, new_id: Any) -> None:
    before = _acceptance(desk)
    thread = new_id()
    desk.submit(refund_ticket(thread))
    done = desk.decide(thread, {"type": "ignore", "args": "Already refunded by phone yesterday."})
    assert done["status"] == "rejected"
    assert done["decisions"][-1]["comment"] == "Already refunded by phone yesterday."
    [record] = _record(desk, thread)
    assert record["edit_class"] == "rejected" and record["comment"] == "Already refunded by phone yesterday."
    assert record["sent"] is None and record["dropped"] == []
    assert _delta(before, _acceptance(desk)) == {"rejected": 1}
    assert any(f["kind"] == "ignore" and f["ticket_id"] == thread for f in _report(desk)["recent_feedback"])


def test_overrides_are_validated_against_the_playbook_and_recorded(desk: Any, new_id: Any) -> None:
    thread = new_id()
    desk.submit(refund_ticket(thread))
    for bad in ({"category": "gardening"}, {"priority": "whenever"}, {"escalation_team": "marketing"}):
        with pytest.raises(InvalidDecision, match="not one of the playbook's values"):
            desk.decide(thread, {"type": "edit", "args": {"overrides": bad}})
    with pytest.raises(InvalidDecision, match="at least one"):
        desk.decide(thread, {"type": "edit", "args": {"overrides": {}}})
    done = desk.decide(thread, {"type": "edit", "args": {"overrides": {"category": "billing", "priority": "high",
                                                                          "escalation_team": "billing"}}})
    assert done["status"] == "completed"
    expected = {"category": {"from": "refund", "to": "billing"}, "priority": {"from": done["packet"]["priority"], "to": "high"},
                "escalation_team": {"from": done["packet"]["escalation"]["team"], "to": "billing"}}
    assert done["decisions"][-1]["changes"]["overrides"] == expected
    [record] = _record(desk, thread)
    assert record["overrides"] == expected and record["edit_class"] == "unchanged"  # sent as drafted
    row = _row(desk, thread)
    assert row["category"] == "billing" and row["agent_category"] == "refund" and row["overridden"] == [
        "category", "escalation_team", "priority"]


def test_first_response_time_is_the_sent_reply_in_the_ledger_minus_the_arrival(desk: Any, new_id: Any) -> None:
    thread = new_id()
    desk.submit(refund_ticket(thread))
    assert _row(desk, thread)["first_response_h"] is None and _row(desk, thread)["queue_age_h"] >= 0
    done = desk.decide(thread, {"type": "accept"})
    [reply] = [r for r in done["ledger"] if r["action"] == "send_reply"]
    [run] = desk.store.query("SELECT created_at FROM runs WHERE thread_id = :t", {"t": thread})
    row = _row(desk, thread)
    expected = (outcomes.when(reply["applied_at"]) - outcomes.when(run["created_at"])).total_seconds() / 3600
    assert row["first_response_h"] == pytest.approx(expected) and row["queue_age_h"] is None
    assert row["decision_h"] is not None and row["decision_h"] <= row["first_response_h"] + 1 / 3600


def test_a_customer_message_after_a_sent_reply_is_a_reopen(desk: Any, new_id: Any) -> None:
    thread = new_id()
    desk.submit(refund_ticket(thread))
    desk.decide(thread, {"type": "accept"})
    before = _report(desk)["totals"]
    assert _row(desk, thread)["reopened"] is False
    add_message(desk, thread, "The refund has not arrived yet, can you check?")
    after = _report(desk)["totals"]
    assert _row(desk, thread)["reopened"] is True
    assert after["reopened"] == before["reopened"] + 1 and after["replied"] == before["replied"]
    assert after["reopen_rate_pct"] > before["reopen_rate_pct"]
