"""``GET /metrics`` under a real 2-worker uvicorn: every worker's counts in one scrape, no ids in labels.

Each scrape reaches one worker or the other; multiprocess mode must give the same totals either way.
A full restart starts the counts afresh (the first worker clears the files of the last start) while
the gauges read from the store still show what is pending; ``SUPPORT_METRICS_TOKEN`` guards it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import REFUND, Deployment, deployment_on, submit

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory, warm_index: Path) -> Iterator[Deployment]:
    """A 2-worker SQLite deployment whose metrics directory the app chooses itself."""
    with deployment_on("sqlite", tmp_path_factory, warm_index, "metrics", start=False) as deployment:
        deployment.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        deployment.env.pop("SUPPORT_METRICS_TOKEN", None)
        deployment.start()
        yield deployment


def scrape(client: httpx.Client, dep: Deployment, **kwargs: object) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    r = client.get(f"{dep.url}/metrics", **kwargs)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {family.name: [(s.name, s.labels, s.value) for s in family.samples]
            for family in text_string_to_metric_families(r.text)}


def total(metrics: dict[str, list[tuple[str, dict[str, str], float]]], family: str, sample: str, **labels: str) -> float:
    return sum(v for name, got, v in metrics.get(family, []) if name == sample and labels.items() <= got.items())


def test_metrics_count_every_workers_tickets_and_decisions_without_ids_in_labels(metered: Deployment) -> None:
    dep, ids = metered, [f"met-{uuid.uuid4().hex[:8]}" for _ in range(4)]
    with httpx.Client(timeout=120) as client:
        views = []
        for ticket_id in ids:  # one request at a time: the two workers take them in turn or not; the totals must not care
            r = submit(client, dep, {"id": ticket_id, **REFUND})
            assert r.status_code == 201, r.text
            views.append(r.json())
        assert all(v["status"] == "awaiting_review" for v in views)
        for _ in range(6):  # several scrapes: whichever worker answers, the totals are the same
            metrics = scrape(client, dep)
            assert total(metrics, "support_tickets_processed", "support_tickets_processed_total") >= len(ids)
            assert total(metrics, "support_tickets_processed", "support_tickets_processed_total",
                         status="awaiting_review") >= len(ids)
            assert total(metrics, "support_packet_latency_seconds", "support_packet_latency_seconds_count") >= len(ids)
            assert total(metrics, "support_pending_reviews", "support_pending_reviews") >= len(ids)
            assert total(metrics, "support_store_up", "support_store_up") == 1
        assert total(metrics, "support_decisions", "support_decisions_total") == 0
        oldest = total(metrics, "support_pending_review_oldest_seconds", "support_pending_review_oldest_seconds")
        assert 0 <= oldest < 600

        first = views[0]
        r = client.post(f"{dep.url}/v1/tickets/{first['thread_id']}/review", headers=dep.headers("reviewer@acme"),
                        json={"interrupt_id": first["interrupts"][0]["id"], "type": "accept"})
        assert r.status_code == 200, r.text
        for _ in range(4):
            metrics = scrape(client, dep)
            assert total(metrics, "support_decisions", "support_decisions_total", type="accept") == 1
            assert total(metrics, "support_pending_reviews", "support_pending_reviews") == len(ids) - 1

        names = set(metrics)
        assert {"support_tickets_processed", "support_packet_latency_seconds", "support_decisions", "support_llm_fallbacks",
                "support_llm_tokens", "support_pending_reviews", "support_pending_review_oldest_seconds",
                "support_queue_depth", "support_knowledge_gaps", "support_store_up"} - names <= {
                    "support_llm_fallbacks", "support_llm_tokens"}  # offline engine: no model, no samples yet
        secrets = [*ids, *(v["thread_id"] for v in views), "acme", "cus_001", "INV-20931"]
        labels = [value for samples in metrics.values() for _, got, _ in samples for value in got.values()]
        assert labels and not [v for v in labels if any(s in v for s in secrets)]
    files = list((dep.state / "metrics").glob("*.db"))
    assert files, "the app chose <state dir>/metrics for the workers' files"


def test_a_restart_starts_counts_afresh_and_the_token_guards_the_endpoint(metered: Deployment) -> None:
    dep = metered
    dep.env["SUPPORT_METRICS_TOKEN"] = "scrape-secret"
    dep.restart(kill=False)
    with httpx.Client(timeout=60) as client:
        r = client.get(f"{dep.url}/metrics")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert client.get(f"{dep.url}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        for _ in range(4):
            metrics = scrape(client, dep, headers={"Authorization": "Bearer scrape-secret"})
            # The counters of the last start were cleared by the first worker; the store still holds the pending reviews.
            assert total(metrics, "support_tickets_processed", "support_tickets_processed_total") == 0
            assert total(metrics, "support_decisions", "support_decisions_total") == 0
            assert total(metrics, "support_pending_reviews", "support_pending_reviews") >= 3
        r = submit(client, dep, {"id": f"met-{uuid.uuid4().hex[:8]}", **REFUND})
        assert r.status_code == 201
        metrics = scrape(client, dep, headers={"Authorization": "Bearer scrape-secret"})
        assert total(metrics, "support_tickets_processed", "support_tickets_processed_total") == 1
