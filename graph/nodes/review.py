"""Review: the human approval checkpoint (one ``interrupt()``), nothing applied before it.

Accept applies every gated action; edit replaces the reply and/or keeps a subset of the
gated actions (tiers are recomputed by policy — an edit cannot make an action ungated);
response sends the reviewer's comment back to ``draft`` and asks again; ignore rejects (its optional
reason is recorded as the decision's comment). An edit may also correct the triage (``overrides``:
category, priority, escalation team); the correction is recorded in ``changes``, nothing re-runs.
An invalid resume value (see ``graph.inbox.parse_decision``; an edit naming an action that
was not proposed, or re-addressing the reply without ``allow_new_recipient``) re-asks with
the error in the description, so the checkpoint stays pending. A changed recipient is
recorded in the decision's ``changes``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, cast

from langgraph.types import Command, interrupt

from graph.inbox import REVIEW_ACTION, HumanInterrupt, ReviewDecision, check_proposal, decision_error, new_recipient, parse_decision
from graph.packet import md_inline, packet_markdown
from graph.state import Message, State, Ticket
from tools.action_args import missing_args


def with_message(ticket: Ticket, message: Message) -> Ticket:
    """The ticket whose body is the whole thread: what triage, retrieval and the draft read in the next round."""
    return cast(Ticket, {**ticket, "body": f"{ticket['body']}\n\n{message['body']}".strip()})


def review_payload(state: State, error: str | None = None) -> HumanInterrupt:
    """The agent-inbox payload for this ticket's gated actions."""
    gated = [a for a in state["proposed_actions"] if a["needs_approval"]]
    reply = next((a["args"]["body"] for a in gated if a["name"] == "send_reply"), state["draft"]["body"])
    description = packet_markdown(state["packet"])
    if error:
        description = f"**Invalid decision:** {md_inline(error)}\n\n{description}"
    return {
        "action_request": {
            "action": REVIEW_ACTION,
            "args": {"reply": reply, "actions": [{"id": a["id"], "name": a["name"], "tier": a["tier"], "args": a["args"],
                                                  "status": a.get("status", "ready"), "missing": a.get("missing", [])}
                                                 for a in gated]},
        },
        "config": {"allow_accept": True, "allow_edit": True, "allow_respond": True, "allow_ignore": True},
        "description": description,
    }


def approved_actions(state: State, decision: ReviewDecision) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The actions ``decision`` approves (final args) and what it changed; ``ValueError`` if it does not fit the proposal.

    Pure, so the API can call it before claiming the decision: an edit naming an action that
    was not proposed, or re-addressing the reply without ``allow_new_recipient``, is refused here.
    """
    proposed = state["proposed_actions"]
    gated = {a["id"]: a for a in proposed if a["needs_approval"]}
    auto = [a for a in proposed if not a["needs_approval"]]
    if decision.type in ("ignore", "expired"):  # fail-closed: no gated action is applied
        return auto, {"rejected": sorted(gated)}
    if decision.type == "accept":
        _complete(list(gated.values()))
        return auto + list(gated.values()), {}
    check_proposal(decision, list(gated.values()))
    edit = decision.edit
    kept_ids = list(gated) if edit.actions is None else [a if isinstance(a, str) else a.id for a in edit.actions]
    edited_args = {a.id: {k: v for k, v in a.args.items() if gated[a.id]["args"].get(k) != v}
                   for a in (edit.actions or []) if not isinstance(a, str) and a.args}
    edited_args = {action_id: args for action_id, args in edited_args.items() if args}
    kept = []
    for action_id in kept_ids:
        action = dict(gated[action_id])
        action["args"] = {**action["args"], **edited_args.get(action_id, {})}
        if action["name"] == "send_reply" and edit.reply is not None:
            action["args"]["body"] = edit.reply
        kept.append(action)
    changes: dict[str, Any] = {"dropped": sorted(set(gated) - set(kept_ids)), "reply_edited": edit.reply is not None,
                               "args_edited": sorted(edited_args)}
    reply = next((a for a in gated.values() if a["name"] == "send_reply"), None)
    recipient = new_recipient(decision, str(reply["args"].get("to") or "")) if reply else None
    if edit.overrides is not None:
        changes["overrides"] = overrides_of(state, edit.overrides.model_dump(exclude_none=True))
    if reply is not None and recipient is not None:
        changes["recipient_changed"] = {"from": reply["args"].get("to"), "to": recipient, "allowed_by": decision.reviewer}
    _complete(kept)
    return auto + kept, changes


def overrides_of(state: State, wanted: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The reviewer's triage corrections as ``{field: {"from": the packet's value, "to": the reviewer's}}``."""
    packet = state.get("packet") or {}
    current = {"category": packet.get("category"), "priority": packet.get("priority"),
               "escalation_team": (packet.get("escalation") or {}).get("team")}
    return {field: {"from": current[field], "to": value} for field, value in wanted.items()}


def _complete(actions: list[dict[str, Any]]) -> None:
    """Refuse to approve an action whose required arguments are still missing (an edit may supply them, or drop it)."""
    problems = []
    for action in actions:
        missing = missing_args(action["name"], action["args"], action.get("required", []))
        if missing:
            problems.append(f"{action['id']} ({action['name']}) is incomplete: missing {', '.join(missing)}")
    if problems:
        raise ValueError("; ".join(problems) + " — edit the action to supply them, or drop it from the decision")


def review(state: State) -> Command[Literal["draft", "apply_actions", "triage"]]:
    """Stop for a human decision, then route: redraft, apply the approved actions, or start over on a new message."""
    error = None
    while True:
        value = interrupt(review_payload(state, error))
        try:
            decision = parse_decision(value)
            approved, changes = ([], {}) if decision.type in ("response", "superseded") else approved_actions(state, decision)
            break
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            error = decision_error(exc)
    record = {"type": decision.type, "reviewer": decision.reviewer, "role": decision.role, "digest": decision.digest,
              "at": datetime.now(UTC).isoformat(timespec="seconds"), "changes": changes,
              "comment": decision.args if decision.type in ("response", "ignore") else None}
    if decision.type == "superseded":  # a customer message arrived: nothing of this proposal is applied
        message = decision.args["message"]
        return Command(goto="triage", update={"decisions": [{**record, "message_id": message["id"]}], "messages": [message],
                                              "ticket": with_message(state["ticket"], message), "status": "superseded"})
    if decision.type == "response":
        return Command(goto="draft", update={"decisions": [record], "review_notes": [str(decision.args)],
                                             "status": "redrafting"})
    status = {"ignore": "rejected", "expired": "expired"}.get(decision.type, "approved")
    return Command(goto="apply_actions", update={"decisions": [record], "approved_actions": approved, "status": status})
