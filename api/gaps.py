"""Knowledge-gap proposals for a workspace, and the human checkpoint that turns one into an article.

Proposals are computed from the store each time (``tools.gaps``); a decision (accept, edit then accept,
dismiss) is recorded in the audit trail under ``gaps:<workspace>`` and hides the proposal from then on.
Accepting writes the article into the workspace's knowledge folder and drops the cached engine, so the
next ticket runs on a knowledge base that includes it (indexing is incremental: only the new document is
embedded). Other API workers pick it up when their engine is next reloaded (restart, or their own decision).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from api.intake import DeskError, NotFound
from api.service import SupportDesk
from tools import gaps
from tools import schema as t
from tools.engine import embed_texts
from tools.store import now


class ProposalConflict(DeskError):
    """The proposal was decided already, or its article would overwrite a document."""


def _trail(workspace: str) -> str:
    return f"gaps:{workspace}"


def decided(desk: SupportDesk, workspace: str) -> dict[str, dict[str, Any]]:
    """Proposal id → its decision (from the audit trail)."""
    a = t.audit.c
    rows = desk.store.query(select(a.event, a.actor, a.detail, a.at).where(a.thread_id == _trail(workspace)).order_by(a.id))
    return {json.loads(str(r["detail"]))["proposal_id"]: {"decision": str(r["event"]).removeprefix("gap."), "by": r["actor"],
                                                         "at": r["at"], **json.loads(str(r["detail"]))} for r in rows}


def topics(desk: SupportDesk, workspace: str) -> list[gaps.Topic]:
    """Every gap topic of the workspace (decided ones included), best first."""
    engine = desk.engine_of(workspace)
    known = " ".join(" ".join(d.paragraphs) for d in engine.data.documents.values())
    owners = {name: str(engine.playbook.category(name).get("owner", "support-ops")) for name in engine.playbook.categories}
    return gaps.topics(desk.store, workspace, lambda texts: embed_texts(engine.embedder, texts), known, owners)


def proposals(desk: SupportDesk, workspace: str, include_decided: bool = False) -> list[dict[str, Any]]:
    """The open proposals (and, if asked, the decided ones with their decision)."""
    done = decided(desk, workspace)
    out = []
    for topic in topics(desk, workspace):
        if topic.id in done and not include_decided:
            continue
        out.append({**topic.as_dict(), "status": done.get(topic.id, {}).get("decision", "proposed")})
    return out


def decide(desk: SupportDesk, workspace: str, proposal_id: str, decision: str, who: str,
           title: str | None = None, body: str | None = None) -> dict[str, Any]:
    """Accept (optionally with an edited title/body) or dismiss a proposal; the article's id on accept."""
    if proposal_id in decided(desk, workspace):
        raise ProposalConflict(f"proposal {proposal_id} was already decided")
    topic = next((x for x in topics(desk, workspace) if x.id == proposal_id), None)
    if topic is None:
        raise NotFound(f"no open knowledge-gap proposal '{proposal_id}' (its tickets changed, or it never existed)")
    detail: dict[str, Any] = {"proposal_id": proposal_id, "title": title or topic.title,
                              "tickets": [x["ticket_id"] for x in topic.tickets], "edited": body is not None or title is not None}
    if decision == "accept":
        engine = desk.engine_of(workspace)
        try:
            path = gaps.write_article(Path(engine.data.root) / "knowledge", topic, title, body)
        except FileExistsError as exc:
            raise ProposalConflict(str(exc)) from exc
        detail["document"] = path.stem
        desk.workspaces.forget(workspace)  # the next ticket loads the knowledge base with the new article
    with desk.store.transaction() as tx:
        event = {"accept": "gap.accepted", "dismiss": "gap.dismissed"}[decision]
        tx.execute(t.audit.insert().values(thread_id=_trail(workspace), event=event, actor=who, detail=json.dumps(detail), at=now()))
    return {"status": "accepted" if decision == "accept" else "dismissed", **detail}
