"""Webhook intake over a real 2-worker server, on SQLite and PostgreSQL.

A help desk's event signed with the workspace's secret (made by ``support-agent webhooks secret``)
runs the ticket to its review; a bad signature, a stale timestamp or an unknown workspace gets 401;
a replayed event or another event for the same ticket gets 200 and runs nothing; a malformed body
with a valid signature gets 422.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import pytest

from api.webhooks import sign
from tests.integration.conftest import REFUND, REPO, Deployment, deployment_per_database

pytestmark = pytest.mark.integration

dep = deployment_per_database("webhooks")


def cli(dep: Deployment, *args: str) -> Any:
    done = subprocess.run([sys.executable, "-m", "cli.main", *args, "--json"], cwd=REPO, env=dep.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def secret(dep: Deployment) -> str:
    created = cli(dep, "webhooks", "secret", "--workspace", "acme")
    assert created["workspace"] == "acme" and created["secret"].startswith("whsec_")
    return str(created["secret"])


def event(ticket_id: str, event_id: str | None = None, **ticket: Any) -> bytes:
    body = {"event_id": event_id or f"evt-{uuid.uuid4().hex[:10]}", "ticket": {"id": ticket_id, **REFUND, **ticket}}
    return json.dumps(body).encode()


def signed(secret: str, body: bytes, at: int | None = None, workspace: str = "acme") -> dict[str, str]:
    timestamp = str(int(time.time()) if at is None else at)
    return {"X-Support-Workspace": workspace, "X-Support-Timestamp": timestamp,
            "X-Support-Signature": sign(secret, timestamp, body), "Content-Type": "application/json"}


def deliver(client: httpx.Client, dep: Deployment, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return client.post(f"{dep.url}/v1/webhooks/tickets", content=body, headers=headers)


def test_a_signed_event_runs_the_ticket_once_and_replays_run_nothing(dep: Deployment, client: httpx.Client,
                                                                      secret: str) -> None:
    ticket_id = f"HD-{uuid.uuid4().hex[:8]}"
    body = event(ticket_id, "evt-first")
    headers = signed(secret, body)
    first = deliver(client, dep, body, headers)
    assert first.status_code == 202, first.text
    assert first.headers["location"] == f"/v1/tickets/{ticket_id}"
    assert first.json()["outcome"] == "accepted" and not first.json()["replayed"]

    # The same delivery again, byte for byte, while the run is queued or running: no second run.
    again = deliver(client, dep, body, headers)
    assert again.status_code == 200 and again.json()["replayed"] and again.json()["outcome"] == "accepted"

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        view = client.get(f"{dep.url}{first.headers['location']}", headers=dep.headers("reviewer@acme")).json()
        if view["status"] == "awaiting_review":
            break
        assert view["status"] in ("queued", "running"), view
        time.sleep(0.2)
    assert view["status"] == "awaiting_review" and view["interrupts"][0]["id"]

    # A replay signed afresh, and another event about the same help-desk ticket (an edit): 200, nothing runs.
    replay = deliver(client, dep, body, signed(secret, body))
    assert replay.status_code == 200 and replay.json()["replayed"] and replay.json()["status"] == "awaiting_review"
    other = event(ticket_id, "evt-second", subject="Refund please (edited)")
    update = deliver(client, dep, other, signed(secret, other))
    assert update.status_code == 200, update.text
    assert update.json()["outcome"] == "duplicate_ticket" and not update.json()["replayed"]
    assert update.headers["location"] == f"/v1/tickets/{ticket_id}"

    time.sleep(1)  # a second run, had one been queued, would have started by now
    trail = client.get(f"{dep.url}/v1/tickets/{ticket_id}/audit", headers=dep.headers("reviewer@acme")).json()
    events = [e["event"] for e in trail]
    assert events.count("ticket.submitted") == 1 and events.count("run.stopped") == 1, events
    assert [e["actor"] for e in trail if e["event"] == "ticket.submitted"] == ["webhook"]
    # The ticket belongs to its workspace only.
    assert client.get(f"{dep.url}/v1/tickets/{ticket_id}", headers=dep.headers("reviewer@globex")).status_code == 404


def test_bad_signature_stale_timestamp_and_unknown_workspace_get_401(dep: Deployment, client: httpx.Client,
                                                                       secret: str) -> None:
    ticket_id = f"HD-{uuid.uuid4().hex[:8]}"
    body = event(ticket_id)
    forged = signed("whsec_not-the-secret", body)
    r = deliver(client, dep, body, forged)
    assert r.status_code == 401 and r.json()["detail"].startswith("invalid signature")
    tampered = deliver(client, dep, body.replace(b"Refund please", b"Refund PLEASE"), signed(secret, body))
    assert tampered.status_code == 401 and tampered.json()["detail"] == r.json()["detail"]
    stale = deliver(client, dep, body, signed(secret, body, at=int(time.time()) - 600))
    assert stale.status_code == 401 and "more than 300 s" in stale.json()["detail"]
    unsigned = deliver(client, dep, body, {"X-Support-Workspace": "acme", "Content-Type": "application/json"})
    assert unsigned.status_code == 401 and "missing" in unsigned.json()["detail"]
    # globex has no secret, nosuch does not exist: both answer exactly like a wrong signature.
    for workspace in ("globex", "nosuch"):
        other = deliver(client, dep, body, signed(secret, body, workspace=workspace))
        assert other.status_code == 401 and other.json()["detail"] == r.json()["detail"]
    assert client.get(f"{dep.url}/v1/tickets/{ticket_id}", headers=dep.headers("reviewer@acme")).status_code == 404


def test_a_malformed_body_with_a_valid_signature_gets_422_or_400(dep: Deployment, client: httpx.Client,
                                                                  secret: str) -> None:
    no_subject = json.dumps({"event_id": "evt-bad-1", "ticket": {"id": "HD-bad", "body": "text"}}).encode()
    r = deliver(client, dep, no_subject, signed(secret, no_subject))
    assert r.status_code == 422 and "subject" in r.json()["detail"]
    no_ticket_id = json.dumps({"event_id": "evt-bad-2", "ticket": {"subject": "s", "body": "b"}}).encode()
    assert deliver(client, dep, no_ticket_id, signed(secret, no_ticket_id)).status_code == 422
    no_event_id = json.dumps({"ticket": {"id": "HD-bad", "subject": "s", "body": "b"}}).encode()
    assert deliver(client, dep, no_event_id, signed(secret, no_event_id)).status_code == 422
    not_json = b'{"event_id": "evt-bad-3", "ticket": '
    assert deliver(client, dep, not_json, signed(secret, not_json)).status_code == 400
    # A refused event is not recorded: the same event id, fixed, is accepted.
    fixed = event("HD-bad", "evt-bad-1")
    assert deliver(client, dep, fixed, signed(secret, fixed)).status_code == 202


def test_rotation_keeps_both_secrets_until_the_old_is_revoked(dep: Deployment, client: httpx.Client, secret: str) -> None:
    # A body that does not validate tells "signature accepted" (422) from "refused" (401) without running anything.
    body = json.dumps({"event_id": "evt-rotate", "ticket": {}}).encode()
    new = cli(dep, "webhooks", "secret", "--workspace", "acme", "--keep")
    assert deliver(client, dep, body, signed(new["secret"], body)).status_code == 422
    assert deliver(client, dep, body, signed(secret, body)).status_code == 422
    listed = cli(dep, "webhooks", "list", "--workspace", "acme")
    assert new["secret_id"] in {row["secret_id"] for row in listed} and all("secret" not in row for row in listed)
    cli(dep, "webhooks", "revoke", new["secret_id"])
    assert deliver(client, dep, body, signed(new["secret"], body)).status_code == 401
    assert deliver(client, dep, body, signed(secret, body)).status_code == 422
