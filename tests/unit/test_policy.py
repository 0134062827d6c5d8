"""Policy as code: tiers come from data in graph/policy.py, a playbook can only raise them."""

from graph.policy import FLOOR, Tier, needs_approval, tier_of

NEVER = ["issue_refund", "issue_credit", "offer_compensation", "legal_statement", "security_change",
         "change_permissions", "close_account", "customer_promise"]


def test_money_legal_security_and_account_actions_always_need_approval() -> None:
    for action in NEVER:
        assert tier_of(action) is Tier.NEVER_WITHOUT_APPROVAL
        # a playbook that tries to loosen them is ignored
        assert tier_of(action, {action: "bounded_autonomy"}) is Tier.NEVER_WITHOUT_APPROVAL


def test_customer_replies_are_supervised_and_cannot_be_loosened() -> None:
    assert needs_approval("send_reply")
    assert needs_approval("send_reply", {"send_reply": "read_only"})


def test_playbook_can_raise_a_tier() -> None:
    assert not needs_approval("add_internal_tag")
    assert needs_approval("add_internal_tag", {"add_internal_tag": "supervised"})


def test_unknown_actions_and_typos_are_treated_as_most_guarded() -> None:
    assert tier_of("wire_money_to_customer") is Tier.NEVER_WITHOUT_APPROVAL
    assert tier_of("add_internal_tag", {"add_internal_tag": "bounded_autonmy"}) is Tier.NEVER_WITHOUT_APPROVAL


def test_closing_a_high_risk_ticket_is_never_without_approval() -> None:
    assert tier_of("close_ticket") is Tier.SUPERVISED
    assert tier_of("close_ticket", risk_flags=frozenset({"security"})) is Tier.NEVER_WITHOUT_APPROVAL


def test_bounded_autonomy_actions_skip_review() -> None:
    for action in ("add_internal_tag", "link_duplicate", "log_knowledge_gap", "notify_team"):
        assert FLOOR[action] is Tier.BOUNDED_AUTONOMY
        assert not needs_approval(action)
