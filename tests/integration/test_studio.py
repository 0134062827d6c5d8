"""`make studio` (``scripts/studio.sh`` → ``langgraph dev``) serves the workflow offline.

The server is the one LangGraph Studio and Agent Inbox talk to. Over its HTTP API: a
refund ticket stops at review with the agent-inbox payload, an Agent Inbox "accept"
resumes it, the refund lands in the ledger once, and a second concurrent resume with
``multitask_strategy: "reject"`` is refused with 409. An audit hook loaded into the server
process (``sitecustomize``) records every non-loopback connect, DNS lookup and urllib
request, so "offline" is checked, not assumed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from threading import Barrier
from typing import Any

import httpx
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

LANGGRAPH = Path(sys.executable).parent / "langgraph"
OPT_OUT = {"LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGGRAPH_NO_VERSION_CHECK": "1", "LANGSMITH_TRACING": "false"}
#: Variables the launcher must set or clear itself: the test does not hand them to it.
LAUNCHER_OWNED = [*OPT_OUT, "LANGCHAIN_TRACING_V2", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY",
                  "LANGSMITH_CONTROL_PLANE_API_KEY", "LANGGRAPH_CLOUD_LICENSE_KEY"]
STARTUP_TIMEOUT = 90.0  # seconds; ~3-10 s on an idle 2-core machine

AUDIT_HOOK = textwrap.dedent('''
    """Test-only: log every non-loopback network attempt of this process to $NET_AUDIT_LOG."""
    import ipaddress, os, sys

    _LOG = os.environ.get("NET_AUDIT_LOG")

    def _local(host):
        if isinstance(host, bytes):
            host = host.decode()
        if host in (None, "", "localhost"):
            return True
        try:
            ip = ipaddress.ip_address(str(host).split("%")[0])
        except ValueError:
            return False
        return ip.is_loopback or ip.is_unspecified

    def _write(line):
        fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\\n").encode())
        finally:
            os.close(fd)

    def _hook(event, args):
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            address = args[-1]
            if isinstance(address, tuple) and address and not _local(address[0]):
                _write(f"OUTBOUND {event} {address!r}")
        elif event == "socket.getaddrinfo" and not _local(args[0]):
            _write(f"OUTBOUND {event} {args[0]!r}")
        elif event == "urllib.Request":
            _write(f"OUTBOUND {event} {args[0]!r}")

    if _LOG:
        sys.addaudithook(_hook)
        _write(f"audit hook installed in pid {os.getpid()}")
''')


@dataclass
class Server:
    """A running ``langgraph dev`` started by this test."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    audit_log: Path
    state_dir: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def _query(self, sql: str, *params: str) -> list[dict[str, Any]]:
        conn = sqlite3.connect(self.state_dir / "support.db")
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params)]
        finally:
            conn.close()

    def ledger(self, thread_id: str) -> list[dict[str, Any]]:
        return self._query("SELECT action_id, action FROM ledger WHERE thread_id = ?", thread_id)

    def refunds(self, ticket_id: str) -> int:
        return len(self._query("SELECT id FROM money WHERE ticket_id = ? AND kind = 'refund'", ticket_id))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def warm_index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index directory for the sample company, kept in the pytest cache between sessions.

    The engine rebuilds it only when the data changed (content hashes), so a stale copy is safe.
    """
    from tools.engine import load_corpus
    from tools.settings import Settings

    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    root = Path(cache.mkdir("support-desk-index")) if cache is not None else tmp_path_factory.mktemp("index")
    settings = Settings(state_dir=root, data_dir=REPO / "data")
    load_corpus(settings, settings.data_dir)
    return settings.index_dir


def _absolute_config(config: dict[str, Any]) -> dict[str, Any]:
    graphs = {}
    for graph_id, spec in config["graphs"].items():
        path, _, attr = spec.partition(":")
        graphs[graph_id] = f"{(REPO / path).resolve()}:{attr}"
    deps = [str((REPO / d).resolve()) for d in config["dependencies"]]
    absolute = {**config, "graphs": graphs, "dependencies": deps}
    if isinstance(config.get("env"), str):
        absolute["env"] = str(REPO / config["env"])
    return absolute


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail(f"langgraph dev exited with {server.proc.returncode}:\n{server.log_text()[-4000:]}")
        try:
            if httpx.get(f"{server.url}/ok", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"langgraph dev not ready after {STARTUP_TIMEOUT:.0f}s:\n{server.log_text()[-4000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, warm_index: Path) -> Iterator[Server]:
    """``scripts/studio.sh`` on a free port with a temp state directory; always stopped."""
    if not LANGGRAPH.exists():
        pytest.skip("langgraph-cli[inmem] is not installed (dev dependency)")
    tmp = tmp_path_factory.mktemp("studio")
    state_dir = tmp / "state"
    shutil.copytree(warm_index, state_dir / "index")
    hook_dir = tmp / "audit"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(AUDIT_HOOK)
    # The shipped config with its paths made absolute, so the server can run in ``tmp``: the
    # in-memory runtime writes .langgraph_api/ into its working directory whatever the config
    # says, and the repository's copy holds a developer's Studio threads.
    shipped = json.loads((REPO / "langgraph.json").read_text())
    (tmp / "langgraph.json").write_text(json.dumps(_absolute_config(shipped)))

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_OWNED}
    env.update(PORT=str(port), LANGGRAPH_BIN=str(LANGGRAPH),
               STUDIO_CONFIG=str(tmp / "langgraph.json"), STUDIO_WORKDIR=str(tmp),
               SUPPORT_STATE_DIR=str(state_dir), SUPPORT_DATA_DIR=str(REPO / "data"),
               NET_AUDIT_LOG=str(tmp / "net-audit.log"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(hook_dir), os.environ.get("PYTHONPATH")])),
               LANGSMITH_API_KEY="lsv2-must-be-cleared-by-the-launcher")
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(REPO / "scripts" / "studio.sh"), "--no-reload"], cwd=tmp, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    srv = Server(f"http://127.0.0.1:{port}", proc, log, tmp / "net-audit.log", state_dir)
    try:
        _wait_ready(srv)
        yield srv
    finally:
        _stop(proc)


def _refund_ticket() -> dict[str, str]:
    # The first sample refund that states its amount (S-001 asks for a pro-rata refund without one:
    # its refund is proposed incomplete and cannot be accepted as is).
    tickets = [json.loads(line) for line in (REPO / "data" / "sample_tickets.jsonl").read_text().splitlines() if line.strip()]
    ticket = next(t for t in tickets if t["id"] == "S-003")
    assert "refund" in ticket["subject"].lower()
    return {k: ticket[k] for k in ("id", "customer_id", "subject", "body")}


def test_refund_interrupts_resumes_once_and_a_concurrent_resume_gets_409(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=120) as client:
        assistants = client.post("/assistants/search", json={"graph_id": "support_desk"}).json()
        assert [a["graph_id"] for a in assistants] == ["support_desk"]
        schemas = client.get(f"/assistants/{assistants[0]['assistant_id']}/schemas").json()
        context = schemas["context_schema"]["properties"]
        assert set(context) == {"retrieval_k", "min_retrieval_score", "min_triage_confidence",
                                "tone", "engine", "workspace"}
        assert all(field.get("description") for field in context.values())  # Studio's help text
        assert context["tone"]["enum"] == ["friendly", "formal"]  # a drop-down in Studio

        ticket = _refund_ticket()
        thread_id = client.post("/threads", json={}).json()["thread_id"]
        run = client.post(f"/threads/{thread_id}/runs/wait",
                          json={"assistant_id": "support_desk", "input": {"ticket": ticket}})
        assert run.status_code == 200, run.text

        thread = client.get(f"/threads/{thread_id}").json()
        assert thread["status"] == "interrupted"
        [[pending]] = thread["interrupts"].values()
        payload = pending["value"]
        assert payload["action_request"]["action"] == "approve_support_packet"
        assert payload["config"] == {"allow_accept": True, "allow_edit": True,
                                     "allow_respond": True, "allow_ignore": True}
        assert "### Draft reply" in payload["description"]
        assert payload["action_request"]["args"]["reply"].strip()
        gated = {a["name"] for a in payload["action_request"]["args"]["actions"]}
        assert "issue_refund" in gated and "send_reply" in gated
        assert server.ledger(thread_id) == []  # nothing applied before a human decided

        # Agent Inbox's resume value, sent twice at once: the server admits exactly one.
        body = {"assistant_id": "support_desk", "multitask_strategy": "reject",
                "command": {"resume": [{"type": "accept", "args": None}]}}
        barrier = Barrier(2)

        def resume() -> httpx.Response:
            barrier.wait()
            return client.post(f"/threads/{thread_id}/runs/wait", json=body)

        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(lambda _: resume(), range(2)))
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text[:300] for r in responses]
        done = next(r for r in responses if r.status_code == 200).json()
        assert done["status"] == "completed"
        assert "issue_refund" in {a["name"] for a in done["applied"]}

        thread = client.get(f"/threads/{thread_id}").json()
        assert thread["status"] == "idle" and not thread["interrupts"]

        # A late repeat with the server's default strategy (what Agent Inbox sends) must not pay twice.
        late = client.post(f"/threads/{thread_id}/runs/wait",
                           json={"assistant_id": "support_desk", "command": {"resume": {"type": "accept"}}})
        assert late.status_code == 200, late.text
        assert late.json()["applied"] == done["applied"]  # nothing pending: nothing ran again

    ledger = server.ledger(thread_id)
    assert [row["action"] for row in ledger].count("issue_refund") == 1
    assert len({row["action_id"] for row in ledger}) == len(ledger)
    assert server.refunds(ticket["id"]) == 1  # the money moved once
    assert (server.state_dir.parent / ".langgraph_api").is_dir()  # the server's threads stayed in tmp


def test_studio_gets_the_input_and_output_schemas(server: Server) -> None:
    """Studio builds its input form from these; pydantic needs typing_extensions.TypedDict on 3.11."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        [assistant] = client.post("/assistants/search", json={"graph_id": "support_desk"}).json()
        schemas = client.get(f"/assistants/{assistant['assistant_id']}/schemas").json()
    assert schemas["input_schema"] and "ticket" in schemas["input_schema"]["properties"]
    assert schemas["output_schema"] and "status" in schemas["output_schema"]["properties"]


