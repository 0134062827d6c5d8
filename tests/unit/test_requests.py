"""Requests, separately from the topic: questions propose nothing, several requests per ticket, negatives, args."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import REPO
from tools.data import DataError, load_company
from tools.playbook import Playbook, generic_playbook, read_playbook
from tools.requests import RequestDetector, Speller, pieces, request_actions, speech_act

GATED = {"issue_refund", "issue_credit", "offer_compensation", "close_account", "change_permissions", "security_change",
         "legal_statement", "customer_promise"}


@pytest.fixture(scope="module")
def embedder():  # type: ignore[no-untyped-def]
    from tools.embeddings import default_embeddings

    return default_embeddings()


@pytest.fixture(scope="module")
def generic(embedder) -> RequestDetector:  # type: ignore[no-untyped-def]
    return RequestDetector.for_embedder(Playbook(generic_playbook()), embedder)


@pytest.fixture(scope="module")
def quillstack_playbook() -> Playbook:
    raw, _, errors = read_playbook(REPO / "data" / "playbook.yaml")
    assert errors == []
    return Playbook(raw)


@pytest.fixture(scope="module")
def quillstack(embedder, quillstack_playbook) -> RequestDetector:  # type: ignore[no-untyped-def]
    return RequestDetector.for_embedder(quillstack_playbook, embedder)


def types(detector: RequestDetector, text: str) -> set[str]:
    return {r.type for r in detector.detect(text)}


def actions(detector: RequestDetector, text: str) -> set[str]:
    return {r.action for r in detector.detect(text) if r.action}


@pytest.mark.parametrize("text", ["Is the refund window still 14 days?", "what is your refund policy",
                                  "I want to see your refund policy, please.", "Can I get a refund if I cancel within 30 days?",
                                  "What are the cancellation fees?"])
def test_a_policy_question_is_a_question_and_proposes_no_money_action(generic, quillstack, text) -> None:  # type: ignore[no-untyped-def]
    for detector in (generic, quillstack):
        found = detector.detect(text)
        assert "policy_question" in {r.type for r in found}, (text, found)
        assert not {r.action for r in found} & GATED, (text, found)


def test_a_status_question_about_a_refund_proposes_no_refund(generic) -> None:  # type: ignore[no-untyped-def]
    for text in ("Where is my refund?", "I haven't received my refund yet.", "I am waiting for a compensation of 299 dollars"):
        assert actions(generic, text) == set(), text
        assert "status_question" in types(generic, text), text


def test_credit_card_is_not_a_credit_request(generic, quillstack) -> None:  # type: ignore[no-untyped-def]
    for detector in (generic, quillstack):
        found = detector.detect("Hi, my credit card was declined when I tried to pay the invoice.")
        assert "credit_or_discount" not in {r.type for r in found}
        assert not {r.action for r in found} & GATED


def test_a_negative_pattern_masks_only_what_it_matches(generic) -> None:  # type: ignore[no-untyped-def]
    # "refund policy" does not count, but the refund asked for in the same sentence does
    assert "refund" in types(generic, "I have read your refund policy and I want a refund for order 4412.")
    assert types(generic, "cancel the corporate newsletter subscription") & {"cancel_subscription", "close_account"} == set()


def test_cancel_and_prorated_refund_are_two_requests_with_two_actions(generic, quillstack) -> None:  # type: ignore[no-untyped-def]
    text = "please cancel our subscription and refund the unused months prorated"
    for detector in (generic, quillstack):
        found = {r.type: r for r in detector.detect(text)}
        assert {"cancel_subscription", "refund"} <= set(found), found
        assert found["cancel_subscription"].action == "close_account" and found["refund"].action == "issue_refund"
        assert "refund the unused months prorated" in found["refund"].evidence


def test_a_credit_request_inside_a_bug_report_proposes_the_credit_with_its_amount(quillstack, quillstack_playbook) -> None:  # type: ignore[no-untyped-def]
    ticket = {"id": "T1", "subject": "Bulk send stuck", "email": "ops@example.com",
              "body": "Bulk send has been stuck on 'processing' since Tuesday, error 500 in the console. "
                      "We lost two days of work, so we want a $50 credit for the outage."}
    text = f"{ticket['subject']}\n{ticket['body']}"
    found = quillstack.detect(text)
    assert "credit_or_discount" in {r.type for r in found}
    [credit] = [a for a in request_actions(found, quillstack_playbook, ticket, None, text) if a.name == "issue_credit"]
    assert credit.args["amount"] == "50" and credit.args["currency"] == "USD" and credit.missing == []


def test_fifty_percent_off_is_a_percentage_credit(generic) -> None:  # type: ignore[no-untyped-def]
    ticket = {"id": "T2", "subject": "Compensation", "body": "After this week of downtime we want 50 % off next month."}
    text = f"{ticket['subject']}\n{ticket['body']}"
    found = generic.detect(text)
    [credit] = [a for a in request_actions(found, Playbook(generic_playbook()), ticket, None, text) if a.name == "issue_credit"]
    assert credit.args["percent"] == "50" and "amount" not in credit.args and credit.missing == []


def test_a_refund_without_an_amount_is_incomplete_and_names_amount(generic) -> None:  # type: ignore[no-untyped-def]
    ticket = {"id": "T3", "subject": "Refund please", "body": "Hi, I'd like a refund for last month."}
    text = f"{ticket['subject']}\n{ticket['body']}"
    [refund] = [a for a in request_actions(generic.detect(text), Playbook(generic_playbook()), ticket, None, text)
                if a.name == "issue_refund"]
    assert refund.missing == ["amount"]
    assert refund.questions == ["How much should be refunded, and in which currency?"]


def test_the_quillstack_refund_needs_its_invoice_too(quillstack, quillstack_playbook) -> None:  # type: ignore[no-untyped-def]
    ticket = {"id": "T4", "subject": "Charged twice", "body": "We were charged $228 twice this month. Please refund the duplicate."}
    text = f"{ticket['subject']}\n{ticket['body']}"
    [refund] = [a for a in request_actions(quillstack.detect(text), quillstack_playbook, ticket, None, text) if a.name == "issue_refund"]
    assert refund.args["amount"] == "228" and refund.missing == ["invoice"]


def test_two_types_of_one_action_give_one_action(generic) -> None:  # type: ignore[no-untyped-def]
    ticket = {"id": "T5", "subject": "Leaving", "body": "Please cancel my membership. Also delete my account completely."}
    text = f"{ticket['subject']}\n{ticket['body']}"
    proposed = request_actions(generic.detect(text), Playbook(generic_playbook()), ticket, None, text)
    [close] = [a for a in proposed if a.name == "close_account"]
    assert set(close.requests) == {"cancel_subscription", "close_account"}


def test_a_german_refund_request_is_detected(generic, quillstack) -> None:  # type: ignore[no-untyped-def]
    text = "Rückerstattung\nBitte erstatten Sie uns die doppelte Abbuchung von 49 € vom 3. Oktober."
    for detector in (generic, quillstack):
        assert "refund" in types(detector, text)


def test_misspelt_requests_are_read_as_the_playbook_words(generic, embedder) -> None:  # type: ignore[no-untyped-def]
    assert "cancel_subscription" in types(generic, "pls acncel order 77812")
    from tools.requests import wordpiece_dictionary

    speller = Speller({"cancel", "refund", "demande"}, wordpiece_dictionary(embedder.token_ids))
    assert speller.text("acncel and refnud") == "cancel and refund"  # "refnud" is 6 letters: corrected
    assert speller.text("I demand a refund") == "I demand a refund"  # a real word is never "corrected"
    # a missing space: a vocabulary word glued to a function word or to another real word
    assert speller.text("help tocancel it, a refundof 20") == "help to cancel it, a refund of 20"
    speller = Speller({"cancel", "account"}, wordpiece_dictionary(embedder.token_ids))
    assert speller.text("cancel premiumaccount") == "cancel premium account"


def test_typos_run_ons_and_bare_requests_still_propose_the_action(generic) -> None:  # type: ignore[no-untyped-def]
    assert "close_account" in actions(generic, "I no longer want the purchase 55120, I can't pay for it")
    assert "close_account" in actions(generic, "could u help me to cancel my order 4471")
    assert "issue_refund" in actions(generic, "How can I claim compensation for the money I paid?")
    assert "close_account" in actions(generic, "i need help toclose my basicaccount")
    assert not actions(generic, "need help finding out in what cases I can ask for my money back")
    assert not actions(generic, "checking how long refunds usually take")


def test_sentences_clauses_and_speech_acts() -> None:
    assert pieces("Re: Refund\nPlease cancel our plan and refund the last invoice. Thanks!") == [
        "Refund", "Please cancel our plan", "refund the last invoice.", "Thanks!"]
    assert speech_act("How do I cancel my subscription?") == "request"
    assert speech_act("What is your refund policy?") == "question"
    assert speech_act("Could the duplicate payment be returned to us?") == "request"
    assert speech_act("Where is my refund?") == "status"
    assert speech_act("We renewed last week.") == "statement"
    assert speech_act("I need help checking how long refunds normally take") == "question"
    assert speech_act("in what situations can I get a refund?") == "question"
    assert speech_act("can ya tell me how to close my account") == "request"
    assert speech_act("I expect a refund fo 40 euros") == "status"


def test_probabilities_are_calibrated_on_the_examples(generic, embedder) -> None:  # type: ignore[no-untyped-def]
    assert 0.005 < generic.temperature < 1.0
    texts = ["I want my money back", "Thanks, Anna"]
    proba = generic.probabilities(texts, embedder.embed_array(texts))
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert generic.names[int(proba[0].argmax())] == "refund" and generic.names[int(proba[1].argmax())] == "_none"


class AlwaysRefund:
    classes_ = ["refund", "policy_question"]

    def predict_proba(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        return np.tile([1.0, 0.0], (len(texts), 1))


def test_a_trained_classifier_is_averaged_with_the_examples(embedder) -> None:  # type: ignore[no-untyped-def]
    detector = RequestDetector.for_embedder(Playbook(generic_playbook()), embedder, AlwaysRefund())
    found = detector.detect("My order arrived with a scratch on the lid.")
    assert [r.type for r in found if r.action] == ["refund"] and found[0].source == "classifier"


def test_a_playbook_without_requests_gets_the_generic_ones(tmp_path: Path) -> None:
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "a.md").write_text("# Shipping\n\nWe ship in two days.\n")
    (tmp_path / "playbook.yaml").write_text("categories:\n  orders: {description: Orders}\n")
    data = load_company(tmp_path)
    playbook = Playbook(data.playbook)
    assert playbook.requests["refund"].action == "issue_refund" and playbook.request_settings.min_confidence == 0.5
    assert Playbook({"categories": {"a": {}}, "sla_hours": {"s": {}}}).requests.keys() == Playbook(generic_playbook()).requests.keys()


REFUND = {"description": "x", "action": "issue_refund", "examples": ["a"]}


@pytest.mark.parametrize(("spec", "reason"), [
    ({"refund": {**REFUND, "action": "issue_refnd"}}, "action 'issue_refnd' is not a known action"),
    ({"refund": {**REFUND, "patterns": ["(unclosed"]}}, "invalid regular expression"),
    ({"refund": {**REFUND, "args": {"iban": {}}}}, "issue_refund has no argument iban"),
    ({"refund": {"description": "x", "examples": []}}, "examples"),
    ({"q": {**REFUND, "question": True}}, "a question type proposes no action"),
])
def test_an_invalid_request_type_is_reported_with_its_line(tmp_path: Path, spec: dict[str, object], reason: str) -> None:
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "a.md").write_text("# A\n\nText.\n")
    (tmp_path / "playbook.yaml").write_text("company: X\n" + yaml.safe_dump({"requests": spec}))
    with pytest.raises(DataError, match=rf"playbook.yaml:2: requests: type '\w+': .*{reason}"):
        load_company(tmp_path)


def test_the_three_playbooks_validate_and_cover_the_core_request_types() -> None:
    core = {"refund", "credit_or_discount", "cancel_subscription", "close_account", "erase_data", "export_data",
            "change_permissions", "secure_account", "legal_notice", "policy_question"}
    for path in (REPO / "data" / "playbook.yaml", REPO / "tools" / "defaults" / "playbook.yaml",
                 REPO / "evals" / "datasets" / "long_tickets" / "playbook.yaml"):
        raw, _, errors = read_playbook(path)
        assert errors == [], path
        assert core <= set(Playbook(raw).requests), path
