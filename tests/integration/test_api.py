"""The HTTP API over a real uvicorn (2 workers, SQLite): auth, tenancy, bad input, idempotency, queue, audit."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from tests.integration.conftest import REFUND, Deployment, submit

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def refund(dep: Deployment, client: httpx.Client) -> dict:
    """A ticket of tenant acme waiting for review."""
    r = submit(client, dep, {"id": f"ref-{uuid.uuid4().hex[:8]}", **REFUND})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "awaiting_review" and body["interrupts"]
    return body


def test_health_and_readiness(dep: Deployment, client: httpx.Client) -> None:
    assert client.get(f"{dep.url}/healthz").json() == {"status": "ok"}
    assert client.get(f"{dep.url}/readyz").json() == {"status": "ready", "database": "sqlite"}


def test_openapi_documents_the_endpoints(dep: Deployment, client: httpx.Client) -> None:
    paths = client.get(f"{dep.url}/openapi.json").json()["paths"]
    assert {"/v1/tickets", "/v1/tickets/{ticket_id}", "/v1/reviews", "/v1/tickets/{ticket_id}/review",
            "/v1/tickets/{ticket_id}/audit", "/healthz", "/readyz"} <= set(paths)


# --- auth -------------------------------------------------------------------------------------------------


def test_unauthenticated_requests_get_401_with_a_reason(dep: Deployment, client: httpx.Client, refund: dict) -> None:
    for method, path in [("GET", "/v1/reviews"), ("GET", f"/v1/tickets/{refund['thread_id']}"),
                         ("POST", "/v1/tickets"), ("POST", f"/v1/tickets/{refund['thread_id']}/review")]:
        r = client.request(method, f"{dep.url}{path}", json={})
        assert r.status_code == 401, (path, r.text)
        assert "API key" in r.json()["detail"] and r.headers["www-authenticate"] == "Bearer"
    bad = {"Authorization": "Bearer sda_000000000000_not-a-real-key"}
    r = client.get(f"{dep.url}/v1/reviews", headers=bad)
    assert r.status_code == 401 and r.json()["detail"] == "invalid or revoked API key"
    r = client.get(f"{dep.url}/v1/reviews", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401 and "Bearer" in r.json()["detail"]


def test_wrong_role_gets_403(dep: Deployment, client: httpx.Client, refund: dict) -> None:
    r = client.get(f"{dep.url}/v1/reviews", headers=dep.headers("submitter@acme"))
    assert r.status_code == 403 and "role 'submitter'" in r.json()["detail"] and "reviewer" in r.json()["detail"]
    r = client.post(f"{dep.url}/v1/tickets/{refund['thread_id']}/review", headers=dep.headers("submitter@acme"),
                    json={"interrupt_id": refund["interrupts"][0]["id"], "type": "accept"})
    assert r.status_code == 403
    r = submit(client, dep, {"id": "never", **REFUND}, who="reviewer@acme")
    assert r.status_code == 403 and "role 'reviewer'" in r.json()["detail"]
    r = client.get(f"{dep.url}/v1/tickets/{refund['thread_id']}/audit", headers=dep.headers("submitter@acme"))
    assert r.status_code == 403


def test_other_tenants_cannot_see_or_decide(dep: Deployment, client: httpx.Client, refund: dict) -> None:
    tid, iid = refund["thread_id"], refund["interrupts"][0]["id"]
    for who in ("reviewer@globex", "admin@globex"):
        assert client.get(f"{dep.url}/v1/tickets/{tid}", headers=dep.headers(who)).status_code == 404
        assert client.get(f"{dep.url}/v1/tickets/{tid}/audit", headers=dep.headers(who)).status_code == 404
        r = client.post(f"{dep.url}/v1/tickets/{tid}/review", headers=dep.headers(who),
                        json={"interrupt_id": iid, "type": "accept"})
        assert r.status_code == 404 and "unknown ticket" in r.json()["detail"]
        queue = client.get(f"{dep.url}/v1/reviews", headers=dep.headers(who)).json()
        assert tid not in {item["thread_id"] for item in queue}
    # Ticket ids are per workspace: globex may use the same id; it gets its own run and learns nothing of acme's.
    r = submit(client, dep, {**REFUND, "id": refund["ticket"]["id"]}, who="submitter@globex")
    assert r.status_code == 201, r.text
    assert r.json()["thread_id"] != tid and r.json()["ticket"]["id"] == refund["ticket"]["id"]
    assert r.headers["Location"] == f"/v1/tickets/{refund['ticket']['id']}"
    # still pending for its own tenant
    r = client.get(f"{dep.url}/v1/tickets/{tid}", headers=dep.headers("reviewer@acme"))
    assert r.status_code == 200 and r.json()["status"] == "awaiting_review"


# --- bad input --------------------------------------------------------------------------------------------


def test_malformed_json_and_missing_fields_are_4xx_with_a_reason(dep: Deployment, client: httpx.Client,
                                                                 refund: dict) -> None:
    h = {**dep.headers("admin@acme"), "Content-Type": "application/json"}
    r = client.post(f"{dep.url}/v1/tickets", content=b'{"subject": ', headers=h)
    assert r.status_code == 400 and r.json()["detail"].startswith("malformed JSON")
    r = client.post(f"{dep.url}/v1/tickets", json={"subject": "no body"}, headers=h)
    assert r.status_code == 422 and "body.body: Field required" in r.json()["detail"]
    r = client.post(f"{dep.url}/v1/tickets", json=[1, 2], headers=h)
    assert r.status_code == 422
    r = client.post(f"{dep.url}/v1/tickets", json={"id": "bad id/..", **REFUND}, headers=h)
    assert r.status_code == 422 and "body.id" in r.json()["detail"]
    r = client.post(f"{dep.url}/v1/tickets", json={**REFUND, "subject": "x" * 501}, headers=h)
    assert r.status_code == 422
    review = f"{dep.url}/v1/tickets/{refund['thread_id']}/review"
    r = client.post(review, content=b"not json", headers=h)
    assert r.status_code == 400
    r = client.post(review, json={"type": "accept"}, headers=h)
    assert r.status_code == 422 and "interrupt_id" in r.json()["detail"]
    r = client.post(review, json={"interrupt_id": refund["interrupts"][0]["id"], "type": "approve"}, headers=h)
    assert r.status_code == 422 and "body.type" in r.json()["detail"]
    r = client.post(review, json={"interrupt_id": refund["interrupts"][0]["id"], "type": "edit"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"].startswith("invalid decision")
    r = client.get(f"{dep.url}/v1/reviews", params={"limit": 0}, headers=h)
    assert r.status_code == 422 and "limit" in r.json()["detail"]


def test_bodies_over_1_mb_get_413(dep: Deployment, client: httpx.Client) -> None:
    h = {**dep.headers("submitter@acme"), "Content-Type": "application/json"}
    big = b'{"subject": "big", "body": "' + b"a" * (1024 * 1024) + b'"}'
    r = client.post(f"{dep.url}/v1/tickets", content=big, headers=h)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(20):
            yield b"a" * 65536

    r = client.post(f"{dep.url}/v1/tickets", content=chunks(), headers=h)
    assert r.status_code == 413


def test_unknown_ids_are_404(dep: Deployment, client: httpx.Client, refund: dict) -> None:
    h = dep.headers("admin@acme")
    r = client.get(f"{dep.url}/v1/tickets/nope-{uuid.uuid4().hex}", headers=h)
    assert r.status_code == 404 and "unknown ticket" in r.json()["detail"]
    r = client.get(f"{dep.url}/v1/tickets/nope/audit", headers=h)
    assert r.status_code == 404
    r = client.post(f"{dep.url}/v1/tickets/nope/review", json={"interrupt_id": "x", "type": "accept"}, headers=h)
    assert r.status_code == 404
    r = client.post(f"{dep.url}/v1/tickets/{refund['thread_id']}/review", json={"interrupt_id": "x" * 32, "type": "accept"},
                    headers=h)
    assert r.status_code == 404 and "has no interrupt" in r.json()["detail"]


# --- submit, review, audit --------------------------------------------------------------------------------


def test_idempotency_key_returns_the_same_run(dep: Deployment, client: httpx.Client) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    ticket = {"subject": "Cannot log in", "body": "SSO login fails since this morning", "customer_id": "cus_002"}
    first = submit(client, dep, ticket, headers=key)
    again = submit(client, dep, ticket, headers=key)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["thread_id"] == again.json()["thread_id"]
    assert again.headers["location"] == f"/v1/tickets/{first.json()['ticket']['id']}"

    async def concurrent() -> list[httpx.Response]:  # two retries racing: one run
        key = {**dep.headers("submitter@acme"), "Idempotency-Key": uuid.uuid4().hex}
        async with httpx.AsyncClient(timeout=60) as a, httpx.AsyncClient(timeout=60) as b:
            return list(await asyncio.gather(*(c.post(f"{dep.url}/v1/tickets", json=ticket, headers=key) for c in (a, b))))

    responses = asyncio.run(concurrent())
    assert sorted(r.status_code for r in responses) in ([201, 202], [200, 201])
    assert len({r.json()["thread_id"] for r in responses}) == 1


def test_wait_false_returns_202_and_runs_in_background(dep: Deployment, client: httpx.Client) -> None:
    r = submit(client, dep, {"id": f"bg-{uuid.uuid4().hex[:8]}", **REFUND}, params={"wait": "false"})
    assert r.status_code == 202 and r.headers["location"] == f"/v1/tickets/{r.json()['ticket_id']}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        view = client.get(f"{dep.url}{r.headers['location']}", headers=dep.headers("submitter@acme")).json()
        if view["status"] == "awaiting_review":
            break
        assert view["status"] in ("queued", "running")
        time.sleep(0.2)
    assert view["status"] == "awaiting_review" and view["interrupts"][0]["id"]


def test_review_queue_sorted_by_sla_risk_and_filtered(dep: Deployment, client: httpx.Client, refund: dict) -> None:
    low = submit(client, dep, {"id": f"q-{uuid.uuid4().hex[:8]}", "customer_id": "cus_003",
                               "subject": "Question about invoices", "body": "Can I get invoices as PDF? Also refund "
                               "the last one please, invoice INV-10001."}).json()
    h = dep.headers("reviewer@acme")
    queue = client.get(f"{dep.url}/v1/reviews", headers=h).json()
    remaining = [item["sla_remaining_minutes"] for item in queue]
    assert remaining == sorted(remaining) and refund["thread_id"] in {i["thread_id"] for i in queue}
    tiers = client.get(f"{dep.url}/v1/reviews", params={"tier": "never_without_approval"}, headers=h).json()
    assert all("never_without_approval" in i["tiers"] for i in tiers) and tiers
    by_category = client.get(f"{dep.url}/v1/reviews", params={"category": "refund"}, headers=h).json()
    assert by_category and all(i["category"] == "refund" for i in by_category)
    assert client.get(f"{dep.url}/v1/reviews", params={"min_age_minutes": 600}, headers=h).json() == []
    assert low["status"] in ("awaiting_review", "completed")


def test_decision_applies_once_and_second_gets_409_with_who_and_when(dep: Deployment, client: httpx.Client) -> None:
    ticket = submit(client, dep, {"id": f"d-{uuid.uuid4().hex[:8]}", **REFUND}).json()
    tid, iid = ticket["thread_id"], ticket["interrupts"][0]["id"]
    r = client.post(f"{dep.url}/v1/tickets/{tid}/review", json={"interrupt_id": iid, "type": "accept"},
                    headers=dep.headers("reviewer@acme"))
    assert r.status_code == 200 and r.json()["status"] == "completed"
    assert "issue_refund" in {row["action"] for row in r.json()["ledger"]}
    r = client.post(f"{dep.url}/v1/tickets/{tid}/review", json={"interrupt_id": iid, "type": "ignore"},
                    headers=dep.headers("admin@acme"))
    assert r.status_code == 409
    assert r.json()["decided"]["reviewer"] == "reviewer-acme" and r.json()["decided"]["decided_at"]
    assert "reviewer-acme" in r.json()["detail"]
    events = client.get(f"{dep.url}/v1/tickets/{tid}/audit", headers=dep.headers("reviewer@acme")).json()
    names = [e["event"] for e in events]
    assert names[0] == "ticket.submitted" and "review.claimed" in names and "review.refused" in names
    assert sum(1 for e in events if e["event"] == "action.applied" and e["detail"]["action"] == "issue_refund") == 1
    view = client.get(f"{dep.url}/v1/tickets/{tid}", headers=dep.headers("submitter@acme")).json()
    assert view["status"] == "completed" and view["history"] and view["decisions"][0]["reviewer"] == "reviewer-acme"
