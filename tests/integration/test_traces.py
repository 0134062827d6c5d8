"""Local traces: every graph run of a thread is kept with it, one record per node run, PII-redacted.

In-process (the session's desk, SQLite), then ``support-agent trace`` as a subprocess: a timeline
with durations, ``--json``, one line and exit 2 for an unknown thread, and no engine loaded.
LangSmith: nothing is created without ``LANGSMITH_API_KEY``; with it, runs go to the configured
project (a local HTTP server stands in for LangSmith).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cli.traces import read_trace
from tests.conftest import REPO
from tools import schema as t

pytestmark = pytest.mark.integration

EMAIL, CARD = "jane.doe@example.com", "4111 1111 1111 1111"
NODES = {"triage", "gather_context", "retrieve", "draft", "assess_risk", "review", "apply_actions"}
HEAVY = ("faiss", "onnxruntime", "sklearn", "tools.engine", "tools.embeddings", "graph.builder")


def ticket_with_pii(ticket_id: str) -> dict[str, str]:
    return {"id": ticket_id, "customer_id": "cus_004", "subject": f"Refund, reach me at {EMAIL}",
            "body": f"Charged twice for INV-20417 ($49). Card {CARD}. Mail {EMAIL}. Please refund the duplicate."}


def graph_runs(records: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    runs = [r for r in records if r["kind"] == "graph"]
    return [(run, [r for r in records if r["kind"] == "node" and r["parent_id"] == run["run_id"]]) for run in runs]


@pytest.fixture(scope="module")
def traced(desk: Any) -> dict[str, Any]:
    """A refund ticket with an email and a card, submitted then accepted: two graph runs."""
    import uuid

    thread_id = f"TR-{uuid.uuid4().hex[:8]}"
    view = desk.submit(ticket_with_pii(thread_id))
    assert view["status"] == "awaiting_review"
    done = desk.decide(thread_id, {"type": "accept", "reviewer": "maya"})
    return {"thread_id": thread_id, "view": view, "done": done}


def test_each_node_that_ran_has_exactly_one_record_under_its_graph_run(desk: Any, traced: dict[str, Any]) -> None:
    records = read_trace(desk.store, traced["thread_id"])
    (submit, first), (resume, second) = graph_runs(records)
    assert (submit["name"], resume["name"]) == ("submit", "resume")
    assert submit["parent_id"] is None and resume["parent_id"] is None
    assert sorted(r["name"] for r in first) == sorted(NODES - {"apply_actions"})  # stopped at the review
    assert [r["name"] for r in second] == ["review", "apply_actions"]  # the review node runs again on resume
    assert len(records) == 2 + len(first) + len(second)  # nothing else: no routing functions, no duplicates
    review = next(r for r in first if r["name"] == "review")
    assert review["status"] == "interrupted" and review["outputs"] is None
    assert all(r["status"] == "ok" for r in first + second if r is not review)
    for record in records:
        assert record["duration_ms"] is not None and record["duration_ms"] >= 0
        assert record["started_at"] <= record["ended_at"]
    for run, nodes in ((submit, first), (resume, second)):
        assert all(run["started_at"] <= n["started_at"] and n["ended_at"] <= run["ended_at"] for n in nodes)
    triage = next(r for r in first if r["name"] == "triage")
    assert "triage" in triage["outputs"] and "ticket" in triage["inputs"]  # which state keys it read and wrote
    assert triage["outputs"]["ticket_vector"] == "<list of 384>"  # the embedding is summarised, never stored


def test_the_stored_trace_holds_no_raw_email_or_card(desk: Any, traced: dict[str, Any]) -> None:
    c = t.traces.c
    rows = desk.store.query(select(t.traces).where(c.thread_id == traced["thread_id"]))
    stored = json.dumps(rows, default=str)
    assert rows and EMAIL not in stored and CARD not in stored and CARD.replace(" ", "") not in stored
    submit = next(r for r in rows if r["name"] == "submit")
    assert json.loads(str(submit["inputs"]))["ticket"] == {"keys": ["id", "subject", "body", "customer_id", "channel"]}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, cwd=REPO,
                          env=env or dict(os.environ), timeout=120, check=False)


def test_trace_command_prints_the_timeline(traced: dict[str, Any]) -> None:
    result = run_cli("trace", traced["thread_id"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b[" not in out and "2 graph run(s)" in out  # plain text when not a terminal
    for name in NODES | {"submit", "resume"}:
        assert name in out, name
    rows = [m.groups() for m in re.finditer(r"^│\s+(\d+)\s+│\s+(?:▶ )?(\S+)\s+│[^│]+│[^│]+│\s+(\S+)", out, re.M)]
    assert [name for _, name, _ in rows] == ["submit", "triage", "gather_context", "retrieve", "draft", "assess_risk",
                                             "review", "resume", "review", "apply_actions"] or \
           [name for _, name, _ in rows] == ["submit", "triage", "retrieve", "gather_context", "draft", "assess_risk",
                                             "review", "resume", "review", "apply_actions"], out  # parallel nodes
    assert [run for run, _, _ in rows] == ["1"] * 7 + ["2"] * 3
    assert [status for _, _, status in rows].count("interrupted") == 1, out
    as_json = json.loads(run_cli("trace", traced["thread_id"], "--json").stdout)
    assert as_json["thread_id"] == traced["thread_id"] and len(as_json["records"]) == 2 + 6 + 2


def test_trace_command_on_an_unknown_thread_is_one_line_and_exit_2() -> None:
    result = run_cli("trace", "no-such-thread")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("support-agent: no trace for 'no-such-thread'") and result.stderr.count("\n") == 1


def test_trace_command_does_not_load_the_engine(traced: dict[str, Any]) -> None:
    check = ("import json, sys\nfrom cli.main import main\ncode = main(sys.argv[1:])\n"
             f"print(json.dumps({{'code': code, 'loaded': [m for m in {HEAVY!r} if m in sys.modules]}}), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", check, "trace", traced["thread_id"]], capture_output=True, text=True,
                            cwd=REPO, timeout=120, check=False)
    assert json.loads(result.stderr.strip().splitlines()[-1]) == {"code": 0, "loaded": []}, result.stderr


# --- LangSmith: only with LANGSMITH_API_KEY ----------------------------------------------------------------


class FakeLangSmith(BaseHTTPRequestHandler):
    """Records what a LangSmith client sends (and answers like a server that accepts it)."""

    received: list[tuple[str, bytes]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        FakeLangSmith.received.append((self.path, self.rfile.read(length) if length else b""))
        body = b"{}" if "/info" not in self.path else json.dumps({"version": "0.10.0", "batch_ingest_config": {}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_langsmith(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, bytes]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLangSmith)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeLangSmith.received = []
    monkeypatch.setenv("LANGSMITH_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    try:
        yield FakeLangSmith.received
    finally:
        server.shutdown()
        server.server_close()


def test_no_langsmith_client_without_its_key(desk: Any, monkeypatch: pytest.MonkeyPatch, new_id: Any,
                                             fake_langsmith: list[tuple[str, bytes]]) -> None:
    from api import tracing

    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    assert tracing.langsmith_callbacks("support-desk") == []
    desk._langsmith = None
    desk.submit(ticket_with_pii(new_id("LS")))
    assert desk._langsmith == [] and fake_langsmith == []  # nothing was sent anywhere


def test_runs_go_to_the_configured_langsmith_project_with_the_key(desk: Any, monkeypatch: pytest.MonkeyPatch,
                                                                  new_id: Any, fake_langsmith: list[tuple[str, bytes]],
                                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("LANGSMITH_API_KEY", "lsv2_test_not_a_real_key")
    monkeypatch.setattr(desk.settings, "langsmith_project", "support-desk-tests")
    desk._langsmith = None
    try:
        desk.submit({"id": new_id("LS"), "customer_id": "cus_004", "subject": "Refund", "body": "Refund INV-20417 please"})
        tracer = desk._langsmith[0]
        tracer.wait_for_futures()
        tracer.client.flush()
    finally:
        desk._langsmith = None
    sent = b" ".join(body for path, body in fake_langsmith if "/runs" in path)
    assert b"support-desk-tests" in sent and b"triage" in sent, [path for path, _ in fake_langsmith]
