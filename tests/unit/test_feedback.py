"""Edit classes: similarity of the reply sent to the draft, by the documented thresholds; overrides against the playbook."""

from __future__ import annotations

from typing import Any

import pytest

from api.feedback import LIGHT_EDIT_MIN_SIMILARITY, check_overrides, feedback_record, similarity
from tests.conftest import REPO
from tools.playbook import Playbook, read_playbook

DRAFT = "Hi Dana, we refunded invoice INV-20417 ($49). The money is back on your card within 5 business days. Best, Support"


def interrupt(reply: str = DRAFT) -> dict[str, Any]:
    actions = [{"id": "a4-send_reply", "name": "send_reply", "tier": "supervised", "args": {"to": "d@x.example", "body": reply}},
               {"id": "a5-issue_refund", "name": "issue_refund", "tier": "never_without_approval", "args": {"amount": "49"}}]
    return {"id": "i1", "action_request": {"args": {"reply": reply, "actions": actions}}}


def approve(body: str | None, refund: bool = True) -> list[dict[str, Any]]:
    proposed = interrupt()["action_request"]["args"]["actions"]
    kept = [] if body is None else [{**proposed[0], "args": {**proposed[0]["args"], "body": body}, "needs_approval": True}]
    return kept + ([{**proposed[1], "needs_approval": True}] if refund else [])


@pytest.mark.parametrize(("kind", "sent", "refund", "expected"), [
    ("accept", DRAFT, True, "unchanged"),
    ("edit", DRAFT.replace("  ", " ") + "\n", True, "unchanged"),  # whitespace only
    ("edit", DRAFT.replace("Hi Dana", "Hello Dana"), True, "light_edit"),
    ("edit", DRAFT, False, "light_edit"),  # text as drafted, the refund dropped
    ("edit", "Refunded.", True, "heavy_edit"),
    ("edit", None, True, "heavy_edit"),  # the reply itself dropped
    ("ignore", None, False, "rejected"),
])
def test_edit_classes(kind: str, sent: str | None, refund: bool, expected: str) -> None:
    decision = {"type": kind, "reviewer": "maya"}
    approved = [] if kind == "ignore" else approve(sent, refund)
    record = feedback_record(interrupt(), decision, approved, {})
    assert record["edit_class"] == expected
    if expected == "light_edit" and sent != DRAFT:
        assert LIGHT_EDIT_MIN_SIMILARITY <= record["similarity"] < 1
    if not refund and kind == "edit":
        assert record["dropped"] == [{"id": "a5-issue_refund", "name": "issue_refund"}]


def test_a_redraft_request_is_not_an_edit_and_keeps_its_comment() -> None:
    record = feedback_record(interrupt(), {"type": "response", "args": "Mention the MSA."}, [], {})
    assert record["edit_class"] == "redraft" and record["comment"] == "Mention the MSA." and record["dropped"] == []


def test_similarity_is_character_level() -> None:
    assert similarity("abc", "abc") == 1.0 and similarity("abc", "xyz") == 0.0
    assert 0.9 < similarity("The refund is on its way.", "The refund is on the way.") < 1


def test_overrides_use_the_playbook_vocabularies() -> None:
    playbook = Playbook(read_playbook(REPO / "data" / "playbook.yaml")[0])
    check_overrides({"category": "billing", "priority": "urgent", "escalation_team": "security"}, playbook)
    check_overrides({"escalation_team": "none"}, playbook)
    for bad in ({"category": "gardening"}, {"priority": "asap"}, {"escalation_team": "billing-team"}):
        with pytest.raises(ValueError, match="not one of the playbook's values"):
            check_overrides(bad, playbook)