def test_server_made_no_outbound_connection(server: Server) -> None:
    environ = Path(f"/proc/{server.proc.pid}/environ")
    if environ.exists():  # the launcher exec's the server: this is the server's own environment
        env = dict(item.split("=", 1) for item in environ.read_text().split("\0") if "=" in item)
        assert {k: env.get(k) for k in OPT_OUT} == OPT_OUT
        assert "LANGSMITH_API_KEY" not in env
    audit = server.audit_log.read_text()
    assert f"audit hook installed in pid {server.proc.pid}" in audit  # the hook really ran in the server
    assert "OUTBOUND" not in audit, audit
    log = server.log_text()
    assert f"http://127.0.0.1:{server.url.rsplit(':', 1)[1]}" in log  # on our port, not a random one
    assert "skipping metadata loop" in log
    assert "[version]" not in log and "version_check" not in log


def test_audit_hook_catches_an_outbound_attempt(tmp_path: Path) -> None:
    """Positive control: the same hook records a connect to a non-loopback address."""
    (tmp_path / "sitecustomize.py").write_text(AUDIT_HOOK)
    audit = tmp_path / "audit.log"
    code = ("import socket\ns = socket.socket()\ns.settimeout(0.05)\n"
            "try:\n    s.connect(('192.0.2.1', 9))\nexcept OSError:\n    pass\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30,
                   env={**os.environ, "PYTHONPATH": str(tmp_path), "NET_AUDIT_LOG": str(audit)})
    assert "OUTBOUND socket.connect ('192.0.2.1', 9)" in audit.read_text()
