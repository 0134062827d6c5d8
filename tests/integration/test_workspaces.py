"""Workspaces: a team's own data next to another's, in one process — nothing crosses between them.

``kb-only`` is what a team has in its first hour: a help centre and nothing else (no playbook,
no customers, no labelled tickets). ``acme`` runs on the bundled sample company.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import insert_key
from tests.conftest import REPO
from tests.integration.conftest import BOTH_DATABASES, Deployment, deployment_on, submit
from tools.data import load_company
from tools.workspaces import Workspaces

pytestmark = pytest.mark.integration

WARRANTY = """# Battery warranty

Your home battery is covered for ten years from the installation date.

## What the warranty covers

Capacity loss below 70 percent and any manufacturing defect are covered. We replace or repair the unit at no cost.

## Need help?

Reply to this email and our team will open a claim for you.
"""
SOP = """# Internal: Processing a battery warranty claim

Agents must collect the serial number and the installer's commissioning report before a claim is opened.

## Steps for agents

Open the claim in the warranty portal, attach the capacity log, and book a technician within five working days.
Claims above two units need approval from the field-service lead.
"""
TARIFF = """# Changing your tariff

You can switch between the Flex and the Fixed tariff once every twelve months from the app under Account, then Tariff.
"""


def knowledge_only(root: Path) -> Path:
    """A data folder with only knowledge/: two customer articles and one internal procedure (no front matter)."""
    folder = root / "knowledge"
    folder.mkdir(parents=True)
    (folder / "battery-warranty.md").write_text(WARRANTY)
    (folder / "warranty-claim-sop.md").write_text(SOP)
    (folder / "changing-tariff.md").write_text(TARIFF)
    return root


WARRANTY_TICKET = ("Battery stopped holding charge",
                   "Hello, our home battery was installed three years ago and since last month it only holds about "
                   "half of its capacity. The app shows 55 percent health. Is this covered by the warranty, and how "
                   "do we get it repaired or replaced? Serial BX-2231.")


@pytest.fixture(scope="module", params=BOTH_DATABASES)
def dep(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, warm_index: Path) -> Iterator[Deployment]:
    """This module's deployment on each database: 2 uvicorn workers."""
    with deployment_on(request.param, tmp_path_factory, warm_index, "ws") as deployment:
        yield deployment


