"""The support packet as a typed model: the one schema the graph state, the API, the console, the CLI and the evals share.

``build_packet`` (``graph/packet.py``) fills a :class:`SupportPacket` and stores ``model_dump(mode="json")``
in the run's state (checkpoints stay plain JSON). The API declares ``TicketView.packet`` as this model, so
OpenAPI documents every field. Parts that carry open-ended data (a CRM record, an action's arguments, an
escalation rule's extra keys) allow extra keys; everything the console relies on is declared. New fields have
defaults, so packets stored by an earlier release still validate.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Band = Literal["high", "medium", "low"]
Severity = Literal["critical", "high", "medium", "info"]

#: How loud a risk flag is in the console and the CLI; a flag not listed here is ``medium``.
FLAG_SEVERITY: dict[str, Severity] = {
    "prompt_injection_suspected": "critical", "security": "critical", "legal": "critical",
    "money": "high", "vip_unhappy": "high", "sla_at_risk": "high", "contract_terms": "high", "open_incident": "high",
    "outage": "high", "out_of_scope": "high", "no_source_answers": "high", "llm_fallback": "high",
    "vip": "medium", "source_conflict": "medium", "missing_information": "medium", "low_triage_confidence": "medium",
    "low_retrieval_confidence": "medium", "unknown_customer": "info",
}
#: Confidence bands: at least ``high`` → high, at least ``medium`` → medium, else low.
BANDS = {"high": 0.8, "medium": 0.5}


def severity_of(flag: str) -> Severity:
    """The severity of a risk flag (``language:<code>`` flags are ``medium``)."""
    return FLAG_SEVERITY.get(flag, "medium")


def band_of(confidence: float) -> Band:
    """The band (high, medium or low) of a calibrated confidence in [0, 1]."""
    return "high" if confidence >= BANDS["high"] else "medium" if confidence >= BANDS["medium"] else "low"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TicketMessage(BaseModel):
    """What the customer wrote, as received (plain text; renderers escape it)."""

    id: str
    subject: str = ""
    body: str = ""
    sender: str = Field("", description="The sender's address, else the CRM contact's, else empty.")
    customer_id: str | None = None
    channel: str = "email"
    received_at: str | None = Field(None, description="When the packet was built (UTC ISO 8601), if known.")


class PastTicket(_Open):
    """A similar or recent ticket of this customer or others, with how it was resolved."""

    id: str | None = Field(None, description="A similar ticket's id (recent tickets carry ticket_id).")
    ticket_id: str | None = None
    subject: str = ""
    category: str | None = None
    status: str | None = None
    resolution: str | None = None
    similarity: float | None = None


class CustomerContext(_Open):
    """The CRM record (extra keys kept), open incidents and related tickets."""

    known: bool = False
    id: str | None = None
    name: str | None = None
    contact_name: str | None = None
    plan: str | None = None
    vip: bool = False
    account_owner: str | None = None
    contract_notes: str | None = None
    open_incidents: list[Any] = Field(default_factory=list)
    recent_tickets: list[PastTicket] = Field(default_factory=list)
    similar_tickets: list[PastTicket] = Field(default_factory=list)


class Alternative(BaseModel):
    """Another category the classifier considered."""

    category: str
    confidence: float


class Source(_Open):
    """A retrieved source: authority, audience, freshness and the passage that matched."""

    id: str
    title: str = ""
    section: str = ""
    kind: str = ""
    authority: str = ""
    audience: str = "customer"
    badge: str = Field("", description="official · internal · runbook · past ticket · outdated")
    updated_at: str | None = None
    updated_at_known: bool = True
    relevance: float = 0.0
    score: float = 0.0
    passage: str = ""
    replaces: str | None = None
    url: str = ""


class SourceConflict(_Open):
    """An outdated document that matched, and the current one that replaces it."""

    superseded: str
    current: str
    reason: str = ""


class Request(BaseModel):
    """Something the customer asks for (a request type of the playbook) and the action it proposes, if any."""

    type: str
    confidence: float = 0.0
    evidence: str = ""
    action: str | None = None


class ProposedAction(_Open):
    """An action the agent proposes, its permission tier and whether its required arguments are all there."""

    id: str
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    tier: str
    needs_approval: bool
    why: str = ""
    status: Literal["ready", "incomplete"] = "ready"
    missing: list[str] = Field(default_factory=list, description="Required arguments nobody supplied yet.")


class RiskFlag(BaseModel):
    """A reason to look twice, with how loud it is."""

    name: str
    severity: Severity


class MatchedRule(_Open):
    """A playbook escalation rule that matched this ticket."""

    name: str
    team: str
    reason: str = ""


class Escalation(_Open):
    """The recommended hand-off (``none`` when the front line keeps it), every rule that matched and the chosen one."""

    team: str = "none"
    reason: str = ""
    needs: list[str] = Field(default_factory=list)
    rule: str | None = None
    matched: list[MatchedRule] = Field(default_factory=list)


class LlmUsage(_Open):
    """Model calls of an ``llm``-mode run."""

    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0
    fallback: bool = False
    fallback_reason: str = ""


class ThreadMessage(BaseModel):
    """One message of the ticket's thread (the first is the ticket itself)."""

    id: str
    author: str = "customer"
    body: str = ""
    at: str = ""


