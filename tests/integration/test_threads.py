"""A ticket is a thread (issue 13 item 1), over real HTTP on SQLite and PostgreSQL (2 uvicorn workers).

The agent asks for the invoice; the customer answers; the pending review is superseded (a decision on it gets
409 with the new interrupt), the new packet no longer asks for the invoice and says what changed. A reply
racing a decision gives exactly one outcome and loses neither. A reply to a finished run is the next packet
on the same ticket; what was applied before stays applied, once.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import REPO, Deployment, deployment_per_database, submit

pytestmark = pytest.mark.integration
NO_INVOICE = {"customer_id": "cus_004", "subject": "Refund for the duplicate charge",
              "body": "We were charged twice this month, $49 each time. Please refund the duplicate charge."}


dep = deployment_per_database("threads")


def _new(client: httpx.Client, dep: Deployment, ticket: dict[str, Any] = NO_INVOICE) -> dict[str, Any]:
    r = submit(client, dep, {"id": f"TH-{uuid.uuid4().hex[:8]}", **ticket})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _reply(client: httpx.Client, dep: Deployment, tid: str, body: str, **extra: Any) -> httpx.Response:
    return client.post(f"{dep.url}/v1/tickets/{tid}/messages", json={"body": body, **extra},
                       headers=dep.headers("submitter@acme"))


def _get(client: httpx.Client, dep: Deployment, tid: str) -> dict[str, Any]:
    return dict(client.get(f"{dep.url}/v1/tickets/{tid}", headers=dep.headers("reviewer@acme")).json())


def _decide(client: httpx.Client, dep: Deployment, tid: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"{dep.url}/v1/tickets/{tid}/review", json=body, headers=dep.headers("reviewer@acme"))


def _no_duplicates(view: dict[str, Any]) -> None:
    packet = view["packet"]
    ids = [m["id"] for m in packet["messages"]]
    assert len(ids) == len(set(ids)), ids
    assert len({a["id"] for a in packet["proposed_actions"]}) == len(packet["proposed_actions"])
    applied = [row["action_id"] for row in view["ledger"]]
    assert len(applied) == len(set(applied)), applied
    stamps = [(d["type"], d["at"], d.get("interrupt_id"), d.get("message_id")) for d in view["decisions"]]
    assert len(stamps) == len(set(stamps)), stamps


def test_the_customer_answers_the_invoice_question(dep: Deployment, client: httpx.Client) -> None:
    first = _new(client, dep)
    tid, old = first["ticket"]["id"], first["interrupts"][0]
    assert "invoice number" in first["packet"]["missing_information"]
    r = _reply(client, dep, tid, "Sorry, it is invoice INV-20417.")
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["message"]["author"] == "customer" and view["status"] == "awaiting_review"
    new = view["interrupts"][0]
    assert new["id"] != old["id"]
    packet = view["packet"]
    assert "invoice number" not in packet["missing_information"]
    assert packet["changes"]["round"] == 2 and "invoice number" in packet["changes"]["missing_resolved"]
    assert packet["changes"]["previous_draft"] == first["packet"]["draft_reply"]
    assert [m["author"] for m in packet["messages"]] == ["customer", "customer"]
    refund = next(a for a in packet["proposed_actions"] if a["name"] == "issue_refund")
    assert refund["args"].get("invoice") == "INV-20417"
    assert int(refund["id"].split("-")[0][1:]) > max(int(a["id"].split("-")[0][1:]) for a in first["packet"]["proposed_actions"])
    superseded = view["decisions"][-1]
    assert superseded["type"] == "superseded" and superseded["message_id"] == view["message"]["id"]
    late = _decide(client, dep, tid, {"interrupt_id": old["id"], "type": "accept"})
    assert late.status_code == 409 and "superseded by a newer message" in late.json()["detail"]
    assert late.json()["interrupt_id"] == new["id"]
    events = [e["event"] for e in client.get(f"{dep.url}/v1/tickets/{tid}/audit", headers=dep.headers("reviewer@acme")).json()]
    assert "message.received" in events and "review.superseded" in events
    ok = _decide(client, dep, tid, {"interrupt_id": new["id"], "digest": new["digest"], "type": "accept"})
    assert ok.status_code == 200, ok.text
    done = ok.json()
    assert done["status"] == "completed"
    assert [row["action"] for row in done["ledger"]].count("issue_refund") == 1
    _no_duplicates(done)


def test_a_reply_racing_a_decision_gives_one_outcome_and_loses_nothing(dep: Deployment, client: httpx.Client) -> None:
    first = _new(client, dep)
    tid, pending = first["ticket"]["id"], first["interrupts"][0]
    with httpx.Client(timeout=120) as a, httpx.Client(timeout=120) as b, ThreadPoolExecutor(2) as pool:
        decision = pool.submit(a.post, f"{dep.url}/v1/tickets/{tid}/review", json={"interrupt_id": pending["id"], "type": "ignore"},
                               headers=dep.headers("reviewer@acme"))
        reply = pool.submit(b.post, f"{dep.url}/v1/tickets/{tid}/messages", json={"body": "Also, invoice INV-20417."},
                            headers=dep.headers("submitter@acme"))
        decided, replied = decision.result(), reply.result()
    assert replied.status_code == 201, replied.text
    assert decided.status_code in (200, 409), decided.text
    view = _get(client, dep, tid)
    kinds = [d["type"] for d in view["decisions"]]
    if decided.status_code == 200:  # the decision won: the reply became the next packet on the same ticket
        assert kinds[:1] == ["ignore"] and "superseded" not in kinds
    else:  # the reply won: the decision was refused as superseded, nothing of it applied
        assert "superseded by a newer message" in decided.json()["detail"]
        assert kinds == ["superseded"]
    assert view["status"] == "awaiting_review" and view["interrupts"]
    assert [m["body"] for m in view["packet"]["messages"]][-1] == "Also, invoice INV-20417."
    assert [m["status"] for m in view["thread"]] == ["processed"]
    _no_duplicates(view)


def test_a_reply_after_completion_is_the_next_packet_and_nothing_is_undone(dep: Deployment, client: httpx.Client) -> None:
    first = _new(client, dep, {**NO_INVOICE, "body": NO_INVOICE["body"] + " Invoice INV-20417."})
    tid, pending = first["ticket"]["id"], first["interrupts"][0]
    done = _decide(client, dep, tid, {"interrupt_id": pending["id"], "type": "accept"}).json()
    assert done["status"] == "completed"
    applied = {row["action_id"] for row in done["ledger"]}
    note = _reply(client, dep, tid, "Customer called, happy with the refund.", author="agent", internal=True)
    assert note.status_code == 201 and note.json()["status"] == "completed"  # a note re-runs nothing
    again = _reply(client, dep, tid, "Thanks! Could you also send me the corrected invoice as a PDF?")
    assert again.status_code == 201, again.text
    view = again.json()
    assert view["status"] == "awaiting_review" and view["packet"]["changes"]["round"] == 2
    assert applied <= {row["action_id"] for row in view["ledger"]}  # the first round's actions stay applied
    assert [row["action"] for row in view["ledger"]].count("issue_refund") == 1
    assert not applied & {a["id"] for a in view["packet"]["proposed_actions"]}  # new ids: the new reply can be sent
    assert [(m["author"], m["internal"]) for m in view["thread"]] == [("agent", True), ("customer", False)]
    _no_duplicates(view)


def test_bad_messages_are_refused_and_store_nothing(dep: Deployment, client: httpx.Client) -> None:
    tid = _new(client, dep)["ticket"]["id"]
    for body in ({"body": ""}, {"body": "x" * 20_001}, {"body": "a\u0000b"}, {"body": "hi", "author": "bot"}, {"text": "hi"}):
        r = client.post(f"{dep.url}/v1/tickets/{tid}/messages", json=body, headers=dep.headers("submitter@acme"))
        assert r.status_code == 422, (body, r.status_code)
    assert _reply(client, dep, "no-such-ticket", "hello").status_code == 404
    assert _get(client, dep, tid)["thread"] == []


def test_cli_reply(dep: Deployment, client: httpx.Client, tmp_path: Path) -> None:
    tid = _new(client, dep)["ticket"]["id"]
    text = tmp_path / "reply.txt"
    text.write_text("The invoice is INV-20417.")
    cli = [sys.executable, "-m", "cli.main", "--workspace", "acme"]
    done = subprocess.run([*cli, "reply", tid, str(text), "--json"], cwd=REPO, env=dep.env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "invoice number" not in _get(client, dep, tid)["packet"]["missing_information"]
    empty = tmp_path / "empty.txt"
    empty.write_text("  ")
    bad = subprocess.run([*cli, "reply", tid, str(empty)], cwd=REPO, env=dep.env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_a_reply_with_wait_false_is_stored_at_once_and_runs_in_the_background(dep: Deployment, client: httpx.Client) -> None:
    import time

    view = _new(client, dep)
    tid = view["ticket"]["id"]
    r = client.post(f"{dep.url}/v1/tickets/{tid}/messages", params={"wait": "false"}, json={"body": "The invoice is INV-20417."},
                    headers=dep.headers("submitter@acme"))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "received" and r.headers["Location"] == f"/v1/tickets/{tid}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        after = _get(client, dep, tid)
        if after["thread"] and after["thread"][-1]["status"] == "processed":
            break
        time.sleep(0.3)
    assert after["thread"][-1]["status"] == "processed", after["thread"]
    assert after["status"] == "awaiting_review" and after["interrupts"][0]["id"] != view["interrupts"][0]["id"]  # a new round
    assert after["packet"]["messages"][-1]["body"] == "The invoice is INV-20417."
    _no_duplicates(after)
    note = client.post(f"{dep.url}/v1/tickets/{tid}/messages", params={"wait": "false"},
                       json={"body": "Called the customer.", "internal": True}, headers=dep.headers("submitter@acme"))
    assert note.status_code == 201 and note.json()["thread"][-1]["status"] == "note"  # a note runs nothing: stored, 201
