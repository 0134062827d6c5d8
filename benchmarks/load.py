"""Load test of the HTTP API: submit and review throughput on SQLite and PostgreSQL, 2 workers each.

For each database this starts ``uvicorn --factory api.app:create_app --workers 2`` on a free
loopback port with a fresh state directory (the engine's index is linked, not rebuilt) and a
fresh PostgreSQL schema, then, with ``--concurrency`` async httpx clients:

1. submits ``--tickets`` tickets (the sample tickets, new ids) and waits for each packet;
2. accepts every review that came back.

It prints p50 / p99 latency of both, tickets/s (submits completed per second of the submit
phase) and the CPU per ticket of the submit phase: the server's processes (``CPU ms/t``) and, on
PostgreSQL, the database server's (``DB ms/t``; every backend on the machine, so run it on a quiet one).
``--code DIR`` runs the server from another checkout (a worktree of an earlier commit) for before/after.
Bounded: at most ``--tickets`` per database and ``--max-seconds`` per phase (what is
not done by then is not counted). Loopback only; nothing leaves the machine.

    python benchmarks/load.py --tickets 200 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api.auth import insert_key  # noqa: E402
from api.db import open_store  # noqa: E402
from tools.settings import Settings  # noqa: E402


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def index_dir() -> Path:
    """A built engine index to link (the default state dir's, else the test suite's cache), built if needed."""
    for candidate in (REPO / ".support-agent" / "index", REPO / ".pytest_cache" / "d" / "support-desk-index"):
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    target = REPO / ".support-agent" / "index"
    print("building the engine index once (about a minute)…")
    env = {**os.environ, "SUPPORT_STATE_DIR": str(target.parent), "SUPPORT_DATABASE_URL": ""}
    subprocess.run([sys.executable, "-c", "from tools.engine import get_engine; get_engine()"], cwd=REPO, env=env,
                   check=True)
    return target


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) in ms; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def cpu_seconds(match: Any) -> float:
    """User + system CPU seconds of the live processes whose ``/proc/PID/stat`` fields satisfy ``match(fields)``.

    Fields as in proc(5) after the command name: ``fields[2]`` is the process group, ``fields[11:13]``
    utime and stime in clock ticks. Linux only; 0.0 elsewhere.
    """
    tick, total = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100, 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:  # the process exited meanwhile
            continue
        name, fields = raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()
        if match(name, fields):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def group_cpu(pgid: int) -> float:
    """CPU seconds of a process group (a server and its workers)."""
    return cpu_seconds(lambda _name, fields: int(fields[2]) == pgid)


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process on this machine (its backends serve whoever is connected)."""
    return cpu_seconds(lambda name, _fields: name.startswith("postgres"))


class Server:
    """uvicorn with N workers in its own process group."""

    def __init__(self, env: dict[str, str], workers: int, log: Path, code: Path = REPO) -> None:
        """Start it from the checkout ``code`` (call :meth:`wait_ready` next)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
                cwd=code, env={**env, "PYTHONPATH": str(code)}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.log = log

    def wait_ready(self, timeout: float = 180) -> None:
        """Until every worker answers /readyz."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log.read_text()[-3000:]}")
            try:
                if all(httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200 for _ in range(4)):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server not ready:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM the process group and wait."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


async def phase(requests: list[tuple[str, dict[str, Any]]], url: str, key: str, concurrency: int,
                max_seconds: float) -> tuple[list[float], list[dict[str, Any]], dict[int, int], float]:
    """POST every (path, body) with ``concurrency`` in flight; latencies, bodies, status counts, elapsed."""
    latencies: list[float] = []
    bodies: list[dict[str, Any]] = []
    codes: dict[int, int] = {}
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    start = time.perf_counter()
    deadline = start + max_seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits,
                                 headers={"Authorization": f"Bearer {key}"}) as client:
        async def worker() -> None:
            while not queue.empty() and time.perf_counter() < deadline:
                path, body = queue.get_nowait()
                sent = time.perf_counter()
                response = await client.post(path, json=body)
                latencies.append(time.perf_counter() - sent)
                codes[response.status_code] = codes.get(response.status_code, 0) + 1
                if response.status_code < 300:
                    bodies.append(response.json())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, bodies, codes, time.perf_counter() - start


