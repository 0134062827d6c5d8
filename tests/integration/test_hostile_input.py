"""Nothing poisons the service: malformed and hostile input gets a 4xx with a reason, nothing is applied, and
card data never reaches the store, the logs or a notification (real uvicorn, 2 workers, SQLite)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.integration.conftest import REFUND, Deployment, submit

pytestmark = pytest.mark.integration
CARD, IBAN = "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00"


def _raw(client: httpx.Client, dep: Deployment, body: bytes, path: str = "/v1/tickets", who: str = "submitter@acme",
         **headers: str) -> httpx.Response:
    return client.post(f"{dep.url}{path}", content=body, headers={**dep.headers(who), "Content-Type": "application/json",
                                                                  **headers})


@pytest.mark.parametrize("body", [
    b'{"subject": NaN, "body": "hello"}',
    b'{"subject": "hi", "body": "lone \\ud800 surrogate"}',
    b'{"subject": "hi", "body": "nul \\u0000 byte"}',
    b'{"id": "..", "subject": "hi", "body": "dots"}',
    b'{"subject": "hi", "body": "x", "email": "not an address"}',
])
def test_malformed_tickets_are_422_and_never_burn_an_id(dep: Deployment, client: httpx.Client, body: bytes) -> None:
    r = _raw(client, dep, body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]
    assert "\\ud800" not in r.text and "\x00" not in r.text
    ok = submit(client, dep, {"id": f"ok-{uuid.uuid4().hex[:6]}", "subject": "hi", "body": "a normal question"})
    assert ok.status_code == 201  # the service is fine afterwards


def test_an_idempotency_key_is_bound_to_its_ticket(dep: Deployment, client: httpx.Client) -> None:
    key = f"mail-{uuid.uuid4().hex[:8]}"
    first = submit(client, dep, {**REFUND, "body": "Refund invoice INV-20931 please"}, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    again = submit(client, dep, {**REFUND, "body": "Refund invoice INV-20931 please"}, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.json()["thread_id"] == first.json()["thread_id"]
    other = submit(client, dep, {**REFUND, "body": "A different customer wants INV-77777 refunded"},
                   headers={"Idempotency-Key": key})
    assert other.status_code == 422 and "different ticket" in other.json()["detail"]


def test_a_poison_decision_is_refused_and_the_review_stays_pending(dep: Deployment, client: httpx.Client) -> None:
    view = submit(client, dep, {**REFUND, "id": f"poison-{uuid.uuid4().hex[:6]}"}).json()
    interrupt = view["interrupts"][0]["id"]
    nested: object = "x"
    for _ in range(300):
        nested = {"a": nested}
    url = f"{dep.url}/v1/tickets/{view['thread_id']}/review"
    poison = {"interrupt_id": interrupt, "type": "edit", "args": {"actions": [{"id": "a4-send_reply", "args": nested}]}}
    r = client.post(url, content=json.dumps(poison).encode(), headers={**dep.headers("reviewer@acme"),
                                                                      "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    bad_amount = {"interrupt_id": interrupt, "type": "edit", "args": {"actions": [
        {"id": a["id"], "args": {"amount": "NaN"}} for a in view["interrupts"][0]["action_request"]["args"]["actions"]
        if a["name"] == "issue_refund"]}}
    assert client.post(url, json=bad_amount, headers=dep.headers("reviewer@acme")).status_code == 422
    now = client.get(f"{dep.url}/v1/tickets/{view['thread_id']}", headers=dep.headers("reviewer@acme")).json()
    assert now["status"] == "awaiting_review" and now["ledger"] == [] and now["interrupts"][0]["id"] == interrupt
    accepted = client.post(url, json={"interrupt_id": interrupt, "type": "accept"}, headers=dep.headers("reviewer@acme"))
    assert accepted.status_code == 200 and accepted.json()["status"] == "completed"


def test_card_numbers_and_ibans_are_stored_nowhere(dep: Deployment, client: httpx.Client) -> None:
    ticket = {"id": f"pii-{uuid.uuid4().hex[:6]}", "customer_id": "cus_001",
              "subject": f"Refund to card {CARD}",
              "body": f"Charged twice on invoice INV-20931. My card {CARD} CVV 737, or wire it to {IBAN}. "
                      "Call me at +49 30 1234 5678 or write to dana@acmelogistics.de. Refund the €120 please, we are very unhappy."}
    r = submit(client, dep, ticket)
    assert r.status_code == 201, r.text
    packet = r.json()["packet"]
    assert "1111" in packet["message"] and CARD not in json.dumps(packet)  # the reviewer still sees "card ending 1111"
    decided = client.post(f"{dep.url}/v1/tickets/{ticket['id']}/review", headers=dep.headers("reviewer@acme"),
                          json={"interrupt_id": r.json()["interrupts"][0]["id"], "type": "accept"})
    assert decided.status_code == 200
    digits, iban = CARD.replace(" ", ""), IBAN.replace(" ", "")
    for path in sorted(dep.state.glob("*.db*")) + [dep.state / "server.log"]:
        blob = path.read_bytes()
        for needle in (CARD, digits, IBAN, iban, "737,"):
            assert needle.encode() not in blob, f"{needle} found in {path.name}"
    notes = dep.store.query("SELECT message FROM notifications")
    assert not any(digits in str(n["message"]).replace(" ", "") for n in notes)
