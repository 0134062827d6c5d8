"""The durable ticket queue on PostgreSQL (issue 15 item 1): procrastinate jobs drained by `support-agent worker`.

A real 2-worker API with ``SUPPORT_QUEUE=procrastinate`` defers ``wait=false`` submits as jobs; worker
processes (the CLI, as an operator runs it) drain them. A worker SIGKILLed mid-job leaves a stalled job that
the next worker retries, and the ticket completes once; a job that keeps failing ends in the dead-letter state.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import HOW_TO_TICKET, REPO, Deployment, deployment_on, submit

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory, warm_index: Path) -> Iterator[Deployment]:
    with deployment_on("postgres", tmp_path_factory, warm_index, "queue", start=False) as deployment:
        deployment.env.update({"SUPPORT_QUEUE": "procrastinate", "SUPPORT_QUEUE_ATTEMPTS": "1", "SUPPORT_STALLED_AFTER_S": "1"})
        deployment.start()
        yield deployment


def _worker(dep: Deployment, *extra: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", "worker", "--once", *extra], cwd=REPO, env={**dep.env, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def _status(client: httpx.Client, dep: Deployment, tid: str) -> str:
    return str(client.get(f"{dep.url}/v1/tickets/{tid}", headers=dep.headers("reviewer@acme")).json()["status"])


def _queued(client: httpx.Client, dep: Deployment, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        tid = f"Q-{uuid.uuid4().hex[:8]}"
        r = submit(client, dep, {"id": tid, **HOW_TO_TICKET}, params={"wait": "false"})
        assert r.status_code == 202, r.text
        ids.append(tid)
    return ids


def _jobs(client: httpx.Client, dep: Deployment, **params: Any) -> list[dict[str, Any]]:
    r = client.get(f"{dep.url}/v1/queue", params=params, headers=dep.headers("admin@acme"))
    assert r.status_code == 200, r.text
    return list(r.json())


def test_wait_false_submits_are_run_by_a_worker(dep: Deployment, client: httpx.Client) -> None:
    ids = _queued(client, dep, 3)
    again = submit(client, dep, {"id": ids[0], **HOW_TO_TICKET}, params={"wait": "false"})  # a retry: no second job
    assert again.status_code in (200, 202)
    time.sleep(0.5)
    assert {_status(client, dep, tid) for tid in ids} == {"queued"}  # the web workers did not run them
    done = _worker(dep)
    assert done.returncode == 0, done.stderr[-2000:]
    assert {_status(client, dep, tid) for tid in ids} == {"awaiting_review"}
    for tid in ids:  # one line per job on stderr: an operator sees the worker make progress
        assert re.search(rf"ticket acme~{tid} \[standard lane\]: awaiting_review in \d+ ms", done.stderr), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    succeeded = [j for j in _jobs(client, dep, status="succeeded") if str(j["thread_id"]).endswith(tuple(ids))]
    assert len(succeeded) == 3  # one job per ticket, though one was submitted twice


def test_a_worker_killed_mid_job_is_retried_and_the_ticket_completes_once(dep: Deployment, client: httpx.Client) -> None:
    (tid,) = _queued(client, dep, 1)
    killed = _worker(dep, env={"SUPPORT_CRASH_AT": "worker_job"})
    assert killed.returncode == -9  # SIGKILL inside the job
    assert _status(client, dep, tid) == "queued"
    time.sleep(1.5)  # the dead worker's heartbeat is now older than SUPPORT_STALLED_AFTER_S
    again = _worker(dep)
    assert again.returncode == 0, again.stderr[-2000:]
    view = client.get(f"{dep.url}/v1/tickets/{tid}", headers=dep.headers("reviewer@acme")).json()
    assert view["status"] == "awaiting_review" and len(view["interrupts"]) == 1
    events = client.get(f"{dep.url}/v1/tickets/{tid}/audit", headers=dep.headers("reviewer@acme")).json()
    assert [e["event"] for e in events].count("run.stopped") == 1  # ran to its packet once


def test_a_poison_job_ends_in_the_dead_letter_state(dep: Deployment, client: httpx.Client) -> None:
    from api import queue
    from tools.settings import Settings

    settings = Settings(state_dir=dep.state, database_url=dep.database_url, queue="procrastinate", queue_attempts=1)
    ghost = f"acme~ghost-{uuid.uuid4().hex[:6]}"  # no registered ticket: the job cannot succeed
    assert queue.enqueue(settings, dep.store, ghost)
    assert not queue.enqueue(settings, dep.store, ghost)  # waiting already: enqueued twice, it runs once
    failed: list[dict[str, Any]] = []
    for _ in range(4):  # a retry is scheduled a second later; each --once drains what is due
        done = _worker(dep)
        assert done.returncode == 0, done.stderr[-2000:]
        failed = [j for j in _jobs(client, dep, status="failed") if j["thread_id"] == ghost]
        if failed:
            break
        time.sleep(1.2)
    assert len(failed) == 1 and failed[0]["attempts"] == 2  # tried, retried once, then left failed — never forever
    dead = re.search(r'^support_queue_jobs\{status="failed"\} (\S+)$', client.get(f"{dep.url}/metrics").text, re.M)
    assert dead is not None and float(dead.group(1)) >= 1  # the dead letter shows in the metrics too
    assert client.get(f"{dep.url}/v1/queue", headers=dep.headers("reviewer@acme")).status_code == 403


def test_a_burst_from_one_workspace_does_not_starve_another_and_vips_go_first(dep: Deployment, client: httpx.Client) -> None:
    burst = _queued(client, dep, 6)  # acme: six standard tickets
    r = submit(client, dep, {"id": f"QG-{uuid.uuid4().hex[:6]}", **HOW_TO_TICKET}, who="submitter@globex", params={"wait": "false"})
    assert r.status_code == 202, r.text
    other = str(r.json()["thread_id"])
    vip = f"QV-{uuid.uuid4().hex[:6]}"  # cus_001 is a VIP enterprise customer: the priority lane
    assert submit(client, dep, {"id": vip, "customer_id": "cus_001", "subject": "Login", "body": "Cannot sign in since the update"},
                  params={"wait": "false"}).status_code == 202
    metrics = client.get(f"{dep.url}/metrics").text
    assert 'support_queue_lane_waiting{lane="priority"} 1.0' in metrics and 'support_queue_lane_waiting{lane="standard"}' in metrics
    oldest = re.search(r'^support_queue_lane_oldest_wait_seconds\{lane="standard"\} (\S+)$', metrics, re.M)
    assert oldest is not None and float(oldest.group(1)) > 0  # counted from when the job was deferred
    done = _worker(dep)
    assert done.returncode == 0, done.stderr[-2000:]
    import psycopg

    from api.queue import conninfo

    with psycopg.connect(conninfo(dep.database_url)) as conn:  # the order the worker started the jobs in
        ran = [str(lock) for lock, in conn.execute(
            "SELECT j.queueing_lock FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id "
            "WHERE e.type = 'started' AND j.queueing_lock = ANY(%s) ORDER BY e.at, e.id",
            ([f"acme~{t}" for t in [*burst, vip]] + [other],)).fetchall()]
    assert len(ran) == 8, ran
    assert ran[0] == f"acme~{vip}"  # the priority lane first
    assert ran.index(other) <= 2, ran  # the other workspace's ticket is not left behind acme's burst of six


def test_a_batch_enqueued_from_the_cli_is_run_by_a_worker(dep: Deployment, client: httpx.Client, tmp_path: Path) -> None:
    import json

    ids = [f"QB-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    batch = tmp_path / "tickets.jsonl"
    batch.write_text("".join(json.dumps({"id": tid, **HOW_TO_TICKET}) + "\n" for tid in ids) + "not json\n")
    queued = subprocess.run([sys.executable, "-m", "cli.main", "batch", str(batch), "--enqueue", "--workspace", "acme"],
                            cwd=REPO, env=dep.env, capture_output=True, text=True, timeout=300)
    assert queued.returncode == 0, queued.stderr[-2000:]
    assert "2 ticket(s) queued" in queued.stdout and "1 skipped" in queued.stdout
    assert "invalid JSON" in queued.stderr and "Traceback" not in queued.stderr
    assert {_status(client, dep, tid) for tid in ids} == {"queued"}  # registered, not run by the CLI
    done = _worker(dep)
    assert done.returncode == 0, done.stderr[-2000:]
    assert {_status(client, dep, tid) for tid in ids} == {"awaiting_review"}
    sqlite = subprocess.run([sys.executable, "-m", "cli.main", "batch", str(batch), "--enqueue"], cwd=REPO,
                            env={**dep.env, "SUPPORT_QUEUE": "inprocess"}, capture_output=True, text=True, timeout=300)
    assert sqlite.returncode != 0 and "needs the PostgreSQL queue" in sqlite.stderr and "Traceback" not in sqlite.stderr


def test_a_customer_reply_with_wait_false_is_a_queue_job(dep: Deployment, client: httpx.Client) -> None:
    (tid,) = _queued(client, dep, 1)
    assert _worker(dep).returncode == 0
    r = client.post(f"{dep.url}/v1/tickets/{tid}/messages", params={"wait": "false"},
                    json={"body": "Also: my invoice is INV-20417."}, headers=dep.headers("submitter@acme"))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "received" and r.headers["Location"].endswith(tid)
    view = client.get(f"{dep.url}/v1/tickets/{tid}", headers=dep.headers("reviewer@acme")).json()
    assert len(view["packet"]["messages"]) == 1  # stored, not run by the web worker
    done = _worker(dep)
    assert done.returncode == 0, done.stderr[-2000:]
    view = client.get(f"{dep.url}/v1/tickets/{tid}", headers=dep.headers("reviewer@acme")).json()
    assert view["status"] == "awaiting_review"
    assert [m["body"] for m in view["packet"]["messages"]][-1] == "Also: my invoice is INV-20417."
    assert [m["status"] for m in view["thread"]] == ["processed"]
    jobs = [j for j in _jobs(client, dep, status="succeeded") if j["task"] == "run_message" and j["thread_id"].endswith(tid)]
    assert len(jobs) == 1 and jobs[0]["message_id"] == view["thread"][0]["message_id"]


def test_timers_are_a_periodic_job_that_fires_once_per_tick_across_workers(dep: Deployment, tmp_path: Path) -> None:
    import signal

    import psycopg

    from api.queue import conninfo

    env = {**dep.env, "SUPPORT_TIMERS_EVERY_S": "1"}
    logs = [tmp_path / f"worker{n}.log" for n in range(2)]
    files = [log.open("w") for log in logs]
    workers = [subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                stderr=f) for f in files]
    try:
        time.sleep(12)  # start-up (the engine loads on the first job) plus a few ticks
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(timeout=60)
        for f in files:
            f.close()
    with psycopg.connect(conninfo(dep.database_url)) as conn:
        jobs = conn.execute("SELECT args->>'timestamp', status FROM procrastinate_jobs WHERE task_name = 'fire_timers'").fetchall()
    stamps = [stamp for stamp, _ in jobs]
    assert len(stamps) >= 2 and len(stamps) == len(set(stamps)), stamps  # two workers, each tick deferred once
    assert "succeeded" in {str(status) for _, status in jobs}, [log.read_text()[-1500:] for log in logs]


def test_concurrent_wait_false_submits_all_get_their_job(dep: Deployment) -> None:
    """Requests deferring at once share the process's procrastinate pool (one closing it stalled another 30 s)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> int:
        with httpx.Client(timeout=20) as c:
            return submit(c, dep, {"id": f"QC-{uuid.uuid4().hex[:6]}-{i}", **HOW_TO_TICKET}, params={"wait": "false"}).status_code

    with ThreadPoolExecutor(8) as pool:  # before the fix some of them hung past the client's timeout (pool closed)
        codes = list(pool.map(one, range(16)))
    assert codes == [202] * 16, codes
    assert _worker(dep).returncode == 0
