"""The reviewer console over a real uvicorn (2 workers, SQLite): the page, its assets, and the API flow it drives."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest

from tests.integration.conftest import REFUND, Deployment, submit

pytestmark = pytest.mark.integration


def test_console_page_is_served_without_secrets(dep: Deployment, client: httpx.Client) -> None:
    r = client.get(f"{dep.url}/console")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "<title>" in html and 'src="console/static/console.js"' in html and 'href="console/static/console.css"' in html
    assert not re.search(r"sda_[0-9a-f]{12}_", html), "the page must not embed an API key"
    assert not any(key in html for key in dep.keys.values())
    assert not re.search(r"https?://", html), "everything is served locally (no CDN)"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    # the page is not part of the API's OpenAPI document
    assert "/console" not in client.get(f"{dep.url}/openapi.json").json()["paths"]


def test_console_assets_are_served_and_nothing_else(dep: Deployment, client: httpx.Client) -> None:
    js = client.get(f"{dep.url}/console/static/console.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    for call in ("v1/reviews", "/review`", "sessionStorage", "Authorization", "interrupt_id"):
        assert call in js.text, call
    # data reaches the DOM as text only: no HTML parsing of anything
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in js.text, sink
    assert not re.search(r"https?://", js.text)
    css = client.get(f"{dep.url}/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for path in ("/console/static/console.html", "/console/static/..%2Fapp.py", "/console/static/nope.js",
                 "/console/static/../routers/console.py"):
        r = client.get(f"{dep.url}{path}")
        assert r.status_code == 404, (path, r.status_code)
        assert "import" not in r.text


def _outbox(dep: Deployment, thread_id: str) -> list[str]:
    return [str(row["body"]) for row in dep.store.query("SELECT body FROM outbox WHERE ticket_id = :t", {"t": thread_id})]


def test_console_flow_edit_then_second_decision_is_409(dep: Deployment, client: httpx.Client) -> None:
    """What the page does: list with a reviewer key, open the ticket, save an edited reply, then a stale second click."""
    tid = f"con-{uuid.uuid4().hex[:8]}"
    assert submit(client, dep, {"id": tid, **REFUND}).status_code == 201
    reviewer = dep.headers("reviewer@acme")

    queue = client.get(f"{dep.url}/v1/reviews", params={"limit": 200}, headers=reviewer)
    assert queue.status_code == 200
    item = next(i for i in queue.json() if i["ticket_id"] == tid)
    thread = item["thread_id"]
    for field in ("priority", "category", "sla_hours", "risk_flags", "age_minutes", "sla_remaining_minutes", "tiers"):
        assert field in item, field
    assert item["category"] == "refund" and "never_without_approval" in item["tiers"]

    view = client.get(f"{dep.url}/v1/tickets/{tid}", headers=reviewer).json()
    interrupt = view["interrupts"][0]
    assert interrupt["id"] == item["interrupt_id"]
    assert interrupt["description"].startswith("## Ticket") and "### Draft reply" in interrupt["description"]
    proposal = interrupt["action_request"]["args"]
    assert proposal["reply"] and {a["name"] for a in proposal["actions"]} >= {"send_reply", "issue_refund"}
    assert all(a["tier"] for a in proposal["actions"])

    review = f"{dep.url}/v1/tickets/{tid}/review"
    # what the page shows as a 422: an empty edited reply, an unknown kept action
    r = client.post(review, json={"interrupt_id": interrupt["id"], "type": "edit", "args": {"reply": ""}}, headers=reviewer)
    assert r.status_code == 422 and r.json()["detail"].startswith("invalid decision")
    r = client.post(review, json={"interrupt_id": interrupt["id"], "type": "edit", "args": {"reply": "x", "actions": ["nope"]}},
                    headers=reviewer)
    assert r.status_code == 422 and "unknown action ids" in r.json()["detail"]
    assert _outbox(dep, thread) == []

    edited = f"Hi Priya, the refund of INV-20931 is approved ({tid}). — Quillstack Support"
    r = client.post(review, json={"interrupt_id": interrupt["id"], "type": "edit", "args": {"reply": edited}}, headers=reviewer)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "completed" and done["interrupts"] == []
    assert done["decisions"][-1]["type"] == "edit" and done["decisions"][-1]["reviewer"] == "reviewer-acme"
    assert done["decisions"][-1]["changes"]["reply_edited"] is True
    sent = [row for row in done["ledger"] if row["action"] == "send_reply"]
    assert len(sent) == 1 and json.loads(sent[0]["args"])["body"] == edited
    assert [row["action"] for row in done["ledger"]].count("issue_refund") == 1
    assert _outbox(dep, thread) == [edited]

    queue = client.get(f"{dep.url}/v1/reviews", params={"limit": 200}, headers=reviewer).json()
    assert tid not in {i["ticket_id"] for i in queue}

    # a second reviewer's stale page: 409 with who and when, nothing applied again
    r = client.post(review, json={"interrupt_id": interrupt["id"], "type": "accept"}, headers=dep.headers("admin@acme"))
    assert r.status_code == 409
    conflict = r.json()
    assert conflict["decided"]["reviewer"] == "reviewer-acme" and conflict["decided"]["decided_at"]
    assert "already decided by reviewer-acme at " + conflict["decided"]["decided_at"] in conflict["detail"]
    assert _outbox(dep, thread) == [edited]
    assert client.get(f"{dep.url}/v1/tickets/{tid}", headers=reviewer).json()["ledger"] == done["ledger"]


def test_console_flow_redraft_then_reject(dep: Deployment, client: httpx.Client) -> None:
    """Ask for redraft (type response) keeps the ticket pending with a new interrupt; Reject (ignore) applies no gated action."""
    tid = f"con-{uuid.uuid4().hex[:8]}"
    first = submit(client, dep, {"id": tid, **REFUND}).json()
    reviewer, review = dep.headers("reviewer@acme"), f"{dep.url}/v1/tickets/{tid}/review"
    old = first["interrupts"][0]["id"]
    r = client.post(review, json={"interrupt_id": old, "type": "response", "args": "   "}, headers=reviewer)
    assert r.status_code == 422
    r = client.post(review, json={"interrupt_id": old, "type": "response", "args": "Mention the 5-day processing time."},
                    headers=reviewer)
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["status"] == "awaiting_review" and again["interrupts"] and again["interrupts"][0]["id"] != old
    queue = client.get(f"{dep.url}/v1/reviews", params={"limit": 200}, headers=reviewer).json()
    assert next(i for i in queue if i["ticket_id"] == tid)["interrupt_id"] == again["interrupts"][0]["id"]

    r = client.post(review, json={"interrupt_id": again["interrupts"][0]["id"], "type": "ignore"}, headers=reviewer)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    gated = {a["name"] for a in again["interrupts"][0]["action_request"]["args"]["actions"]}
    assert not gated & {row["action"] for row in r.json()["ledger"]}
    assert _outbox(dep, first["thread_id"]) == []
