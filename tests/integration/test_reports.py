"""The outcome report over HTTP (GET /v1/reports) and from the CLI, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import REFUND, REPO, Deployment, deployment_per_database, submit

pytestmark = pytest.mark.integration


dep = deployment_per_database("reports")


def _new(client: httpx.Client, dep: Deployment) -> dict[str, Any]:
    r = submit(client, dep, {"id": f"RP-{uuid.uuid4().hex[:8]}", **REFUND})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _decide(client: httpx.Client, dep: Deployment, view: dict[str, Any], body: dict[str, Any]) -> httpx.Response:
    return client.post(f"{dep.url}/v1/tickets/{view['ticket']['id']}/review", headers=dep.headers("reviewer@acme"),
                       json={"interrupt_id": view["interrupts"][0]["id"], **body})


def _cli(dep: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", "--workspace", "acme", "report", *args], capture_output=True,
                          text=True, cwd=REPO, env=dep.env, timeout=180, check=False)


def test_report_over_http_and_from_the_cli(dep: Deployment, client: httpx.Client, tmp_path: Path) -> None:
    accepted, rewritten, rejected, redrafted, pending = (_new(client, dep) for _ in range(5))
    bad = _decide(client, dep, rewritten, {"type": "edit", "args": {"overrides": {"category": "gardening"}}})
    assert bad.status_code == 422 and "gardening" in bad.json()["detail"] and "refund" in bad.json()["detail"]
    assert _decide(client, dep, accepted, {"type": "accept"}).status_code == 200
    r = _decide(client, dep, rewritten, {"type": "edit", "args": {"reply": "Done.", "overrides": {"priority": "urgent"}}})
    assert r.status_code == 200, r.text
    assert r.json()["decisions"][-1]["changes"]["overrides"]["priority"]["to"] == "urgent"
    assert _decide(client, dep, rejected, {"type": "ignore", "args": "Duplicate of an earlier ticket."}).status_code == 200
    assert _decide(client, dep, redrafted, {"type": "response", "args": "Shorter, please."}).status_code == 200
    assert _decide(client, dep, rewritten, {"type": "accept"}).status_code == 409  # decisions keep their 409
    message = client.post(f"{dep.url}/v1/tickets/{accepted['ticket']['id']}/messages", headers=dep.headers("submitter@acme"),
                          json={"body": "Thanks, but the refund is not on my statement yet."})
    assert message.status_code == 201, message.text

    r = client.get(f"{dep.url}/v1/reports", headers=dep.headers("reviewer@acme"))
    assert r.status_code == 200, r.text
    report = r.json()
    totals = report["totals"]
    assert report["workspace"] == "acme" and totals["tickets"] == 5
    assert totals["acceptance"] == {"unchanged": 1, "light_edit": 0, "heavy_edit": 1, "rejected": 1, "unclassified_edit": 0}
    assert totals["redraft_requests"] == 1 and totals["decisions"] == 3 and totals["expired_approvals"] == 0
    assert totals["replied"] == 2 and totals["reopened"] == 1 and totals["first_response_hours"]["n"] == 2
    assert totals["review_queue_age_hours"]["n"] == 3  # pending, redrafted and the reopened ticket's new round
    assert totals["overridden_tickets"] == 1
    reasons = {f["type"]: f["comment"] for f in report["feedback"]}
    assert reasons["ignore"] == "Duplicate of an earlier ticket." and reasons["response"] == "Shorter, please."
    assert [w["tickets"] for w in report["by_week"]] == [5] and report["by_category"][0]["category"] == "refund"
    assert pending["status"] == "awaiting_review"

    assert client.get(f"{dep.url}/v1/reports", headers=dep.headers("submitter@acme")).status_code == 403
    assert client.get(f"{dep.url}/v1/reports", headers=dep.headers("admin@acme")).status_code == 200
    assert client.get(f"{dep.url}/v1/reports", headers=dep.headers("reviewer@globex")).json()["totals"]["tickets"] == 0
    assert client.get(f"{dep.url}/v1/reports?since_days=0", headers=dep.headers("reviewer@acme")).status_code == 422

    chart = tmp_path / "weekly.png"
    result = _cli(dep, "--json", "--chart", str(chart))
    assert result.returncode == 0, result.stderr
    from_cli = json.loads(result.stdout)
    for key in ("acceptance", "redraft_requests", "reopened", "replied", "tickets", "escalations", "knowledge_gaps"):
        assert from_cli["totals"][key] == totals[key], key
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plain = _cli(dep)
    assert plain.returncode == 0 and "\x1b[" not in plain.stdout, plain.stderr
    assert "Per week:" in plain.stdout and "Duplicate of an earlier ticket." in plain.stdout
    assert _cli(dep, "--since", "-1").returncode == 2
