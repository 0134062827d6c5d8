"""Approvals and SLAs that know time (issue 13 item 3), on SQLite and PostgreSQL.

Tickets are submitted over real HTTP to a 2-worker server; the scheduler's clock is injected (no sleeping)
and two desks on the same database tick at the same moment, as two API workers would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.conftest import REFUND, Deployment, deployment_per_database, submit

pytestmark = pytest.mark.integration
HOW_TO = {"customer_id": "cus_002", "subject": "How do I reset my password?", "body": "How do I reset my password? Thanks"}


dep = deployment_per_database("timers")


@pytest.fixture(scope="module")
def desks(dep: Deployment) -> Iterator[list[Any]]:
    """Two services on the deployment's database: two workers' schedulers."""
    from api.service import SupportDesk

    pair = [SupportDesk(dep.settings) for _ in range(2)]
    yield pair
    for desk in pair:
        desk.close()


def _new(client: httpx.Client, dep: Deployment, ticket: dict[str, Any]) -> dict[str, Any]:
    r = submit(client, dep, {"id": f"TM-{uuid.uuid4().hex[:8]}", **ticket})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _both_tick(desks: list[Any], at: datetime) -> list[dict[str, list[str]]]:
    from api.timers import tick

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda d: tick(d, at), desks))


def _get(client: httpx.Client, dep: Deployment, tid: str) -> dict[str, Any]:
    return dict(client.get(f"{dep.url}/v1/tickets/{tid}", headers=dep.headers("reviewer@acme")).json())


def _notifications(view: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [row for row in view["ledger"] if str(row["action_id"]).startswith(prefix)]


def test_an_approval_expires_fail_closed_once_with_two_workers(dep: Deployment, client: httpx.Client, desks: list[Any]) -> None:
    start = datetime.now(UTC)
    view = _new(client, dep, REFUND)  # a refund: never without approval, 24 h deadline
    tid, thread = view["ticket"]["id"], view["thread_id"]
    early = _both_tick(desks, start + timedelta(hours=10))
    assert not any(thread in f["approval_expired"] or thread in f["approval_escalated"] for f in early)
    escalated = _both_tick(desks, start + timedelta(hours=19))  # 0.75 × 24 h
    assert sum(thread in f["approval_escalated"] for f in escalated) == 1
    lead = client.get(f"{dep.url}/v1/reviews", params={"queue": "lead"}, headers=dep.headers("reviewer@acme")).json()
    assert tid in {i["ticket_id"] for i in lead}
    expired = _both_tick(desks, start + timedelta(hours=25))
    assert sum(thread in f["approval_expired"] for f in expired) == 1
    assert not any(thread in f["approval_expired"] for f in _both_tick(desks, start + timedelta(hours=30)))
    after = _get(client, dep, tid)
    assert after["status"] == "expired" and after["interrupts"] == []
    assert after["decisions"][-1]["type"] == "expired" and after["decisions"][-1]["reviewer"] == "system:approval-deadline"
    applied = {row["action"] for row in after["ledger"]}
    assert not applied & {"issue_refund", "send_reply", "set_priority", "assign_owner", "create_escalation"}
    assert len(_notifications(after, "t-approval-expired")) == 1 and len(_notifications(after, "t-approval-escalated")) == 1
    assert json.loads(_notifications(after, "t-approval-expired")[0]["args"])["team"] == "support-lead"
    events = [e["event"] for e in client.get(f"{dep.url}/v1/tickets/{tid}/audit", headers=dep.headers("reviewer@acme")).json()]
    assert events.count("review.expired") == 1
    queue = client.get(f"{dep.url}/v1/reviews", headers=dep.headers("reviewer@acme")).json()
    assert tid not in {i["ticket_id"] for i in queue}
    late = client.post(f"{dep.url}/v1/tickets/{tid}/review", json={"interrupt_id": view["interrupts"][0]["id"], "type": "accept"},
                       headers=dep.headers("reviewer@acme"))
    assert late.status_code == 409  # the reviewer who comes back too late learns it expired; nothing is applied


def test_an_sla_warning_fires_once_and_raises_the_ticket_in_the_queue(dep: Deployment, client: httpx.Client,
                                                                     desks: list[Any]) -> None:
    waiting = _new(client, dep, HOW_TO)  # 12 h SLA, not due: it stays below the warned ticket
    start = datetime.now(UTC)
    view = _new(client, dep, REFUND)  # enterprise, urgent: a 1 h SLA (and a 24 h approval deadline)
    tid, thread = view["ticket"]["id"], view["thread_id"]
    sla = float(view["packet"]["sla_hours"])
    first = _both_tick(desks, start + timedelta(hours=sla * 0.8))
    assert sum(thread in f["sla_warning"] for f in first) == 1
    assert waiting["thread_id"] not in first[0]["sla_warning"] + first[1]["sla_warning"]
    assert not any(thread in f["sla_warning"] for f in _both_tick(desks, start + timedelta(hours=sla * 0.9)))
    assert len(_notifications(_get(client, dep, tid), "t-sla-warning")) == 1
    breach = _both_tick(desks, start + timedelta(hours=sla * 1.1))
    assert sum(thread in f["sla_breach"] for f in breach) == 1
    queue = client.get(f"{dep.url}/v1/reviews", headers=dep.headers("reviewer@acme")).json()
    assert queue[0]["ticket_id"] == tid and queue[0]["sla_warning"] is True
    assert not next(i for i in queue if i["ticket_id"] == waiting["ticket"]["id"])["sla_warning"]


def test_the_playbook_sets_the_deadlines() -> None:
    from api.timers import settings_of

    merged = settings_of({"timers": {"approval_deadline_hours": {"supervised": 2}, "lead_team": "leads"}})
    assert merged["approval_deadline_hours"] == {"supervised": 2, "never_without_approval": 24}
    assert merged["lead_team"] == "leads" and merged["sla_warning_at"] == 0.75
