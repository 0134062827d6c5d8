"""Typed state of one ticket's run. Values are plain JSON-like dicts so checkpoints stay portable."""

from __future__ import annotations

import operator
from typing import Annotated, Any, NotRequired

from langgraph.channels import UntrackedValue
from typing_extensions import TypedDict  # LangGraph's schema export needs it on Python < 3.12


class Ticket(TypedDict):
    """An incoming ticket."""

    id: str
    subject: str
    body: str
    customer_id: NotRequired[str]
    email: NotRequired[str]
    channel: NotRequired[str]


class Message(TypedDict):
    """One message of a ticket's thread: the first is the ticket itself, later ones are customer replies."""

    id: str
    author: str
    body: str
    at: str


#: Sent as the first element of a ``review_notes`` update, it clears the notes (a new round starts without them).
RESET_NOTES = "\x00reset"


def merge_messages(left: list[Message] | None, right: list[Message] | None) -> list[Message]:
    """Append messages by id, in arrival order: a message sent twice (a retry, a replayed resume) is kept once."""
    merged = list(left or [])
    known = {m["id"] for m in merged}
    for message in right or []:
        if message["id"] not in known:
            merged.append(message)
            known.add(message["id"])
    return merged


def notes(left: list[str] | None, right: list[str] | None) -> list[str]:
    """Reviewer comments of the current round: appended, or cleared by ``[RESET_NOTES, ...]``."""
    if right and right[0] == RESET_NOTES:
        return list(right[1:])
    return [*(left or []), *(right or [])]


class InputState(TypedDict):
    """What a caller provides."""

    ticket: Ticket
    #: The workspace the run belongs to (set by the service; else the run's context decides, once).
    workspace: NotRequired[str]
    #: The thread so far (a follow-up run adds the customer's new message; ids keep it free of duplicates).
    messages: NotRequired[Annotated[list[Message], merge_messages]]


class OutputState(TypedDict, total=False):
    """What a caller gets back."""

    packet: dict[str, Any]
    status: str
    applied: list[dict[str, Any]]


class State(InputState, total=False):
    """Everything the nodes read and write."""

    #: The run's settings (tone, engine, thresholds), fixed at its first step from the context it started with;
    #: every resume and redraft runs with them, whatever context the resume passes (Studio, API, CLI).
    settings: dict[str, Any]
    #: The ticket's unit embedding, computed once in triage and reused by retrieval, context and drafting in the
    #: same invocation. Never checkpointed (3.5 KB of every checkpoint): a later invocation (a redraft, a recovery)
    #: embeds the ticket again through :func:`graph.nodes.triage.ticket_vector`, the same vector.
    ticket_vector: Annotated[list[float], UntrackedValue(list)]
    #: category, confidence, alternatives, priority, sentiment, SLA target and risk, owner
    #: (engine "llm": also ``llm`` — the model's analysis, its calls and any fallback).
    triage: dict[str, Any]
    #: Customer record, recent and similar tickets, open incidents, contract notes.
    customer: dict[str, Any]
    #: Ranked sources (customer-facing and internal) with authority and score.
    sources: list[dict[str, Any]]
    #: Superseded documents that matched, with the current document that replaces them.
    conflicts: list[dict[str, Any]]
    #: Top relevance score and whether retrieval was confident.
    retrieval: dict[str, Any]
    #: The customer reply: body, citations, missing information questions (engine "llm": also
    #: ``llm_usage`` — calls, tokens, latency — ``llm_analysis``, ``llm_fallback`` and its reason).
    draft: dict[str, Any]
    #: Risk flags (money, security, legal, prompt_injection_suspected, ...).
    risk_flags: list[str]
    #: Escalation recommendation: team, reason, needs, every matched rule.
    escalation: dict[str, Any]
    #: Actions proposed by assess_risk, each with id, name, args, tier, needs_approval, why.
    proposed_actions: list[dict[str, Any]]
    #: Reviewer comments that asked for a redraft (``response``) in this round, oldest first.
    review_notes: Annotated[list[str], notes]
    #: Action ids of this round are numbered after this one (ids stay unique across rounds, so the ledger's
    #: exactly-once key never mistakes a follow-up's reply for one already sent).
    action_base: int
    #: What the previous round's packet said (draft, missing information, flags), to show what changed.
    previous: dict[str, Any]
    #: Every review decision (type, reviewer, when, what changed).
    decisions: Annotated[list[dict[str, Any]], operator.add]
    #: Actions approved by review (or automatic) and waiting for apply_actions.
    approved_actions: list[dict[str, Any]]
    #: Ledger entries of the actions applied by this run.
    applied: Annotated[list[dict[str, Any]], operator.add]
    #: Actions that raised in apply_actions (name, error, outbox status: pending retry or failed).
    failed_actions: list[dict[str, Any]]
    #: The support packet a reviewer reads.
    packet: dict[str, Any]
    #: new → awaiting_review → completed | rejected.
    status: str
