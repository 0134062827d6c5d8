"""A PostgreSQL outage under a small load: fast 503 with Retry-After while down, success after, 0 lost.

The shared server on 127.0.0.1:5432 keeps running; the API (2 uvicorn workers,
``SUPPORT_DB_TIMEOUT_S=2``) reaches it through a :class:`TcpProxy` that the test cuts. While it
is cut, 4 clients submit new tickets, read ``/readyz``, the review queue and a ticket for a few
seconds: every answer is a 503 with ``Retry-After`` within 5 s — never a 500, never a hang. After
the proxy resumes, the service answers again within seconds, the tickets from before the outage
are intact, and each submit refused during it succeeds when retried with the same id (a refused
submit must not burn its id).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.integration.conftest import REFUND, Deployment, drop_schema, make_state_dir, postgres_url
from tests.integration.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

CLIENTS = 4
OUTAGE_LOAD_S = 6.0
FAST_S = 5.0  # the longest a client may wait for its 503
RECOVERY_S = 15.0  # from resume() to readyz 200 and a 201 on every worker
KINDS = ("submit", "readyz", "reviews", "ticket")


@dataclass
class Outcome:
    """One request sent while the database was away."""

    kind: str
    status: int | None  # None: no HTTP answer (timeout or transport error)
    latency: float
    retry_after: str | None
    detail: str
    ticket_id: str | None = None


@pytest.fixture
def deployment(tmp_path_factory: pytest.TempPathFactory, warm_index: Path) -> Iterator[tuple[Deployment, TcpProxy]]:
    direct = postgres_url()
    parts = urlsplit(direct)
    proxy = TcpProxy(target=(parts.hostname or "127.0.0.1", parts.port or 5432)).start()
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    via_proxy = urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))
    dep: Deployment | None = None
    try:
        dep = Deployment("postgres", make_state_dir(tmp_path_factory, warm_index, "pg-outage"), via_proxy)
        dep.env["SUPPORT_DB_TIMEOUT_S"] = "2"
        dep.env["SUPPORT_RATE_LIMIT_SUBMIT"] = "off"  # refused submits are all retried at once afterwards
        dep.start()
        yield dep, proxy
    finally:
        proxy.resume()  # let the server and the test's own pool close cleanly
        if dep is not None:
            dep.close()
        proxy.stop()
        drop_schema(direct)


def _ticket(tid: str) -> dict[str, str]:
    return {**REFUND, "id": tid, "body": f"{REFUND['body']} (ticket {tid})"}


def _load(dep: Deployment, known: str, prefix: str, until: float, start: int) -> list[Outcome]:
    """One client: cycle through the kinds of request until ``until``, recording every answer."""
    outcomes: list[Outcome] = []
    with httpx.Client(timeout=FAST_S + 5) as client:
        n = start
        while time.monotonic() < until:
            kind, tid = KINDS[n % len(KINDS)], None
            if kind == "submit":
                tid = f"{prefix}-{start}-{n}"
                request = client.build_request("POST", f"{dep.url}/v1/tickets", json=_ticket(tid),
                                               headers=dep.headers("submitter@acme"))
            elif kind == "readyz":
                request = client.build_request("GET", f"{dep.url}/readyz")
            elif kind == "reviews":
                request = client.build_request("GET", f"{dep.url}/v1/reviews", headers=dep.headers("reviewer@acme"))
            else:
                request = client.build_request("GET", f"{dep.url}/v1/tickets/{known}", headers=dep.headers("reviewer@acme"))
            began = time.monotonic()
            try:
                r = client.send(request)
                outcomes.append(Outcome(kind, r.status_code, time.monotonic() - began, r.headers.get("retry-after"),
                                        r.text[:160], tid))
            except httpx.HTTPError as exc:
                outcomes.append(Outcome(kind, None, time.monotonic() - began, None, type(exc).__name__, tid))
            n += 1
            time.sleep(0.1)  # a bounded load: ~10 requests/s per client, not a flood
    return outcomes


def _until_ready(client: httpx.Client, dep: Deployment, deadline: float) -> None:
    """Wait until a few readyz in a row answer 200 (the 2 workers share the port)."""
    streak = 0
    while streak < 4:
        tail = dep.server.log_tail() if dep.server else ""
        assert time.monotonic() < deadline, f"/readyz not 200 within {RECOVERY_S}s of the resume:\n{tail}"
        r = client.get(f"{dep.url}/readyz")
        streak = streak + 1 if r.status_code == 200 else 0
        if streak == 0:
            time.sleep(0.2)


def _submit_after(client: httpx.Client, dep: Deployment, tid: str, deadline: float) -> httpx.Response:
    """Submit ``tid``; a 503 before the recovery deadline is retried, as its Retry-After asks."""
    while True:
        r = client.post(f"{dep.url}/v1/tickets", json=_ticket(tid), headers=dep.headers("submitter@acme"))
        if r.status_code != 503 or time.monotonic() >= deadline:
            return r
        time.sleep(0.3)


def _report_outage(outcomes: list[Outcome]) -> None:
    codes = Counter(f"{o.kind}:{o.status}" for o in outcomes)
    answered = [o for o in outcomes if o.status == 503]
    print(f"\nPostgreSQL outage: {len(outcomes)} requests from {CLIENTS} clients in {OUTAGE_LOAD_S:.0f}s; "
          f"{len(answered)} x 503; max latency {max((o.latency for o in outcomes), default=0):.2f}s; "
          f"by kind:status {dict(codes)}")


def _describe(outcomes: list[Outcome]) -> str:
    return "\n".join(f"{o.kind}: {o.status} in {o.latency:.2f}s, Retry-After={o.retry_after!r}: {o.detail}"
                     for o in outcomes[:12])


def test_outage_gives_fast_503_then_recovers_with_nothing_lost(deployment: tuple[Deployment, TcpProxy]) -> None:
    dep, proxy = deployment
    prefix = f"outage-{uuid.uuid4().hex[:6]}"
    with httpx.Client(timeout=60) as client:
        before = []
        for i in range(3):
            r = client.post(f"{dep.url}/v1/tickets", json=_ticket(f"{prefix}-pre-{i}"), headers=dep.headers("submitter@acme"))
            assert r.status_code == 201, r.text
            before.append(r.json())

        proxy.pause()
        until = time.monotonic() + OUTAGE_LOAD_S
        with ThreadPoolExecutor(CLIENTS) as pool:
            runs = [pool.submit(_load, dep, before[0]["thread_id"], f"{prefix}-down", until, c) for c in range(CLIENTS)]
            outcomes = [o for run in runs for o in run.result()]
        resumed = time.monotonic()
        proxy.resume()
        _report_outage(outcomes)

        _until_ready(client, dep, resumed + RECOVERY_S)
        first = _submit_after(client, dep, f"{prefix}-after", resumed + RECOVERY_S)
        recovery = time.monotonic() - resumed
        refused = [o.ticket_id for o in outcomes if o.kind == "submit" and o.status == 503 and o.ticket_id]
        retried = {tid: _submit_after(client, dep, tid, resumed + RECOVERY_S) for tid in refused}
        after = {t["thread_id"]: client.get(f"{dep.url}/v1/tickets/{t['thread_id']}", headers=dep.headers("reviewer@acme"))
                 for t in before}

    print(f"recovery: {recovery:.1f}s from resume to readyz 200 x4 and a 201; {len(refused)} submits refused "
          f"during the outage, retried with the same ids -> {dict(Counter(r.status_code for r in retried.values()))}")
    slow_or_wrong = [o for o in outcomes if o.status != 503 or o.latency >= FAST_S]
    assert not slow_or_wrong, _describe(slow_or_wrong)
    assert {o.kind for o in outcomes if o.status == 503} == set(KINDS)  # every kind of request was tried and refused cleanly

    assert first.status_code == 201, first.text
    for tid, r in retried.items():  # a 503'd submit did not burn its id
        assert r.status_code == 201 and r.json()["status"] == "awaiting_review", f"{tid}: {r.status_code} {r.text[:300]}"
    for t in before:
        r = after[t["thread_id"]]
        assert r.status_code == 200, r.text
        view = r.json()
        assert view["status"] == "awaiting_review" and view["packet"] == t["packet"]
        assert [i["id"] for i in view["interrupts"]] == [i["id"] for i in t["interrupts"]]

    assert dep.server is not None and dep.server.proc is not None and dep.server.proc.poll() is None
    log = dep.server.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "unhandled error" not in log, dep.server.log_tail(60)
    # Last, so that a missing header does not hide how the rest behaved: a client told 503 is told when to retry.
    no_retry_after = [o for o in outcomes if not o.retry_after]
    assert not no_retry_after, _describe(no_retry_after)


def test_database_stopped_while_actions_apply_then_restart_applies_each_once(
        deployment: tuple[Deployment, TcpProxy]) -> None:
    """PostgreSQL goes away after the first approved action; after it returns and the worker restarts, nothing is lost."""
    dep, proxy = deployment
    dep.env["SUPPORT_PAUSE_AT"] = "mid_apply:4"  # after the first applied action, wait 4 s (the test cuts the database)
    dep.restart(kill=False)
    ticket_id = f"apply-outage-{uuid.uuid4().hex[:6]}"
    with httpx.Client(timeout=90) as client:
        r = client.post(f"{dep.url}/v1/tickets", json=_ticket(ticket_id), headers=dep.headers("submitter@acme"))
        assert r.status_code == 201, r.text
        view = r.json()
        gated = {a["name"] for a in view["interrupts"][0]["action_request"]["args"]["actions"]}
        with ThreadPoolExecutor(1) as pool:
            decision = pool.submit(client.post, f"{dep.url}/v1/tickets/{ticket_id}/review",
                                   headers=dep.headers("reviewer@acme"),
                                   json={"interrupt_id": view["interrupts"][0]["id"], "type": "accept"})
            time.sleep(2)  # the claim and the first action are committed; the worker is paused before the next
            proxy.pause()
            answer = decision.result(timeout=60)
        assert answer.status_code == 503, answer.text  # not a 500: the database is down, retry later
        proxy.resume()
        dep.env.pop("SUPPORT_PAUSE_AT")
        dep.restart(kill=False)  # start-up recovery finishes the claimed decision from the outbox
        deadline = time.monotonic() + 60
        while (done := client.get(f"{dep.url}/v1/tickets/{ticket_id}", headers=dep.headers("reviewer@acme")).json()
               )["status"] != "completed" and time.monotonic() < deadline:
            time.sleep(0.5)
    assert done["status"] == "completed", done.get("outbox")
    applied = [row["action"] for row in done["ledger"]]
    assert len(applied) == len(set(applied)) and gated <= set(applied)  # nothing twice, nothing lost
    assert all(row["status"] == "done" for row in done["outbox"])
    refunds = dep.store.query("SELECT COUNT(*) AS n FROM money WHERE ticket_id = :t AND kind = 'refund'",
                              {"t": done["thread_id"]})
    assert int(str(refunds[0]["n"])) == 1
