"""The resume value is validated before anything happens: strict shapes, typed edit args, bounded size and depth."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from graph.inbox import REVIEW_ACTION, check_proposal, check_recipient, decision_error, parse_decision

CUSTOMER = "priya@northwind.example"
GATED = [
    {"id": "a4-send_reply", "name": "send_reply", "tier": "supervised",
     "args": {"to": CUSTOMER, "subject": "Re: Charged twice", "body": "Hi Priya", "citations": ["kb-refund-policy"]}},
    {"id": "a7-issue_refund", "name": "issue_refund", "tier": "never_without_approval",
     "args": {"invoice": "INV-20931", "amount": "49.00", "reason": "Charged twice"}},
]


def edit(*actions: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "edit", "args": {"actions": list(actions), **extra}}


def refund(**args: Any) -> dict[str, Any]:
    return edit({"id": "a7-issue_refund", "args": args})


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x": value}
    return value


def test_300_deep_args_are_refused_cheaply_without_recursion() -> None:
    poison = edit({"id": "a4-send_reply", "args": nested(300)})
    assert len(json.dumps(poison)) < 3_000
    started = time.perf_counter()
    with pytest.raises(ValueError, match="nested deeper than 8 levels"):
        parse_decision(poison)
    assert time.perf_counter() - started < 0.5  # generous: refused by the walk, before pydantic sees it


@pytest.mark.parametrize(("value", "reason"), [
    (refund(amount=float("nan")), "finite"),
    (refund(amount=float("inf")), "finite"),
    (refund(amount="abc"), "amount"),
    (refund(amount=-5), "greater than 0"),
    (refund(amount="0"), "greater than 0"),
    (refund(amount="1.234"), "at most 2 decimals"),
    (refund(amount="2000000"), "less than or equal to 1000000"),
    (refund(amount=True), "amount"),
    (refund(invoice="INV-1; DROP TABLE"), "invoice"),
    (refund(reason="x" * 2_001), "reason"),
    ({"type": "edit", "args": {"reply": "x\ud800"}}, "lone surrogates"),
    ({"type": "edit", "args": {"reply": "x\x00y"}}, "NUL"),
    ({"type": "response", "args": "ok\x00"}, "NUL"),
    ({"type": "accept", "args": None, "\ud800": 1}, "lone surrogates"),
    ({"type": "accept", "bogus": 1}, "Extra inputs are not permitted"),
    (edit({"id": "a4-send_reply", "args": {"cc": "boss@example.com"}}), "cc: Extra inputs"),
    (edit({"id": "a4-send_reply", "extra": 1}), "extra: Extra inputs"),
    ({"type": "edit", "args": {"reply": "hi", "bcc": "x"}}, "bcc"),
    (edit({"id": "a4-send_reply", "args": {"to": "not an email"}}), "not a valid email address"),
    (edit({"id": "a4-send_reply", "args": {"to": "a@b.example\nBcc: c@d.example"}}), "not a valid email address"),
    (edit({"id": "a4-send_reply", "args": {"to": "a@b.example\n"}}), "not a valid email address"),
    (edit({"id": "a4-send_reply", "args": {"to": "<a@b.example>"}}), "not a valid email address"),
    (edit({"id": "a4-send_reply", "args": {"subject": "Hi\nthere"}}), "line breaks"),
    (edit("a4-send_reply\n"), "pattern"),
    (edit({"id": "a4-send_reply", "args": {"body": "x" * 50_001}}), "body: String should have at most 50000"),
    ({"type": "edit", "args": {"reply": "x" * 50_001}}, "at most 50000 characters"),
    ({"type": "edit", "args": {"reply": "x" * 200_000}}, "decision larger than 100 KB"),
    (edit({"id": "a4-send_reply", "name": "issue_refund"}), "does not match"),
    (edit({"id": "a99-wire_money", "args": {"amount": "10"}}), "no editable arguments"),
    ({"type": "response", "args": "x" * 5_001}, "at most 5,000"),
    ({"type": "approve"}, "Input should be"),
    ({"type": "edit", "args": {}}, "an edit needs args"),
    ({"type": "response", "args": ""}, "a response needs args"),
    ("yes", "a decision is an object"),
    ([{"type": "accept"}, {"type": "accept"}], "exactly one"),
    ({"type": "accept", "reviewer": "sam\nroot"}, "reviewer"),
])
def test_invalid_decisions_raise_value_error_with_a_short_reason(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        parse_decision(value)
    message = str(caught.value)
    assert len(message) <= 401 and "x" * 81 not in message


def test_reasons_never_echo_long_raw_input() -> None:
    secret = "4111111111111111 " * 20
    for value in ({"type": "accept", secret: 1}, refund(amount=secret), edit({"id": secret})):
        with pytest.raises(ValueError) as caught:
            parse_decision(value)
        assert "4111111111111111 4111" not in str(caught.value) and "4111111111111111 4111" not in decision_error(caught.value)


@pytest.mark.parametrize("value", [
    {"type": "accept"}, {"type": "accept", "args": None}, [{"type": "accept", "args": None}],
    {"type": "ignore"}, {"type": "response", "args": "Mention the MSA credit."},
    {"type": "edit", "args": {"reply": "Shorter reply."}},
    {"type": "edit", "args": {"reply": "Hi", "actions": ["a4-send_reply"]}},
    {"type": "accept", "args": None, "reviewer": "maya"},
])
def test_valid_decisions_parse_and_round_trip(value: Any) -> None:
    decision = parse_decision(value)
    dumped = decision.model_dump()
    json.dumps(dumped)  # claimed and resumed as plain JSON
    assert parse_decision(dumped).model_dump() == dumped


def test_typed_edit_args_are_normalised_to_plain_json() -> None:
    decision = parse_decision(edit({"id": "a7-issue_refund", "args": {"amount": "1,200.50", "invoice": "INV-20931"}},
                                   {"id": "a4-send_reply", "name": "send_reply", "tier": "supervised", "args": GATED[0]["args"]}))
    actions = decision.model_dump()["args"]["actions"]
    assert actions[0] == {"id": "a7-issue_refund", "name": "issue_refund", "args": {"amount": "1200.50", "invoice": "INV-20931"}}
    assert "tier" not in actions[1]  # shown in the payload, decided by policy
    assert parse_decision(refund(amount=49.5)).model_dump()["args"]["actions"][0]["args"] == {"amount": "49.5"}


def test_agent_inbox_whole_request_with_actions_as_json_text() -> None:
    kept = [a for a in GATED if a["name"] != "issue_refund"]
    value = [{"type": "edit", "args": {"action": REVIEW_ACTION, "args": {"reply": "Edited in the inbox.", "actions": json.dumps(kept)}}}]
    decision = parse_decision(value)
    assert decision.edit.reply == "Edited in the inbox."
    assert [a if isinstance(a, str) else a.id for a in decision.edit.actions or []] == ["a4-send_reply"]
    check_proposal(decision, GATED)


@pytest.mark.parametrize(("text", "reason"), [("[" * 5_000, "not valid JSON"), ("[{]", "not valid JSON"),
                                              (json.dumps([[[[[["deep"]]]]]]), "nested deeper"), ("[NaN]", "finite")])
def test_agent_inbox_json_text_is_bounded_too(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_decision({"type": "edit", "args": {"action": REVIEW_ACTION, "args": {"actions": text}}})


def test_a_new_recipient_needs_the_explicit_flag() -> None:
    elsewhere = {"id": "a4-send_reply", "args": {"to": "attacker@evil.example"}}
    with pytest.raises(ValueError, match="allow_new_recipient"):
        check_recipient(parse_decision(edit(elsewhere)), CUSTOMER)
    with pytest.raises(ValueError, match="allow_new_recipient"):
        check_proposal(parse_decision(edit(elsewhere)), GATED)
    flagged = parse_decision(edit(elsewhere, allow_new_recipient=True))
    check_recipient(flagged, CUSTOMER)
    check_proposal(flagged, GATED)
    assert parse_decision(flagged.model_dump()).edit.allow_new_recipient is True  # survives the claim and the resume
    same = parse_decision(edit({"id": "a4-send_reply", "args": {"to": "Priya@Northwind.example"}}))
    check_recipient(same, CUSTOMER)  # the same address, differently cased


def test_check_proposal_refuses_actions_that_were_not_proposed() -> None:
    with pytest.raises(ValueError, match="unknown action ids"):
        check_proposal(parse_decision(edit("a99-wire_money")), GATED)
    check_proposal(parse_decision(edit("a7-issue_refund")), GATED)


def test_an_empty_recipient_is_what_a_ticket_without_an_address_proposes() -> None:
    check_proposal(parse_decision(edit({"id": "a4-send_reply", "args": {"to": ""}})), [{**GATED[0], "args": {"to": ""}}])


def test_the_review_node_applies_only_changed_args_and_records_a_new_recipient() -> None:
    from graph.nodes.review import approved_actions as _approved

    state: Any = {"proposed_actions": [{**a, "needs_approval": True} for a in GATED]}
    flagged = parse_decision(edit({"id": "a4-send_reply", "args": {**GATED[0]["args"], "to": "ap@northwind.example"}},
                                  {"id": "a7-issue_refund", "args": {"amount": "39.00", "currency": "USD"}},
                                  allow_new_recipient=True))
    approved, changes = _approved(state, flagged)
    assert {a["id"]: a["args"].get("to", a["args"].get("amount")) for a in approved} == {
        "a4-send_reply": "ap@northwind.example", "a7-issue_refund": "39.00"}
    assert changes["args_edited"] == ["a4-send_reply", "a7-issue_refund"]
    assert changes["recipient_changed"] == {"from": CUSTOMER, "to": "ap@northwind.example", "allowed_by": "reviewer"}
    with pytest.raises(ValueError, match="allow_new_recipient"):
        _approved(state, parse_decision(edit({"id": "a4-send_reply", "args": {"to": "ap@northwind.example"}})))