def run_backend(name: str, database_url: str, args: argparse.Namespace, index: Path,
                extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Start a server on a fresh state dir / schema, run both phases, return the numbers."""
    with tempfile.TemporaryDirectory(prefix=f"load-{name}-") as tmp:
        state = Path(tmp)
        (state / "index").symlink_to(index, target_is_directory=True)
        settings = Settings(state_dir=state, database_url=database_url)
        store = open_store(settings)
        submitter, reviewer = insert_key(store, "submitter", "default"), insert_key(store, "reviewer", "default")
        store.close()
        env = {**os.environ, "SUPPORT_STATE_DIR": str(state), "SUPPORT_DATABASE_URL": database_url,
               "ORT_DISABLE_TELEMETRY": "1", "LANGCHAIN_TRACING_V2": "false", "LANGSMITH_TRACING": "false",
               "SUPPORT_RATE_LIMIT_SUBMIT": "off", "SUPPORT_RATE_LIMIT_REVIEW": "off", **(extra_env or {})}
        server = Server(env, args.workers, state / "server.log", args.code)
        try:
            server.wait_ready()
            samples = [json.loads(line) for line in (REPO / "data" / "sample_tickets.jsonl").read_text().splitlines()
                       if line.strip()]
            run = uuid.uuid4().hex[:6]
            tickets = [("/v1/tickets", {**samples[i % len(samples)], "id": f"load-{run}-{i:05d}"})
                       for i in range(args.tickets)]
            cpu0, pg0 = group_cpu(server.proc.pid), postgres_cpu()
            sub_lat, views, sub_codes, sub_elapsed = asyncio.run(
                phase(tickets, server.url, submitter, args.concurrency, args.max_seconds))
            server_cpu, pg_cpu = group_cpu(server.proc.pid) - cpu0, postgres_cpu() - pg0
            decisions = [(f"/v1/tickets/{v['thread_id']}/review", {"interrupt_id": v["interrupts"][0]["id"],
                                                                   "type": "accept"})
                         for v in views if v.get("interrupts")]
            rev_lat, _, rev_codes, rev_elapsed = asyncio.run(
                phase(decisions, server.url, reviewer, args.concurrency, args.max_seconds))
        finally:
            server.stop()
    return {"backend": name, "submitted": len(sub_lat), "submit_codes": sub_codes,
            "submit_p50": percentile(sub_lat, 50), "submit_p99": percentile(sub_lat, 99),
            "tickets_per_s": sum(c for s, c in sub_codes.items() if s < 300) / sub_elapsed,
            "cpu_ms_per_ticket": 1000 * server_cpu / max(1, len(views)),
            "db_cpu_ms_per_ticket": 1000 * pg_cpu / max(1, len(views)) if name == "postgres" else 0.0,
            "reviewed": len(rev_lat), "review_codes": rev_codes, "review_p50": percentile(rev_lat, 50),
            "review_p99": percentile(rev_lat, 99),
            "reviews_per_s": sum(c for s, c in rev_codes.items() if s < 300) / rev_elapsed if rev_lat else 0.0}


def postgres_schema(base: str) -> tuple[str, str] | None:
    """A fresh schema on the PostgreSQL server, or None when it does not answer."""
    import psycopg

    try:
        with psycopg.connect(base, connect_timeout=3, autocommit=True) as conn:
            schema = f"load_{uuid.uuid4().hex[:8]}"
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL at {base} does not answer ({exc}); skipping it")
        return None
    return base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}", schema


def main() -> None:
    """Parse arguments, run SQLite then PostgreSQL, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=200, help="tickets per database (bounded)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--max-seconds", type=float, default=90, help="time limit per phase")
    parser.add_argument("--database-url", default=os.environ.get("SUPPORT_TEST_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="run one database only")
    parser.add_argument("--code", type=Path, default=REPO, help="run the server from this checkout (e.g. a git worktree "
                                                               "of an earlier commit, for before/after)")
    parser.add_argument("--sqlite-synchronous", action="store_true",
                        help="SQLite twice in this run, synchronous=FULL then NORMAL, and print the ratio")
    args = parser.parse_args()
    index = index_dir()
    results = []
    if args.sqlite_synchronous:
        for mode in ("FULL", "NORMAL"):
            results.append({**run_backend("sqlite", "", args, index, {"SUPPORT_SQLITE_SYNCHRONOUS": mode}), "backend": f"sqlite {mode}"})
        full, normal = results
        print(f"synchronous=NORMAL / FULL: submits {normal['tickets_per_s'] / max(full['tickets_per_s'], 1e-9):.2f}×, "
              f"reviews {normal['reviews_per_s'] / max(full['reviews_per_s'], 1e-9):.2f}× (same run)")
    elif args.only in (None, "sqlite"):
        results.append(run_backend("sqlite", "", args, index))
    if not args.sqlite_synchronous and args.only in (None, "postgres") and (pg := postgres_schema(args.database_url)):
        url, schema = pg
        try:
            results.append(run_backend("postgres", url, args, index))
        finally:
            import psycopg

            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    print(f"\n{args.workers} workers, {args.concurrency} in flight, {os.cpu_count()} CPUs, loopback")
    print(f"{'database':<10}{'submits':>9}{'p50 ms':>9}{'p99 ms':>9}{'tickets/s':>11}{'CPU ms/t':>10}{'DB ms/t':>9}"
          f"{'reviews':>9}{'p50 ms':>9}{'p99 ms':>9}{'reviews/s':>11}  statuses")
    for r in results:
        print(f"{r['backend']:<13}{r['submitted']:>6}{r['submit_p50']:>9.0f}{r['submit_p99']:>9.0f}"
              f"{r['tickets_per_s']:>11.1f}{r['cpu_ms_per_ticket']:>10.1f}{r['db_cpu_ms_per_ticket']:>9.1f}{r['reviewed']:>9}{r['review_p50']:>9.0f}{r['review_p99']:>9.0f}"
              f"{r['reviews_per_s']:>11.1f}  submit {r['submit_codes']} review {r['review_codes']}")


if __name__ == "__main__":
    main()
