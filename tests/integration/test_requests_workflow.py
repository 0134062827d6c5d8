"""What a reviewer is asked to approve follows what the customer asks for (issue 11's "done when").

The full graph on the sample company (real index, classifier, request detector, SQLite checkpointer).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.service import InvalidDecision

pytestmark = pytest.mark.integration

MONEY = {"issue_refund", "issue_credit", "offer_compensation"}


def _submit(desk: Any, new_id: Any, subject: str, body: str, **extra: Any) -> dict[str, Any]:
    return desk.submit({"id": new_id("R"), "customer_id": "cus_002", "subject": subject, "body": body, **extra})


def _actions(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in view["packet"]["proposed_actions"]}


def test_a_policy_question_proposes_no_money_action(desk: Any, new_id: Any) -> None:
    view = _submit(desk, new_id, "Refund window", "Is the refund window still 14 days for annual plans? Just checking before renewal.")
    assert not MONEY & set(_actions(view))
    assert "policy_question" in {r["type"] for r in view["packet"]["requests"]}


def test_credit_card_alone_is_not_a_credit_request(desk: Any, new_id: Any) -> None:
    view = _submit(desk, new_id, "Card declined", "My credit card was declined when I tried to update the payment method. "
                                                  "Which cards do you accept?")
    assert not MONEY & set(_actions(view))
    assert "money" not in view["packet"]["risk_flags"]


def test_a_credit_asked_inside_a_bug_report_is_proposed_with_its_amount(desk: Any, new_id: Any) -> None:
    view = _submit(desk, new_id, "Export broken again", "The PDF export has failed all week for our team at "
                   "brightwater.quillstack.com. Given the downtime we would like a $50 credit on our next invoice.")
    credit = _actions(view).get("issue_credit")
    assert credit is not None and credit["needs_approval"]
    assert credit["args"]["amount"] == "50" and credit["args"]["currency"] == "USD"


def test_cancel_and_prorated_refund_propose_both(desk: Any, new_id: Any) -> None:
    view = _submit(desk, new_id, "Cancel and refund", "Please cancel our subscription at the end of this month and refund "
                   "the unused months prorated, invoice INV-30112.")
    names = set(_actions(view))
    assert {"close_account", "issue_refund"} <= names


def test_a_refund_without_amount_is_incomplete_and_accepting_it_is_refused(desk: Any, new_id: Any) -> None:
    view = _submit(desk, new_id, "Charged twice", "We were charged twice for invoice INV-30112 this month. Please refund "
                   "the duplicate charge.")
    refund = _actions(view)["issue_refund"]
    assert refund["status"] == "incomplete" and "amount" in refund["missing"]
    assert re.search(r"how much|amount", view["packet"]["draft_reply"], re.I)  # the draft asks for it
    interrupt = view["interrupts"][0]["id"]
    with pytest.raises(InvalidDecision, match="amount"):
        desk.decide(view["thread_id"], {"type": "accept"}, interrupt_id=interrupt)
    after = desk.view(view["thread_id"])
    assert after["status"] == "awaiting_review" and after["ledger"] == []  # nothing applied, still pending
    edit = {"type": "edit", "args": {"actions": [{"id": refund["id"], "args": {"amount": "49.00", "currency": "USD"}}]
                                     + [a["id"] for a in after["interrupts"][0]["action_request"]["args"]["actions"]
                                        if a["id"] != refund["id"]]}}
    done = desk.decide(view["thread_id"], edit, interrupt_id=interrupt)
    applied = [row for row in done["ledger"] if row["action"] == "issue_refund"]
    assert done["status"] == "completed" and len(applied) == 1 and '"amount": "49.00"' in applied[0]["args"]


def test_a_reply_to_a_customer_id_ticket_goes_to_the_contact(desk: Any, new_id: Any) -> None:
    view = _submit(desk, new_id, "Templates question", "How do I share a template with another team in our workspace?")
    reply = _actions(view)["send_reply"]
    assert reply["args"]["to"] == "marisol.ortega@brightwaterdental.com" and reply["status"] == "ready"


def test_an_angry_vip_threatening_to_leave_escalates_to_success(desk: Any, new_id: Any) -> None:
    view = desk.submit({"id": new_id("R"), "customer_id": "cus_001", "subject": "We are done",
                        "body": "This is unacceptable. Third outage this month and nobody called us. Cancel our "
                                "subscription at renewal unless someone senior calls me today. I am furious."})
    escalation = view["packet"]["escalation"]
    assert escalation["team"] == "success", escalation
    assert escalation["matched"][0]["name"] == escalation["rule"]


def test_a_german_ticket_is_flagged_with_its_language(desk: Any, new_id: Any) -> None:
    view = _submit(desk, new_id, "Frage zur Rechnung", "Guten Tag, wir haben eine Frage zu unserer letzten Rechnung. "
                   "Warum wurden uns zwölf Lizenzen berechnet, obwohl wir nur zehn Mitarbeiter haben?")
    assert "language:de" in view["packet"]["risk_flags"]
    assert "'de'" in view["packet"]["language_note"]


@pytest.mark.parametrize("subject, body", [
    ("Cancel", "Please cancel our subscription."),
    ("Refund", "Refund the last invoice please, we never used it."),
    ("SSO", "Our Okta SSO login fails with a clock skew error since this morning."),
    ("Templates", "How do I reuse a template?"),
])
def test_a_draft_has_no_heading_no_fragment_and_no_repeated_placeholder(desk: Any, new_id: Any, subject: str, body: str) -> None:
    reply = _submit(desk, new_id, subject, body)["packet"]["draft_reply"]
    facts = [line for line in reply.splitlines() if re.search(r"\[[a-z0-9_-]+\]$", line)]
    for fact in facts:
        sentence = re.sub(r"\s*\[[a-z0-9_-]+\]$", "", fact)
        assert len(sentence.split()) >= 4 and not sentence.startswith("#") and not sentence.endswith(":"), fact
    assert "{" not in reply and not re.search(r"\b(\w+(?: \w+){1,3}), \1\b", reply, re.I)
    assert not any("  " in line or line.strip() in (",", ".") for line in reply.splitlines())  # no empty slot left


def test_a_ticket_about_nothing_the_playbook_covers_is_out_of_scope(desk: Any, new_id: Any) -> None:
    view = _submit(desk, new_id, "Lunch", "Can you recommend a good pizza place near the office for our team lunch?")
    assert "out_of_scope" in view["packet"]["risk_flags"]
    assert _actions(view)["assign_owner"]["why"].startswith("No category or source fits")
    inside = _submit(desk, new_id, "Signing order", "How do I make the second signer wait until the first has signed?")
    assert "out_of_scope" not in inside["packet"]["risk_flags"]
