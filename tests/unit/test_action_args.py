"""Typed action arguments: amounts with currency, invoices, recipients, what is missing, the edit contract."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from tools.action_args import (
    ACTION_ARGS,
    EDIT_MODELS,
    ArgRule,
    fill_args,
    find_amounts,
    find_percents,
    missing_args,
    parse_number,
    recipient,
    validate_args,
)


@pytest.mark.parametrize(("text", "value", "currency"), [
    ("a $50 credit for the outage", "50", "USD"),
    ("refund 50 USD please", "50", "USD"),
    ("we paid 50,00 € twice", "50.00", "EUR"),
    ("Invoice INV-30520, NZD 1,140.", "1140", "NZD"),
    ("EUR 1.234,56 was taken", "1234.56", "EUR"),
    ("£20 callout charge", "20", "GBP"),
    ("charged us 96 EUR for October", "96", "EUR"),
    ("a refund of 50 please", "50", None),
])
def test_amounts_carry_their_currency(text: str, value: str, currency: str | None) -> None:
    [money] = find_amounts(text)
    assert money.value == Decimal(value) and money.currency == currency


def test_numbers_that_are_not_amounts_are_not_amounts() -> None:
    assert find_amounts("We reduced from 18 to 12 seats on INV-30112, uptime was 99.95%.") == []
    assert find_percents("below the 99.95% in our contract") == []
    assert find_percents("we want 50 % off next month") == [Decimal("50")]
    assert parse_number("1,140") == Decimal("1140") and parse_number("50,00") == Decimal("50.00")


def test_a_refund_amount_comes_from_the_request_sentence_else_from_the_only_amount() -> None:
    ticket = {"subject": "Duplicate", "body": ""}
    args, missing = fill_args("issue_refund", ticket, None, "Two charges of $228 hit our card. I want the duplicate refunded.",
                              evidence="I want the duplicate refunded.")
    assert (args["amount"], args["currency"], missing) == ("228", "USD", [])
    args, missing = fill_args("issue_refund", ticket, None, "We paid $228 and later $40. Please refund the difference.",
                              evidence="Please refund the difference.")
    assert "amount" not in args and missing == ["amount"]  # two amounts: nothing is guessed


def test_an_amount_without_currency_needs_one_unless_the_playbook_gives_it() -> None:
    ticket = {"subject": "Refund"}
    assert fill_args("issue_refund", ticket, None, "a refund of 50 please")[1] == ["currency"]
    args, missing = fill_args("issue_refund", ticket, None, "a refund of 50 please", currency="GBP")
    assert args["currency"] == "GBP" and missing == []


def test_invoice_rules_from_the_playbook() -> None:
    rules = {"invoice": ArgRule(required=True, pattern=r"\bINV[-_ ]?\d{4,}\b"), "amount": ArgRule(required=True)}
    ticket = {"subject": "Refund"}
    args, missing = fill_args("issue_refund", ticket, None, "Please refund $96 on INV-30377.", rules=rules)
    assert args["invoice"] == "INV-30377" and missing == []
    args, missing = fill_args("issue_refund", ticket, None, "INV-30401 and INV-30402 are duplicates, refund one ($228).",
                              rules=rules)
    assert "invoice" not in args and missing == ["invoice"]


def test_a_credit_is_an_amount_with_currency_or_a_percentage() -> None:
    ticket = {"subject": "Outage"}
    assert fill_args("issue_credit", ticket, None, "We want 20% off the renewal.")[0]["percent"] == "20"
    args, missing = fill_args("issue_credit", ticket, None, "Please apply a credit for the outage.")
    assert missing == ["amount"]
    assert missing_args("issue_credit", {"amount": "50"}) == ["currency"]
    assert missing_args("issue_credit", {"percent": "120"}) == ["percent"]  # at most 100


def test_the_reply_goes_to_the_sender_else_to_the_customer_contact_never_nowhere() -> None:
    known = {"subject": "Re: Bug", "body": "Hello"}
    customer = {"id": "cus_001", "contact_email": "dana@acmelogistics.de", "email_domain": "acmelogistics.de"}
    assert fill_args("send_reply", {"email": "ops@acme.de"}, customer, "", known=known)[0]["to"] == "ops@acme.de"
    args, missing = fill_args("send_reply", {"customer_id": "cus_001"}, customer, "", known=known)
    assert args["to"] == "dana@acmelogistics.de" and missing == []
    args, missing = fill_args("send_reply", {"customer_id": "cus_001", "email": "not an address"},
                              {"email_domain": "acmelogistics.de"}, "", known=known)
    assert "to" not in args and missing == ["to"]  # a domain is not an address: nothing is guessed
    assert recipient({}, {"email": "billing@example.com"}) == "billing@example.com"


def test_account_changes_find_the_workspace_and_the_users() -> None:
    rules = {"workspace": ArgRule(required=True, pattern=r"\b[a-z0-9-]+\.quillstack\.(?:com|io)\b"), "users": ArgRule(required=True)}
    ticket = {"subject": "Admin", "email": "lead@northwindpm.com"}
    text = "Please promote jordan@northwindpm.com to Admin on northwind-pm.quillstack.com."
    args, missing = fill_args("change_permissions", ticket, None, text, evidence=text, rules=rules)
    assert args["users"] == ["jordan@northwindpm.com"] and args["workspace"] == "northwind-pm.quillstack.com" and missing == []
    args, missing = fill_args("change_permissions", ticket, {"workspace": "x.quillstack.com"}, "Make me an admin please.",
                              evidence="Make me an admin please.", rules=rules)
    assert args["users"] == ["lead@northwindpm.com"] and args["workspace"] == "x.quillstack.com" and missing == []
    assert fill_args("change_permissions", {"subject": "Admin"}, None, "Make Jordan an admin.", evidence="Make Jordan an admin.",
                     rules=rules)[1] == ["workspace", "users"]


def test_fixed_values_and_validation() -> None:
    args, missing = fill_args("close_account", {"subject": "Cancel"}, None, "Please cancel our plan.",
                              evidence="Please cancel our plan.", rules={"scope": ArgRule(value="subscription")})
    assert args == {"scope": "subscription", "request": "Please cancel our plan."} and missing == []
    assert validate_args("issue_refund", {"amount": "49.00", "currency": "usd"})["currency"] == "USD"
    with pytest.raises(ValueError, match="missing or invalid arguments: amount"):
        validate_args("issue_refund", {"invoice": "INV-1234"})
    with pytest.raises(ValidationError):
        ACTION_ARGS["send_reply"].model_validate({"to": "a@b.co", "subject": "Re", "body": "x" * 50_001})


def test_edit_models_accept_everything_the_inbox_accepts_and_refuse_unknown_keys() -> None:
    from graph.inbox import ARGS_MODELS

    assert ARGS_MODELS is EDIT_MODELS  # a reviewer's edit is checked by the same typed models as the proposal
    assert EDIT_MODELS["issue_refund"].model_validate({"amount": "1,140.00"}).model_dump()["amount"] == Decimal("1140.00")
    with pytest.raises(ValidationError):
        EDIT_MODELS["issue_refund"].model_validate({"amount": "50", "iban": "DE00"})
