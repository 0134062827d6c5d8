"""Approvals bound to what was shown (issue 13 item 2), over real HTTP on SQLite and PostgreSQL.

A decision carries the digest of the proposal the reviewer saw; after a redraft the old digest is refused
with 409 and the current one; an edit can narrow a proposal, never add to it; every decision is recorded
with reviewer, role and digest, and the audit trail exports as JSON and CSV.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from tests.integration.conftest import REFUND, Deployment, deployment_per_database, submit

pytestmark = pytest.mark.integration


dep = deployment_per_database("digest")


def _new(client: httpx.Client, dep: Deployment) -> dict[str, Any]:
    r = submit(client, dep, {"id": f"D-{uuid.uuid4().hex[:8]}", **REFUND})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _decide(client: httpx.Client, dep: Deployment, tid: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"{dep.url}/v1/tickets/{tid}/review", json=body, headers=dep.headers("reviewer@acme"))


def test_a_decision_on_a_stale_proposal_is_refused_with_the_current_digest(dep: Deployment, client: httpx.Client) -> None:
    view = _new(client, dep)
    tid, shown = view["ticket"]["id"], view["interrupts"][0]
    assert len(shown["digest"]) == 32
    redraft = _decide(client, dep, tid, {"interrupt_id": shown["id"], "digest": shown["digest"], "type": "response",
                                         "args": "Mention the invoice number."})
    assert redraft.status_code == 200, redraft.text
    pending = redraft.json()["interrupts"][0]
    assert pending["digest"] != shown["digest"]
    # the reviewer approves what they saw before the redraft, naming the new interrupt: refused, nothing applied
    stale = _decide(client, dep, tid, {"interrupt_id": pending["id"], "digest": shown["digest"], "type": "accept"})
    assert stale.status_code == 409, stale.text
    assert stale.json()["current_digest"] == pending["digest"] and stale.json()["interrupt_id"] == pending["id"]
    now = client.get(f"{dep.url}/v1/tickets/{tid}", headers=dep.headers("reviewer@acme")).json()
    assert now["status"] == "awaiting_review" and now["ledger"] == [] or all(
        row["action"] != "issue_refund" for row in now["ledger"])
    ok = _decide(client, dep, tid, {"interrupt_id": pending["id"], "digest": pending["digest"], "type": "ignore"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["decisions"][-1]["digest"] == pending["digest"]


def test_an_edit_that_adds_an_action_is_refused(dep: Deployment, client: httpx.Client) -> None:
    view = _new(client, dep)
    tid, shown = view["ticket"]["id"], view["interrupts"][0]
    kept = [a["id"] for a in shown["action_request"]["args"]["actions"]]
    added = _decide(client, dep, tid, {"interrupt_id": shown["id"], "type": "edit",
                                       "args": {"actions": [*kept, "a99-issue_credit"]}})
    assert added.status_code == 422, added.text
    widened = _decide(client, dep, tid, {"interrupt_id": shown["id"], "type": "edit", "args": {
        "actions": [{"id": "a99-close_account", "args": {"scope": "account"}}]}})
    assert widened.status_code == 422, widened.text
    after = client.get(f"{dep.url}/v1/tickets/{tid}", headers=dep.headers("reviewer@acme")).json()
    assert after["status"] == "awaiting_review" and after["outbox"] == []


def test_decisions_record_reviewer_role_and_digest_and_export_as_csv(dep: Deployment, client: httpx.Client) -> None:
    view = _new(client, dep)
    tid, shown = view["ticket"]["id"], view["interrupts"][0]
    done = _decide(client, dep, tid, {"interrupt_id": shown["id"], "type": "accept"})  # digest derived by the server
    assert done.status_code == 200, done.text
    record = done.json()["decisions"][-1]
    assert (record["reviewer"], record["role"], record["digest"]) == ("reviewer-acme", "reviewer", shown["digest"])
    events = client.get(f"{dep.url}/v1/tickets/{tid}/audit", headers=dep.headers("reviewer@acme")).json()
    decided = [e for e in events if e["event"] == "review.decided"]
    assert decided and decided[-1]["detail"]["digest"] == shown["digest"] and decided[-1]["detail"]["role"] == "reviewer"
    r = client.get(f"{dep.url}/v1/tickets/{tid}/audit", params={"format": "csv"}, headers=dep.headers("reviewer@acme"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    row = next(x for x in rows if x["event"] == "review.decided")
    assert (row["actor"], row["role"], row["digest"], row["decision"]) == ("reviewer-acme", "reviewer", shown["digest"], "accept")
    assert any(x["event"] == "action.applied" and x["action"] == "issue_refund" for x in rows)
    bad = client.get(f"{dep.url}/v1/tickets/{tid}/audit", params={"format": "xml"}, headers=dep.headers("reviewer@acme"))
    assert bad.status_code == 422
