"""Which actions need a human: the guide's five permission tiers as data, decided by code.

The tier of an action is ``max(FLOOR[action], playbook tier)``: a team's playbook may make
an action stricter, never looser, and nothing a model writes or a ticket says is an input.
Unknown actions are treated as ``never_without_approval``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any


class Tier(IntEnum):
    """Permission tiers, ordered from least to most guarded."""

    READ_ONLY = 0
    DRAFT_ONLY = 1
    BOUNDED_AUTONOMY = 2
    SUPERVISED = 3
    NEVER_WITHOUT_APPROVAL = 4

    @property
    def label(self) -> str:
        """The tier name as written in the playbook (``never_without_approval``)."""
        return self.name.lower()

    @property
    def needs_approval(self) -> bool:
        """Supervised and never-without-approval actions stop at the review checkpoint."""
        return self >= Tier.SUPERVISED


#: The floor of every known action. Refunds, credits, compensation, legal statements,
#: security and permission changes, account closure and customer promises are never
#: applied without approval; sending any customer reply and closing tickets are supervised.
FLOOR: Mapping[str, Tier] = {
    "search_knowledge": Tier.READ_ONLY,
    "read_customer": Tier.READ_ONLY,
    "draft_reply": Tier.DRAFT_ONLY,
    "add_internal_note": Tier.DRAFT_ONLY,
    "add_internal_tag": Tier.BOUNDED_AUTONOMY,
    "link_duplicate": Tier.BOUNDED_AUTONOMY,
    "log_knowledge_gap": Tier.BOUNDED_AUTONOMY,
    "notify_team": Tier.BOUNDED_AUTONOMY,
    "set_priority": Tier.SUPERVISED,
    "assign_owner": Tier.SUPERVISED,
    "set_tags": Tier.SUPERVISED,
    "send_reply": Tier.SUPERVISED,
    "create_escalation": Tier.SUPERVISED,
    "close_ticket": Tier.SUPERVISED,
    "issue_refund": Tier.NEVER_WITHOUT_APPROVAL,
    "issue_credit": Tier.NEVER_WITHOUT_APPROVAL,
    "offer_compensation": Tier.NEVER_WITHOUT_APPROVAL,
    "legal_statement": Tier.NEVER_WITHOUT_APPROVAL,
    "security_change": Tier.NEVER_WITHOUT_APPROVAL,
    "change_permissions": Tier.NEVER_WITHOUT_APPROVAL,
    "close_account": Tier.NEVER_WITHOUT_APPROVAL,
    "customer_promise": Tier.NEVER_WITHOUT_APPROVAL,
}

#: Risk flags that make closing a ticket a never-without-approval action.
HIGH_RISK_FLAGS = frozenset({"security", "legal", "money", "vip_unhappy", "outage"})


def _tier_from_label(label: str | None) -> Tier | None:
    if not label:
        return None
    try:
        return Tier[str(label).upper()]
    except KeyError:
        return Tier.NEVER_WITHOUT_APPROVAL  # a typo in the playbook must not loosen anything


def tier_of(action: str, playbook_actions: Mapping[str, Any] | None = None, risk_flags: frozenset[str] = frozenset()) -> Tier:
    """The permission tier of ``action``: code floor, raised by the playbook and by risk.

    Args:
        action: Action name, e.g. ``issue_refund``.
        playbook_actions: The playbook's ``actions`` mapping of name → tier label.
        risk_flags: The ticket's risk flags; closing a high-risk ticket is never unapproved.
    """
    floor = FLOOR.get(action, Tier.NEVER_WITHOUT_APPROVAL)
    configured = _tier_from_label((playbook_actions or {}).get(action))
    tier = max(floor, configured) if configured is not None else floor
    if action == "close_ticket" and risk_flags & HIGH_RISK_FLAGS:
        tier = Tier.NEVER_WITHOUT_APPROVAL
    return tier


def needs_approval(action: str, playbook_actions: Mapping[str, Any] | None = None, risk_flags: frozenset[str] = frozenset()) -> bool:
    """True when ``action`` must stop at the human approval checkpoint."""
    return tier_of(action, playbook_actions, risk_flags).needs_approval
