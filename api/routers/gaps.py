"""Knowledge gaps: proposals built from tickets the knowledge base did not answer, and support ops' decision."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api import gaps
from api.auth import Reviewer
from api.intake import NotFound
from api.routers.tickets import ERRORS
from api.schemas import Problem
from api.service import SupportDesk

router = APIRouter(prefix="/v1/gaps", tags=["knowledge gaps"])


class GapTicket(BaseModel):
    """A ticket of the topic and the signals it gave."""

    ticket_id: str
    thread_id: str | None = None
    subject: str | None = None
    signals: list[str] = Field(default_factory=list)


class Proposal(BaseModel):
    """A gap topic and the article proposed for it (Markdown with front matter)."""

    id: str
    title: str
    score: float
    category: str
    owner: str
    signals: dict[str, int]
    tickets: list[GapTicket]
    article: str
    status: str


class GapDecision(BaseModel):
    """Accept (optionally with your own title and text) or dismiss a proposal."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "dismiss"]
    title: str | None = Field(None, min_length=3, max_length=120, pattern=r"^[^\x00-\x1f]*$")
    body: str | None = Field(None, min_length=20, max_length=50_000, pattern=r"^[^\x00]*$",
                             description="The article's text (Markdown, no front matter): replaces the proposed one.")


@router.get("", response_model=list[Proposal], responses=ERRORS, summary="Knowledge-gap proposals, most impact first")
def list_gaps(request: Request, who: Reviewer,
              include_decided: Annotated[bool, Query(description="also list accepted and dismissed ones")] = False) -> Any:
    """Topics of tickets the knowledge base did not answer, with the article proposed for each."""
    desk: SupportDesk = request.app.state.desk
    return gaps.proposals(desk, who.workspace, include_decided)


@router.post("/{proposal_id}/decision", responses={**ERRORS, 409: {"model": Problem, "description": "Already decided"}},
             summary="Accept (writes the article, re-indexes it) or dismiss a proposal")
def decide_gap(request: Request, proposal_id: str, body: GapDecision, who: Reviewer) -> Any:
    """A human checkpoint: nothing enters the knowledge base without it; recorded in the audit trail."""
    desk: SupportDesk = request.app.state.desk
    try:
        return gaps.decide(desk, who.workspace, proposal_id, body.decision, who.label, body.title, body.body)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except gaps.ProposalConflict as exc:
        raise HTTPException(409, str(exc)) from exc
