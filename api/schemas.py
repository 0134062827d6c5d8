"""Request and response bodies of the HTTP API (documented in OpenAPI with examples)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.service import TicketIn
from graph.packet_schema import SupportPacket

__all__ = ["TicketIn", "TicketView", "Accepted", "ReviewIn", "ReviewItem", "AuditEvent", "Problem", "Conflict", "Viewers", "MessageIn"]

TICKET_EXAMPLE = {"id": "A1", "customer_id": "cus_001", "subject": "Refund please",
                  "body": "Refund invoice INV-20931 because we downgraded"}


class TicketView(BaseModel):
    """A ticket's run: status, packet, pending interrupts (with ids), decisions, ledger and history."""

    thread_id: str
    status: str = Field(description="queued | running | failed | awaiting_review | completed | rejected | "
                                    "actions_failed (an approved action failed after retries: see outbox) | …")
    ticket: dict[str, Any] | None = None
    packet: SupportPacket | None = Field(None, description="The support packet a reviewer reads.")
    interrupts: list[dict[str, Any]] = Field(default_factory=list, description="Pending reviews; decide by `id`.")
    decisions: list[dict[str, Any]] = Field(default_factory=list)
    ledger: list[dict[str, Any]] = Field(default_factory=list, description="Actions applied, once each.")
    outbox: list[dict[str, Any]] = Field(default_factory=list, description=(
        "The approved actions of each decision and where each stands: pending, done, or failed (with the reason)."))
    history: list[dict[str, Any]] = Field(default_factory=list, description="Checkpoints, newest first.")
    thread: list[dict[str, Any]] = Field(default_factory=list, description=(
        "Messages added after submission (customer replies, notes), oldest first, with their status."))
    message: dict[str, Any] | None = Field(None, description="The message this request added (POST …/messages).")
    error: str | None = None


class MessageIn(BaseModel):
    """A message added to a ticket: the customer's reply (runs the next round) or a note (recorded only)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"body": "The invoice is INV-20931.", "author": "customer"},
        {"body": "Called the customer; they will send the invoice today.", "author": "agent", "internal": True}]})
    body: str = Field(min_length=1, max_length=20_000, pattern=r"^[^\x00]*$")
    author: Literal["customer", "agent"] = "customer"
    internal: bool = Field(False, description="An internal note: never shown to the customer, nothing re-runs.")


class MessageAccepted(BaseModel):
    """A reply accepted with ``wait=false``: stored; poll ``location`` for the next round's packet."""

    thread_id: str
    message_id: str
    status: str
    location: str


class Accepted(BaseModel):
    """A submit accepted with ``wait=false``: poll ``location``."""

    thread_id: str
    ticket_id: str
    status: str
    location: str


class ReviewIn(BaseModel):
    """A reviewer's decision on one pending interrupt."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"interrupt_id": "bfd0d9ff595c61890b5b32bb5f164874", "type": "accept"},
        {"interrupt_id": "bfd0d9ff595c61890b5b32bb5f164874", "type": "edit",
         "args": {"reply": "Hi Dana, …", "actions": ["a4-send_reply"]}},
        {"interrupt_id": "bfd0d9ff595c61890b5b32bb5f164874", "type": "response", "args": "Mention the MSA credit."},
        {"interrupt_id": "bfd0d9ff595c61890b5b32bb5f164874", "type": "edit",
         "args": {"overrides": {"category": "billing", "priority": "high", "escalation_team": "billing"}}},
        {"interrupt_id": "bfd0d9ff595c61890b5b32bb5f164874", "type": "ignore"},
        {"interrupt_id": "bfd0d9ff595c61890b5b32bb5f164874", "type": "ignore", "args": "Already refunded by phone."},
    ]})
    interrupt_id: str = Field(min_length=1, max_length=128, description="The `id` of a pending interrupt.")
    digest: str | None = Field(None, pattern=r"^[0-9a-f]{8,64}$", description=(
        "The `digest` of the interrupt you reviewed (GET the ticket). If the proposal changed since — a redraft, "
        "a new message — the decision is refused with 409 and the current digest. Omitted: the server binds the "
        "decision to the proposal pending now."))
    type: Literal["accept", "edit", "response", "ignore"]
    args: Any = Field(None, description=(
        "edit: {reply?, actions?, overrides?} — overrides {category?, priority?, escalation_team?} correct the triage "
        "(values from the playbook, else 422; recorded, nothing re-runs); response: the comment (string); "
        "ignore: an optional reason (string)."))


class ReviewItem(BaseModel):
    """One pending review in the queue."""

    thread_id: str
    ticket_id: str | None = None
    category: str | None = None
    priority: str | None = None
    summary: str | None = None
    interrupt_id: str | None = None
    tiers: list[str] = Field(default_factory=list)
    risk_flags: list[Any] = Field(default_factory=list)
    source: str = Field("api", description="api: submitted over HTTP; service: the CLI, a batch, the demo or Studio")
    sla_hours: float | None = None
    created_at: str
    age_minutes: float
    sla_remaining_minutes: float
    sla_breached: bool
    sla_warning: bool = Field(False, description="The SLA warning fired: the ticket is at the top of the queue.")
    lead: bool = Field(False, description="Escalated to the lead queue before its approval deadline.")


class AuditEvent(BaseModel):
    """One entry of a ticket's audit trail."""

    at: str
    event: str
    actor: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class Viewer(BaseModel):
    """Another reviewer with the ticket open."""

    reviewer: str
    seen_at: str


class Viewers(BaseModel):
    """Who else had the ticket open in the last minute."""

    others: list[Viewer] = Field(default_factory=list)


class Problem(BaseModel):
    """An error: ``detail`` says why."""

    detail: Any


class Conflict(BaseModel):
    """409: the interrupt is no longer pending (``decided``: who and when), or its proposal changed (``current_digest``)."""

    detail: str
    decided: dict[str, Any] | None = None
    interrupt_id: str | None = None
    current_digest: str | None = None
