"""Typed state of one ticket's run. Values are plain JSON-like dicts so checkpoints stay portable."""

from __future__ import annotations

import operator
from typing import Annotated, Any, NotRequired

from typing_extensions import TypedDict  # LangGraph's schema export needs it on Python < 3.12


class Ticket(TypedDict):
    """An incoming ticket."""

    id: str
    subject: str
    body: str
    customer_id: NotRequired[str]
    email: NotRequired[str]
    channel: NotRequired[str]


class InputState(TypedDict):
    """What a caller provides."""

    ticket: Ticket
    #: The workspace the run belongs to (set by the service; else the run's context decides, once).
    workspace: NotRequired[str]


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
    #: The ticket's unit embedding, computed once in triage and reused by retrieval.
    ticket_vector: list[float]
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
    #: Reviewer comments that asked for a redraft (``response``), oldest first.
    review_notes: Annotated[list[str], operator.add]
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
