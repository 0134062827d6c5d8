"""Knowledge gaps become articles a person approves (issue 14 item 1), on a copy of the sample company.

Three tickets about something the knowledge base does not cover (online notarization); the reviewers
rewrite each reply with what the team actually answers. They form one topic; its proposal is built from
the replies that were sent; accepting it writes the article, and the next ticket on the topic cites it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from tests.integration.conftest import Deployment, submit

pytestmark = pytest.mark.integration
ANSWER = ("Quillstack does not notarize documents itself. You can sign the document in Quillstack and then have a "
          "licensed notary notarize the signed copy separately. Remote online notarization is not available in Quillstack today.")
TICKETS = [
    ("Notarization", "Can Quillstack notarize our purchase agreement online? We need a notary seal on it."),
    ("Online notary?", "Does Quillstack offer remote online notarization for signed contracts?"),
    ("Notarized documents", "Our bank wants the loan documents notarized. Can we get them notarized through Quillstack?"),
]


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Any]:
    from api.service import SupportDesk
    from tools.settings import Settings

    data = tmp_path / "company"
    shutil.copytree(REPO / "data", data)
    service = SupportDesk(Settings(state_dir=tmp_path / "state", data_dir=data))
    yield service
    service.close()


def _edit(desk: Any, view: dict[str, Any], reply: str) -> dict[str, Any]:
    first = view["packet"]["draft_reply"].splitlines()[0]
    text = f"{first}\n\n{ANSWER}\n\nBest regards,\nThe Quillstack Support Team"
    return desk.decide(view["thread_id"], {"type": "edit", "args": {"reply": text}, "reviewer": "maya"},
                       interrupt_id=view["interrupts"][0]["id"])


def test_edited_replies_on_one_topic_become_an_article_that_new_tickets_cite(desk: Any, new_id: Any) -> None:
    from api import gaps

    for subject, body in TICKETS:
        view = desk.submit({"id": new_id("N"), "customer_id": "cus_002", "subject": subject, "body": body})
        assert view["status"] == "awaiting_review"
        assert "kb-notar" not in " ".join(view["packet"]["citations"])
        assert _edit(desk, view, ANSWER)["status"] == "completed"
    unrelated = desk.submit({"id": new_id("U"), "customer_id": "cus_002", "subject": "Dark mode",
                             "body": "Please add a dark mode to the editor, my eyes hurt at night."})
    desk.decide(unrelated["thread_id"], {"type": "edit", "args": {"reply": "Hi, thanks for the idea! We have passed it on."}},
                interrupt_id=unrelated["interrupts"][0]["id"])
    found = gaps.proposals(desk, "default")
    notary = [p for p in found if {t["subject"] for t in p["tickets"]} >= {s for s, _ in TICKETS}]
    assert len(notary) == 1, [(p["title"], [t["subject"] for t in p["tickets"]]) for p in found]
    proposal = notary[0]
    assert len(proposal["tickets"]) == 3 and proposal["signals"]["edited"] == 3
    assert "licensed notary" in proposal["article"] and "Best regards" not in proposal["article"]
    assert proposal["article"].startswith("---\nid: gap-")
    done = gaps.decide(desk, "default", proposal["id"], "accept", "ops-lead", title="Notarizing documents signed with Quillstack")
    doc_id = done["document"]
    assert (Path(desk.engine.data.root) / "knowledge" / f"{doc_id}.md").exists()
    assert doc_id in desk.engine.data.documents  # the reloaded knowledge base has it
    fresh = desk.submit({"id": new_id("N"), "customer_id": "cus_002", "subject": "Notary",
                         "body": "Hello, is it possible to have a contract notarized online with Quillstack?"})
    assert doc_id in fresh["packet"]["citations"], fresh["packet"]["draft_reply"]
    assert proposal["id"] not in {p["id"] for p in gaps.proposals(desk, "default")}  # decided: gone from the list
    with pytest.raises(gaps.ProposalConflict):
        gaps.decide(desk, "default", proposal["id"], "dismiss", "ops-lead")


def test_a_rejection_with_a_reason_is_a_gap_signal(desk: Any, new_id: Any) -> None:
    from tools.gaps import signals

    view = desk.submit({"id": new_id("R"), "customer_id": "cus_002", "subject": "Notarization",
                        "body": "Can Quillstack notarize our purchase agreement online?"})
    desk.decide(view["thread_id"], {"type": "response", "args": "We never say we notarize; explain the notary step."},
                interrupt_id=view["interrupts"][0]["id"])
    again = desk.view(view["thread_id"])
    desk.decide(view["thread_id"], {"type": "ignore", "args": "The knowledge base has nothing on notarization."},
                interrupt_id=again["interrupts"][0]["id"])
    mine = [s for s in signals(desk.store, "default") if s.ticket_id == view["ticket"]["id"]]
    assert {s.kind for s in mine} == {"redraft", "rejected"}
    assert any("nothing on notarization" in s.detail for s in mine if s.kind == "rejected")
    plain = desk.submit({"id": new_id("P"), "customer_id": "cus_002", "subject": "Notary", "body": "Do you notarize?"})
    desk.decide(plain["thread_id"], {"type": "ignore"}, interrupt_id=plain["interrupts"][0]["id"])
    assert not [s for s in signals(desk.store, "default") if s.ticket_id == plain["ticket"]["id"] and s.kind == "rejected"]


def test_gaps_over_http_and_the_cli(dep: Deployment, client: httpx.Client) -> None:
    r = client.get(f"{dep.url}/v1/gaps", headers=dep.headers("reviewer@acme"))
    assert r.status_code == 200 and isinstance(r.json(), list)
    assert client.get(f"{dep.url}/v1/gaps", headers=dep.headers("submitter@acme")).status_code == 403
    missing = client.post(f"{dep.url}/v1/gaps/nope/decision", json={"decision": "accept"}, headers=dep.headers("reviewer@acme"))
    assert missing.status_code == 404
    bad = client.post(f"{dep.url}/v1/gaps/nope/decision", json={"decision": "maybe"}, headers=dep.headers("reviewer@acme"))
    assert bad.status_code == 422
    ok = submit(client, dep, {"id": "GAP-1", "customer_id": "cus_002", "subject": "x", "body": "y"})
    assert ok.status_code in (200, 201)
    cli = subprocess.run([sys.executable, "-m", "cli.main", "--workspace", "acme", "gaps", "review", "nope", "--accept"],
                         cwd=REPO, env=dep.env, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 2 and "Traceback" not in cli.stderr and "nope" in cli.stderr
    listed = subprocess.run([sys.executable, "-m", "cli.main", "--workspace", "acme", "gaps", "--json"],
                            cwd=REPO, env=dep.env, capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0, listed.stderr
