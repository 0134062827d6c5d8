"""Exactly-once review across 2 uvicorn workers, and resume after a restart — on SQLite and PostgreSQL.

Race: 50 tickets wait for review; for each, two clients send a decision on the same interrupt at
the same moment → 50 × 200, 50 × 409, no 5xx, and exactly 50 refunds in the ledger and in the
billing table. Restart: a run interrupted through the API resumes after the server is killed and
a new one started; a decision claimed by a process that died before resuming is finished at start.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import BOTH_DATABASES, REFUND, Deployment, deployment_on
from tools.schema import decisions
from tools.store import now

pytestmark = pytest.mark.integration
RACES = 50


@pytest.fixture(scope="module", params=BOTH_DATABASES)
def dep(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, warm_index: Path) -> Iterator[Deployment]:
    with deployment_on(request.param, tmp_path_factory, warm_index, "race") as deployment:
        yield deployment


async def _submit_all(dep: Deployment, ids: list[str]) -> list[dict]:
    limit = asyncio.Semaphore(4)
    async with httpx.AsyncClient(timeout=120, headers=dep.headers("submitter@acme")) as client:
        async def one(i: int, tid: str) -> dict:
            async with limit:
                body = {**REFUND, "id": tid, "body": f"{REFUND['body']} (order {i})"}
                r = await client.post(f"{dep.url}/v1/tickets", json=body)
                assert r.status_code == 201, r.text
                return r.json()
        return list(await asyncio.gather(*(one(i, tid) for i, tid in enumerate(ids))))


async def _race_all(dep: Deployment, tickets: list[dict]) -> list[httpx.Response]:
    limit = asyncio.Semaphore(5)
    async with httpx.AsyncClient(timeout=120, headers=dep.headers("reviewer@acme")) as first, \
            httpx.AsyncClient(timeout=120, headers=dep.headers("admin@acme")) as second:
        async def race(ticket: dict) -> list[httpx.Response]:
            decision = {"interrupt_id": ticket["interrupts"][0]["id"], "type": "accept"}
            url = f"{dep.url}/v1/tickets/{ticket['thread_id']}/review"
            async with limit:
                return list(await asyncio.gather(first.post(url, json=decision), second.post(url, json=decision)))
        return [r for pair in await asyncio.gather(*(race(t) for t in tickets)) for r in pair]


def test_concurrent_decisions_apply_exactly_once(dep: Deployment) -> None:
    prefix = f"race-{uuid.uuid4().hex[:6]}"
    ids = [f"{prefix}-{i:02d}" for i in range(RACES)]
    tickets = asyncio.run(_submit_all(dep, ids))
    assert all(t["status"] == "awaiting_review" for t in tickets)

    responses = asyncio.run(_race_all(dep, tickets))

    codes = Counter(r.status_code for r in responses)
    assert codes == {200: RACES, 409: RACES}, {code: [r.text[:200] for r in responses if r.status_code == code][:2]
                                               for code in codes}
    for r in responses:
        if r.status_code == 409:
            assert r.json()["decided"]["reviewer"] in ("reviewer-acme", "admin-acme")
    refunds = dep.store.query("SELECT thread_id FROM ledger WHERE action = 'issue_refund' AND thread_id LIKE :p",
                              {"p": f"%{prefix}-%"})
    assert len(refunds) == RACES and {r["thread_id"] for r in refunds} == {t["thread_id"] for t in tickets}
    money = dep.store.query("SELECT ticket_id FROM money WHERE kind = 'refund' AND ticket_id LIKE :p", {"p": f"%{prefix}-%"})
    assert len(money) == RACES
    replies = dep.store.query("SELECT ticket_id FROM outbox WHERE ticket_id LIKE :p", {"p": f"%{prefix}-%"})
    assert len(replies) == RACES


def test_interrupted_run_resumes_after_restart(dep: Deployment) -> None:
    prefix = f"restart-{uuid.uuid4().hex[:6]}"
    waiting, crashed = asyncio.run(_submit_all(dep, [f"{prefix}-a", f"{prefix}-b"]))
    # A worker claimed the decision on `crashed`, then died before resuming the run.
    decision = {"type": "accept", "args": None, "reviewer": "reviewer-acme"}
    with dep.store.transaction() as tx:
        tx.execute(decisions.insert().values(thread_id=crashed["thread_id"], interrupt_id=crashed["interrupts"][0]["id"],
                                             decision="accept", reviewer="reviewer-acme", payload=json.dumps(decision),
                                             decided_at=now()))

    dep.restart(kill=True)  # SIGKILL: no graceful shutdown

    with httpx.Client(timeout=60, headers=dep.headers("reviewer@acme")) as client:
        # The worker that won the recovery lock finishes the run while its sibling may already serve requests.
        deadline = time.monotonic() + 60
        while (recovered := client.get(f"{dep.url}/v1/tickets/{crashed['thread_id']}").json())["status"] != "completed" \
                and time.monotonic() < deadline:
            time.sleep(0.5)
        assert recovered["status"] == "completed"
        assert sum(1 for row in recovered["ledger"] if row["action"] == "issue_refund") == 1

        view = client.get(f"{dep.url}/v1/tickets/{waiting['thread_id']}").json()
        assert view["status"] == "awaiting_review" and view["interrupts"][0]["id"] == waiting["interrupts"][0]["id"]
        r = client.post(f"{dep.url}/v1/tickets/{waiting['thread_id']}/review",
                        json={"interrupt_id": view["interrupts"][0]["id"], "type": "accept"})
        assert r.status_code == 200 and r.json()["status"] == "completed"
        assert [row["action"] for row in r.json()["ledger"]].count("issue_refund") == 1
    claims = dep.store.query("SELECT completed_at FROM decisions WHERE thread_id LIKE :p", {"p": f"%{prefix}-%"})
    assert len(claims) == 2 and all(c["completed_at"] for c in claims)