class PacketChanges(BaseModel):
    """What changed since the previous packet of this ticket (after a customer message)."""

    round: int = Field(description="2 for the first packet after a customer reply, and so on.")
    previous_draft: str = ""
    missing_resolved: list[str] = Field(default_factory=list, description="Asked before, answered by the thread now.")
    missing_added: list[str] = Field(default_factory=list)
    flags_added: list[str] = Field(default_factory=list)
    flags_removed: list[str] = Field(default_factory=list)


class SupportPacket(BaseModel):
    """Everything a reviewer needs to judge a ticket in seconds."""

    model_config = ConfigDict(extra="allow")

    ticket_id: str
    workspace: str = "default"
    summary: str
    ticket: TicketMessage | None = Field(None, description="The customer's message as received.")
    message: str = Field("", description="The customer's message body (same as ticket.body).")
    customer: CustomerContext = Field(default_factory=CustomerContext)
    category: str
    category_confidence: float
    confidence_band: Band = "medium"
    category_alternatives: list[Alternative] = Field(default_factory=list)
    triage_mode: str = "trained"
    model_version: str = Field("base", description="The triage model in use (base, or a retrained version).")
    setup_notes: list[str] = Field(default_factory=list)
    priority: str
    sla_hours: float
    sla_at_risk: bool = False
    sentiment: str = "neutral"
    requests: list[Request] = Field(default_factory=list)
    language: str = "en"
    language_note: str = ""
    sources: list[Source] = Field(default_factory=list, description="Customer-facing sources the draft may cite.")
    reviewer_sources: list[Source] = Field(default_factory=list, description="Internal sources: never quoted.")
    conflicts: list[SourceConflict] = Field(default_factory=list)
    risk_flags: list[str] = Field(default_factory=list)
    flags: list[RiskFlag] = Field(default_factory=list, description="risk_flags with their severity.")
    injection_phrase: str | None = Field(None, description="The phrase that raised prompt_injection_suspected.")
    escalation: Escalation = Field(default_factory=Escalation)
    suggested_owner: str = ""
    draft_reply: str = ""
    draft_subject: str = ""
    citations: list[str] = Field(default_factory=list)
    missing_information: list[str] = Field(default_factory=list)
    proposed_actions: list[ProposedAction] = Field(default_factory=list)
    llm: LlmUsage | None = None
    messages: list[ThreadMessage] = Field(default_factory=list, description="The thread, oldest first.")
    changes: PacketChanges | None = Field(None, description="Since the previous packet (after a customer message).")
