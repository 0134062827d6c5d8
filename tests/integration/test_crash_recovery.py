"""Approved actions survive a crash: a worker SIGKILLed mid-decision, then restarted, applies each exactly once.

The worker kills itself with SIGKILL at a named point (``SUPPORT_CRASH_AT``): right after the
decision is claimed (before any action), between the review and apply nodes, and after the
first applied action. A one-worker server dies with it; the restarted server's recovery must
finish the run: every approved action in the ledger once, the outbox all done, one refund.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import BOTH_DATABASES, REFUND, Deployment, Server, deployment_on

pytestmark = pytest.mark.integration
POINTS = ["after_claim", "before_apply", "mid_apply"]


@pytest.fixture(scope="module", params=BOTH_DATABASES)
def crashing(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, warm_index: Path) -> Iterator[Deployment]:
    with deployment_on(request.param, tmp_path_factory, warm_index, "crash", start=False) as deployment:
        yield deployment


def _serve(dep: Deployment, crash_at: str | None = None) -> Server:
    env = {**dep.env, "SUPPORT_CRASH_AT": crash_at or ""}
    dep.server = Server(env, dep.state / "server.log", workers=1).start()
    return dep.server


@pytest.mark.parametrize("point", POINTS)
def test_a_crash_while_applying_loses_and_duplicates_nothing(crashing: Deployment, point: str) -> None:
    dep = crashing
    _serve(dep)
    ticket_id = f"crash-{point}-{uuid.uuid4().hex[:6]}"
    with httpx.Client(timeout=120) as client:
        r = client.post(f"{dep.url}/v1/tickets", json={**REFUND, "id": ticket_id}, headers=dep.headers("submitter@acme"))
        assert r.status_code == 201, r.text
        view = r.json()
        gated = {a["name"] for a in view["interrupts"][0]["action_request"]["args"]["actions"]}
        assert {"issue_refund", "send_reply"} <= gated
        dep.server.stop()

        _serve(dep, crash_at=point)
        with pytest.raises(httpx.TransportError):  # the worker dies with SIGKILL mid-request
            client.post(f"{dep.url}/v1/tickets/{ticket_id}/review", headers=dep.headers("reviewer@acme"),
                        json={"interrupt_id": view["interrupts"][0]["id"], "type": "accept"})
        assert dep.server.proc is not None and dep.server.proc.wait(timeout=30) != 0
        dep.server.proc = None

        _serve(dep)  # restart: recovery finishes what the dead worker left
        done = client.get(f"{dep.url}/v1/tickets/{ticket_id}", headers=dep.headers("reviewer@acme")).json()
        dep.server.stop()
    assert done["status"] == "completed", done.get("outbox")
    applied = [row["action"] for row in done["ledger"]]
    assert len(applied) == len(set(applied))  # nothing twice
    assert gated <= set(applied)  # nothing lost
    assert done["outbox"] and all(row["status"] == "done" for row in done["outbox"])
    refunds = dep.store.query("SELECT COUNT(*) AS n FROM money WHERE ticket_id = :t", {"t": done["thread_id"]})
    assert int(str(refunds[0]["n"])) == 1
    replies = dep.store.query("SELECT COUNT(*) AS n FROM outbox WHERE ticket_id = :t", {"t": done["thread_id"]})
    assert int(str(replies[0]["n"])) == 1


def test_a_poisoned_claim_left_by_an_old_release_does_not_block_start_up(crashing: Deployment) -> None:
    import json

    from tools.schema import decisions
    from tools.store import now

    dep = crashing
    _serve(dep)
    ticket_id = f"poisoned-{uuid.uuid4().hex[:6]}"
    with httpx.Client(timeout=120) as client:
        view = client.post(f"{dep.url}/v1/tickets", json={**REFUND, "id": ticket_id}, headers=dep.headers("submitter@acme")).json()
        dep.server.stop()
        nested: object = "x"
        for _ in range(300):
            nested = {"a": nested}
        payload = {"type": "edit", "reviewer": "old-release", "args": {"actions": [{"id": "a4-send_reply", "args": nested}]}}
        with dep.store.transaction() as tx:  # what an older release could claim before decisions were validated
            tx.execute(decisions.insert().values(thread_id=view["thread_id"], interrupt_id=view["interrupts"][0]["id"],
                                                 decision="edit", reviewer="old-release", payload=json.dumps(payload),
                                                 decided_at=now()))
        _serve(dep)  # starts (readiness answered) despite the poisoned claim
        other = client.post(f"{dep.url}/v1/tickets", json={**REFUND, "id": f"{ticket_id}-next"},
                            headers=dep.headers("submitter@acme"))
        after = client.get(f"{dep.url}/v1/tickets/{ticket_id}", headers=dep.headers("reviewer@acme")).json()
        dep.server.stop()
    assert other.status_code == 201
    assert not any(row["action"] == "issue_refund" for row in after["ledger"])  # nothing applied from the poison
    assert after["status"] == "awaiting_review" and after["interrupts"]  # the review is asked again, still decidable
