"""What a trace keeps of a node's inputs and outputs: keys, numbers and short redacted strings."""

from __future__ import annotations

from api.tracing import SHORT, summarise


def test_short_strings_are_redacted_and_long_text_lists_and_records_are_reduced() -> None:
    state = {"status": "drafted", "note": "mail jane.doe@example.com, card 4111 1111 1111 1111", "score": 0.5,
             "body": "x" * (SHORT + 1), "ticket_vector": [0.1] * 384, "customer": {"name": "Jane Doe", "plan": "pro"},
             "ok": True, "nothing": None}
    assert summarise(state) == {
        "status": "drafted", "note": "mail [email], card [card •••• 1111]", "score": 0.5,
        "body": f"<text, {SHORT + 1} chars>", "ticket_vector": "<list of 384>", "customer": {"keys": ["name", "plan"]},
        "ok": True, "nothing": None,
    }


def test_nested_values_follow_the_depth() -> None:
    assert summarise({"a": {"b": {"c": 1}}}, depth=2) == {"a": {"b": {"keys": ["c"]}}}
    assert summarise(object()) == "<object>"
