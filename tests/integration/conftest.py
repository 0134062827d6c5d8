"""Fixtures for the HTTP API tests: real uvicorn processes (2 workers) on free loopback ports.

The engine's FAISS index and classifier are built once and kept in pytest's cache folder;
each module's state directory links to it, so a server starts in seconds. PostgreSQL tests
get a fresh schema each (``search_path`` in the URL); they skip when no server answers,
except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
REFUND = {"customer_id": "cus_001", "subject": "Refund please",
          "body": "Refund €49.00 of invoice INV-20931 because we downgraded"}
HOW_TO_TICKET = {"customer_id": "cus_002", "subject": "How do I reset my password?",
                 "body": "Hi, how do I reset my password? I forgot it. Thanks, Dana"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(state_dir: Path, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"SUPPORT_STATE_DIR": str(state_dir), "SUPPORT_DATABASE_URL": database_url,
                "ORT_DISABLE_TELEMETRY": "1", "LANGCHAIN_TRACING_V2": "false", "LANGSMITH_TRACING": "false",
                "PYTHONUNBUFFERED": "1"})
    return env


class Server:
    """``uvicorn --factory api.app:create_app --workers N`` in its own process group."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2) -> None:
        self.env, self.log_path, self.workers = env, log, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> Server:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(self.workers), "--log-level", "warning"],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                # Ready in every worker: both processes load the engine; ask a few times.
                if all(httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200 for _ in range(4)):
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.log_tail()}")

    def stop(self, kill: bool = False) -> None:
        """SIGKILL (a crash) or SIGTERM (a shutdown) to the server's own process group."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
        self.proc = None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def warm_index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The engine's index folder, built once and kept across runs in pytest's cache (content-hashed)."""
    cache = request.config.cache
    assert cache is not None, "the cache provider is needed to keep the built index"
    index = cache.mkdir("support-desk-index")
    state = tmp_path_factory.mktemp("warm")
    (state / "index").symlink_to(index, target_is_directory=True)
    subprocess.run([sys.executable, "-c", "from tools.engine import get_engine; get_engine()"], cwd=REPO,
                   env=base_env(state, ""), check=True, timeout=600)
    return index


def make_state_dir(tmp_path_factory: pytest.TempPathFactory, warm_index: Path, name: str) -> Path:
    state = tmp_path_factory.mktemp(name)
    (state / "index").symlink_to(warm_index, target_is_directory=True)
    return state


def postgres_url() -> str:
    """A fresh schema on the test server; skip (or fail under CI) when it does not answer."""
    import psycopg

    base = os.environ.get("SUPPORT_TEST_DATABASE_URL", DEFAULT_PG)
    try:
        with psycopg.connect(base, connect_timeout=3, autocommit=True) as conn:
            schema = f"t_{uuid.uuid4().hex[:10]}"
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL at {base} does not answer ({exc}); set SUPPORT_TEST_DATABASE_URL"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"


def drop_schema(url: str) -> None:
    import psycopg

    schema = url.rsplit("%3D", 1)[1]
    base = os.environ.get("SUPPORT_TEST_DATABASE_URL", DEFAULT_PG)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


class Deployment:
    """A state directory + database, the keys created in it, and the server currently serving it."""

    def __init__(self, backend: str, state: Path, database_url: str) -> None:
        from api.auth import insert_key
        from api.db import open_store
        from tools.settings import Settings
        from tools.workspaces import Workspaces

        self.backend, self.state, self.database_url = backend, state, database_url
        self.env = base_env(state, database_url)
        self.settings = Settings(state_dir=state, database_url=database_url)
        self.store = open_store(self.settings)
        workspaces = Workspaces(self.settings, self.store)
        for tenant in ("acme", "globex"):  # two companies on the sample data; their rows stay apart
            workspaces.create(tenant, REPO / "data")
        self.keys = {f"{role}@{tenant}": insert_key(self.store, role, tenant, name=f"{role}-{tenant}")
                     for role in ("submitter", "reviewer", "admin") for tenant in ("acme", "globex")}
        self.server: Server | None = None

    def start(self) -> Server:
        self.server = Server(self.env, self.state / "server.log").start()
        return self.server

    def restart(self, kill: bool = True) -> Server:
        assert self.server is not None
        self.server.stop(kill=kill)
        return self.start()

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.store.close()


@contextmanager
def deployment_on(backend: str, tmp_path_factory: pytest.TempPathFactory, warm_index: Path, name: str,
                  start: bool = True) -> Iterator[Deployment]:
    """A deployment on ``backend`` (sqlite | postgres: a fresh schema, dropped afterwards), started unless told not to."""
    url = postgres_url() if backend == "postgres" else ""
    deployment = Deployment(backend, make_state_dir(tmp_path_factory, warm_index, f"{name}-{backend}"), url)
    try:
        if start:
            deployment.start()
        yield deployment
    finally:
        deployment.close()
        if url:
            drop_schema(url)


#: Parametrize a module's deployment fixture over both databases (CI must run the PostgreSQL side).
BOTH_DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def deployment_per_database(name: str) -> Any:
    """A module's ``dep`` fixture: a started 2-worker deployment on SQLite, then on PostgreSQL (``dep = …("x")``)."""

    @pytest.fixture(scope="module", params=BOTH_DATABASES)
    def dep(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, warm_index: Path) -> Iterator[Deployment]:
        with deployment_on(request.param, tmp_path_factory, warm_index, name) as deployment:
            yield deployment

    return dep


@pytest.fixture(scope="module")
def sqlite_deployment(tmp_path_factory: pytest.TempPathFactory, warm_index: Path) -> Iterator[Deployment]:
    deployment = Deployment("sqlite", make_state_dir(tmp_path_factory, warm_index, "sqlite"), "")
    deployment.start()
    yield deployment
    deployment.close()


def submit(client: httpx.Client, dep: Deployment, ticket: dict[str, Any], who: str = "submitter@acme",
           **kwargs: Any) -> httpx.Response:
    return client.post(f"{dep.url}/v1/tickets", json=ticket, headers={**dep.headers(who), **kwargs.pop("headers", {})},
                       **kwargs)


@pytest.fixture(scope="module")
def dep(sqlite_deployment: Deployment) -> Deployment:
    """The module's API deployment: 2 workers on SQLite."""
    return sqlite_deployment


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """One HTTP client per module."""
    with httpx.Client(timeout=60) as c:
        yield c