@pytest.fixture(scope="module")
def two(dep: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """Add the knowledge-only workspace and its keys to the module's deployment."""
    Workspaces(dep.settings, dep.store).create("kb-only", knowledge_only(tmp_path_factory.mktemp("kb-only")))
    for role in ("submitter", "reviewer"):
        dep.keys[f"{role}@kb-only"] = insert_key(dep.store, role, "kb-only", name=f"{role}-kb-only")
    return dep


def test_a_workspace_with_only_knowledge_answers_and_says_how(two: Deployment, client: httpx.Client) -> None:
    subject, body = WARRANTY_TICKET
    r = submit(client, two, {"id": f"w-{uuid.uuid4().hex[:8]}", "subject": subject, "body": body,
                             "email": "sam@example.org"}, who="submitter@kb-only")
    assert r.status_code == 201, r.text
    packet = r.json()["packet"]
    assert packet["workspace"] == "kb-only"
    assert packet["triage_mode"] == "zero-shot"
    assert packet["category_confidence"] < 0.9  # an honest guess, not a certainty
    assert any("generic support playbook" in n for n in packet["setup_notes"])
    assert any("No customers" in n for n in packet["setup_notes"])
    assert packet["customer"]["known"] is False
    # the internal procedure is shown to the reviewer; the draft cites only the customer article
    assert [s["id"] for s in packet["reviewer_sources"]][:1] == ["warranty-claim-sop"]
    assert all(s["audience"] == "customer" for s in packet["sources"])
    assert packet["citations"] and set(packet["citations"]) <= {s["id"] for s in packet["sources"]}
    assert "warranty-claim-sop" not in packet["draft_reply"]
    assert "serial number and the installer" not in packet["draft_reply"]
    # "Need help?" and the other headings are section titles, never quoted as facts
    quoted = [line for line in packet["draft_reply"].splitlines() if re.search(r"\[[a-z0-9-]+\]", line)]
    assert quoted and not any(h in line for line in quoted for h in ("Need help", "What the warranty covers", "#"))
    assert all(s["updated_at_known"] is False for s in packet["sources"])  # file dates are not presented as real dates


def test_nothing_crosses_workspaces(two: Deployment, client: httpx.Client) -> None:
    subject = f"Webhook deliveries failing {uuid.uuid4().hex[:6]}"
    body = "Our webhooks to Salesforce stopped arriving since this morning, please check. Workspace acme-logistics."
    a_id = f"a-{uuid.uuid4().hex[:8]}"
    r = submit(client, two, {"id": a_id, "subject": subject, "body": body, "email": "ops@acmelogistics.de"})
    assert r.status_code == 201, r.text
    a_packet = r.json()["packet"]
    assert a_packet["customer"]["known"] and a_packet["customer"]["id"] == "cus_001"

    # Workspace kb-only: same sender domain and the same subject as acme's open ticket.
    b_id = f"b-{uuid.uuid4().hex[:8]}"
    r = submit(client, two, {"id": b_id, "subject": subject, "body": body, "email": "ops@acmelogistics.de"},
               who="submitter@kb-only")
    assert r.status_code == 201, r.text
    b = r.json()
    text = json.dumps(b)
    assert b["packet"]["customer"]["known"] is False
    assert "Acme Logistics" not in text and "MSA" not in text and a_id not in text  # no customer, contract or ticket of acme
    assert "link_duplicate" not in {a["name"] for a in b["packet"]["proposed_actions"]}
    # Same again inside acme: its own open ticket is linked as a duplicate (the rule works where it should).
    r = submit(client, two, {"id": f"a2-{uuid.uuid4().hex[:8]}", "subject": subject, "body": body,
                             "email": "ops@acmelogistics.de"})
    assert {a["args"].get("duplicate_of") for a in r.json()["packet"]["proposed_actions"]
            if a["name"] == "link_duplicate"} == {a_id}

    # Queues: each reviewer sees only their workspace's tickets.
    acme_queue = {row["ticket_id"] for row in client.get(f"{two.url}/v1/reviews", headers=two.headers("reviewer@acme")).json()}
    solo_queue = {row["ticket_id"] for row in client.get(f"{two.url}/v1/reviews", headers=two.headers("reviewer@kb-only")).json()}
    assert a_id in acme_queue and b_id not in acme_queue
    assert b_id in solo_queue and a_id not in solo_queue
    # Reading another workspace's ticket is a 404, like an unknown id.
    assert client.get(f"{two.url}/v1/tickets/{a_id}", headers=two.headers("reviewer@kb-only")).status_code == 404
    # Ids are per workspace: kb-only may use acme's id — neither blocked (409) nor told that it exists elsewhere.
    r = submit(client, two, {"id": a_id, "subject": "Tariff change", "body": "How do I switch to the Fixed tariff?"},
               who="submitter@kb-only")
    assert r.status_code == 201, r.text
    assert "Acme" not in json.dumps(r.json()) and r.json()["ticket"]["subject"] == "Tariff change"
    mine = client.get(f"{two.url}/v1/tickets/{a_id}", headers=two.headers("reviewer@acme")).json()
    assert mine["ticket"]["subject"] == subject and mine["status"] == "awaiting_review"


def test_knowledge_gaps_and_reports_stay_in_their_workspace(two: Deployment, client: httpx.Client) -> None:
    from api.service import SupportDesk

    r = submit(client, two, {"id": f"g-{uuid.uuid4().hex[:8]}", "subject": "Zebra migration patterns",
                             "body": "Which months do zebras migrate across the Serengeti and how far do they walk?"},
               who="submitter@kb-only")
    assert r.status_code == 201, r.text
    view = r.json()
    assert "low_retrieval_confidence" in view["packet"]["risk_flags"]
    # bounded-autonomy actions (the gap log) are applied with the decision, even a rejection
    decided = client.post(f"{two.url}/v1/tickets/{view['thread_id']}/review", headers=two.headers("reviewer@kb-only"),
                          json={"interrupt_id": view["interrupts"][0]["id"], "type": "ignore"})
    assert decided.status_code == 200, decided.text
    desk = SupportDesk(two.settings, preload=())
    try:
        solo = desk.learning_report("kb-only")["knowledge_gaps"]
        acme = desk.learning_report("acme")["knowledge_gaps"]
    finally:
        desk.close()
    assert any("Zebra" in g["examples"] for g in solo)
    assert not any("Zebra" in g["examples"] for g in acme)


def test_a_key_of_an_unknown_workspace_is_refused_clearly(two: Deployment, client: httpx.Client) -> None:
    key = insert_key(two.store, "submitter", "nobody-here")
    r = client.post(f"{two.url}/v1/tickets", json={"subject": "Hi", "body": "Hello"},
                    headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403 and "workspace create nobody-here" in r.json()["detail"]


def test_sample_company_headings_are_never_cited_as_facts(desk: Any) -> None:
    data = load_company(REPO / "data")
    headings = {line.lstrip("#").strip() for d in data.documents.values() for line in d.body.splitlines()
                if line.startswith("#")}
    tickets = [json.loads(line) for line in (REPO / "data" / "sample_tickets.jsonl").read_text().splitlines() if line.strip()]
    for ticket in tickets:
        view = desk.submit({**ticket, "id": f"h-{uuid.uuid4().hex[:8]}"})
        for line in view["packet"]["draft_reply"].splitlines():
            fact = re.sub(r"\s*\[[a-z0-9-]+\]\s*$", "", line.strip("- ").strip())
            assert fact not in headings, f"{ticket['id']}: a heading was quoted as a fact: {line}"


def test_engines_are_built_lazily_and_the_cache_is_bounded(tmp_path: Path) -> None:
    from tools.settings import Settings
    from tools.store import Store

    settings = Settings(state_dir=tmp_path / "state", data_dir=REPO / "data", max_engines=1)
    workspaces = Workspaces(settings, Store.sqlite(settings.sqlite_path))
    workspaces.create("one", knowledge_only(tmp_path / "one"))
    workspaces.create("two", knowledge_only(tmp_path / "two"))
    first = workspaces.get("one")
    assert workspaces.get("one") is first  # cached
    second = workspaces.get("two")
    assert second.workspace == "two" and second.data.root != first.data.root
    assert workspaces.get("one") is not first  # evicted by "two" (max_engines=1), rebuilt from the disk cache
    assert not workspaces.get("one").rebuilt["index"]
    with pytest.raises(LookupError, match="workspace create nope"):
        workspaces.get("nope")
