"""Reviewer feedback as data: one record per decision — draft vs sent, actions dropped, reasons, triage overrides.

:func:`feedback_record` is pure: the service computes it from the proposal the reviewer saw (the pending
interrupt) and the actions the decision approves, and writes it to the ``feedback`` table in the same
transaction that claims the decision, so every claimed decision has exactly one record.

Edit classes compare the drafted reply with the reply actually sent, character by character
(``difflib.SequenceMatcher`` ratio on whitespace-normalised text, 0–1):

* ``unchanged`` — an accept, or an edit that sent the draft as written and kept every action as proposed;
* ``light_edit`` — similarity at least :data:`LIGHT_EDIT_MIN_SIMILARITY`, or the text unchanged but an
  action dropped or its arguments edited;
* ``heavy_edit`` — similarity below :data:`LIGHT_EDIT_MIN_SIMILARITY`, or the proposed reply dropped;
* ``rejected`` (ignore), ``redraft`` (a response: the agent writes again — not an edit) and ``expired``.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from tools.playbook import PRIORITIES, Playbook

#: An edit whose sent text is at least this similar to the draft is light; below it, a rewrite.
LIGHT_EDIT_MIN_SIMILARITY = 0.85
#: Texts are compared on at most this many characters (SequenceMatcher is quadratic in the worst case).
MAX_COMPARED = 20_000
ACCEPTANCE = ("unchanged", "light_edit", "heavy_edit", "rejected")
_SPACE = re.compile(r"\s+")


def similarity(draft: str, sent: str) -> float:
    """Character-level similarity of two texts in [0, 1] (1: identical up to whitespace)."""
    a, b = (_SPACE.sub(" ", text).strip()[:MAX_COMPARED] for text in (draft, sent))
    if a == b:
        return 1.0
    return round(difflib.SequenceMatcher(None, a, b, autojunk=False).ratio(), 4)


def edit_class(kind: str, text_similarity: float | None, reply_dropped: bool, actions_changed: bool) -> str:
    """The acceptance class of a decision (see the module docstring for the thresholds)."""
    if kind in ("ignore", "response", "expired"):
        return {"ignore": "rejected", "response": "redraft", "expired": "expired"}[kind]
    if kind == "accept":
        return "unchanged"
    if reply_dropped or (text_similarity is not None and text_similarity < LIGHT_EDIT_MIN_SIMILARITY):
        return "heavy_edit"
    if (text_similarity is not None and text_similarity < 1.0) or actions_changed:
        return "light_edit"
    return "unchanged"


def feedback_record(interrupt: dict[str, Any], decision: dict[str, Any], approved: list[dict[str, Any]],
                    changes: dict[str, Any]) -> dict[str, Any]:
    """What a decision did to the proposal ``interrupt`` (a pending interrupt of ``SupportDesk.view``)."""
    proposed = interrupt["action_request"]["args"]
    gated = {a["id"]: a for a in proposed.get("actions", [])}
    kept = {a["id"]: a for a in approved if a["id"] in gated}
    kind = str(decision["type"])
    final = kind in ("accept", "edit")
    proposed_reply = next((a for a in gated.values() if a["name"] == "send_reply"), None)
    sent_reply = next((a for a in kept.values() if a["name"] == "send_reply"), None)
    draft = str(proposed.get("reply") or "")
    sent = str(sent_reply["args"].get("body") or "") if final and sent_reply else None
    dropped = [{"id": i, "name": a["name"]} for i, a in gated.items() if i not in kept] if final else []
    added = [{"id": a["id"], "name": a["name"]} for a in approved if a.get("needs_approval") and a["id"] not in gated]
    args_edited = [i for i, a in kept.items() if _without_body(a["args"]) != _without_body(gated[i]["args"])]
    score = similarity(draft, sent) if sent is not None else None
    reply_dropped = final and proposed_reply is not None and sent_reply is None
    comment = decision.get("args") if kind in ("response", "ignore") and isinstance(decision.get("args"), str) else None
    return {
        "interrupt_id": interrupt["id"], "type": kind, "reviewer": decision.get("reviewer"), "role": decision.get("role"),
        "digest": decision.get("digest"), "draft": draft, "sent": sent, "similarity": score,
        "edit_class": edit_class(kind, score, reply_dropped, bool(dropped or added or args_edited)),
        "dropped": dropped, "added": added, "args_edited": args_edited, "comment": comment,
        "overrides": changes.get("overrides") or {}, "recipient_changed": changes.get("recipient_changed"),
    }


def _without_body(args: dict[str, Any]) -> dict[str, Any]:
    """An action's arguments other than the reply text (the text is compared by similarity)."""
    return {k: v for k, v in args.items() if k != "body"}


def vocabulary(playbook: Playbook) -> dict[str, list[str]]:
    """What a reviewer may set in ``overrides``: the playbook's categories, priorities and escalation teams."""
    teams = {"none"} | {str(c["escalation"]) for c in playbook.categories.values() if c.get("escalation")}
    teams |= {str(rule["team"]) for rule in playbook.raw.get("escalation_rules") or [] if rule.get("team")}
    return {"category": sorted(playbook.categories), "priority": list(PRIORITIES), "escalation_team": sorted(teams)}


def check_overrides(overrides: dict[str, Any], playbook: Playbook) -> None:
    """Refuse (``ValueError``) an override whose value is not in the playbook's vocabulary."""
    allowed = vocabulary(playbook)
    for field, value in overrides.items():
        if value is not None and value not in allowed[field]:
            shown = ", ".join(allowed[field][:30])
            raise ValueError(f"overrides.{field}: '{str(value)[:40]}' is not one of the playbook's values ({shown})")
