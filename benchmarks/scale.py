"""Scale-out of the queue on PostgreSQL: 1, 2 and 4 worker processes against the compute floor, one run.

One run (loopback only, bounded):

1. **Floor**: the same N tickets' model work alone, batched, in as many processes as the machine has cores
   (each with a one-thread embedder), no graph, no database. Two floors of the same timed run: the *ticket
   floor* (embed the ticket + classify + search, what the issue named) and the *model floor*, which adds the
   request detector (triage's second embedding pass, over the ticket's salient sentences) — every ticket the
   product runs pays for both passes, so the model floor is the one a deployment can approach.
2. **Workers 1, 2, 4**: one API process (``uvicorn --factory api.app:create_app``, ``SUPPORT_QUEUE=procrastinate``)
   on a fresh PostgreSQL schema. For each count: start that many ``support-agent worker`` processes, warm
   them (a few tickets each, not counted), SIGSTOP them, POST a burst of N tickets with ``wait=false``,
   SIGCONT them and wait until every ticket's job has finished. Reported: tickets/s of the drain (N / time
   from release to the last job's end), queue wait p50/p99 (procrastinate's ``started`` event minus the
   later of ``deferred`` and the release), CPU ms per ticket over the burst window (see ``CPU`` below).
3. **Kill**: the same burst on 2 workers; when half the tickets are done one worker gets ``kill -9``, and a
   replacement starts once its heartbeat is stale (``SUPPORT_STALLED_AFTER_S``), which retries the stalled job.
   Then every ticket must have finished its run once: 0 lost, 0 duplicated (``run.stopped`` audit events,
   jobs, ledger rows and the actions' effect rows).
4. **Network namespaces** (root and ``ip`` needed, else skipped with the reason): two namespaces, each with
   a veth pair to this host (10.77.<k>.0/30), PostgreSQL reached through a TCP forwarder on the host side of
   each veth (PostgreSQL itself listens on 127.0.0.1 only). One worker per namespace, each with its own
   state directory holding a *copy* of the index; the workspace's data directory is the one thing shared.

CPU: user+system time from ``/proc/<pid>/stat`` of the worker processes, the API process group (uvicorn's
supervisor and its web workers), and the PostgreSQL backends that served them (found by ``application_name``
in ``pg_stat_activity``, sampled every 0.5 s: a short-lived connection that ends between samples is counted
up to its last sample). The benchmark process itself (the HTTP client) is not counted.

    python benchmarks/scale.py --tickets 120
    python benchmarks/scale.py --tickets 6 --workers 1 --no-kill --no-netns   # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.load import Server, index_dir, percentile, phase, postgres_schema  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
NETNS_NET = "10.77"


# ------------------------------------------------------------------ CPU accounting

def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (its threads included); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy() -> float:
    """CPU seconds all cores have been busy since boot (``/proc/stat``: all but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK


def wait_quiet(limit: float = 120, busy_below: float = 0.15) -> float:
    """Wait (bounded) until the machine is nearly idle over a second; the busy fraction last seen."""
    deadline = time.monotonic() + limit
    while True:
        b0, w0 = machine_busy(), time.monotonic()
        time.sleep(1)
        busy = (machine_busy() - b0) / (time.monotonic() - w0) / CORES
        if busy < busy_below or time.monotonic() > deadline:
            return busy


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


class PgCpu:
    """CPU of the PostgreSQL backends whose ``application_name`` starts with a prefix, sampled in a thread."""

    def __init__(self, base_url: str, prefix: str) -> None:
        """Start sampling (``base_url``: the server, any schema)."""
        import psycopg

        self.conn = psycopg.connect(base_url, autocommit=True)
        self.prefix = prefix
        self.seen: dict[int, tuple[str, float]] = {}  # pid -> (application_name, last CPU seconds)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.sample()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def sample(self) -> None:
        """Read every matching backend's CPU now."""
        rows = self.conn.execute("SELECT pid, application_name FROM pg_stat_activity WHERE application_name LIKE %s",
                                 (self.prefix + "%",)).fetchall()
        with self._lock:
            for pid, name in rows:
                cpu = proc_cpu(pid)
                if cpu or pid not in self.seen:
                    self.seen[pid] = (name, max(cpu, self.seen.get(pid, ("", 0.0))[1]))

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.sample()
            except Exception:  # noqa: BLE001 - a sampling miss only undercounts; the run goes on
                pass

    def snapshot(self) -> dict[int, tuple[str, float]]:
        """Backend CPU so far (sampled now)."""
        self.sample()
        with self._lock:
            return dict(self.seen)

    @staticmethod
    def delta(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
        """CPU seconds used between two snapshots, per application name (a new backend counts from 0)."""
        out: dict[str, float] = {}
        for pid, (name, cpu) in after.items():
            out[name] = out.get(name, 0.0) + cpu - before.get(pid, (name, 0.0))[1]
        return out

    def close(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.conn.close()


# ------------------------------------------------------------------ the compute floor

def _floor_part(texts: list[str], settings_state: str, start: Any, out: Any) -> None:
    """One core's share of the floor: load (untimed), then embed + classify + search + requests of its texts, timed."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    os.environ["SUPPORT_EMBED_THREADS"] = "1"  # the process-wide embedder the corpus and its request detector use
    from tools.engine import embed_texts, load_corpus
    from tools.settings import Settings

    settings = Settings(state_dir=Path(settings_state), database_url="")
    corpus = load_corpus(settings, settings.data_dir)
    embedder = corpus.embedder
    warm = embed_texts(embedder, texts[:2])  # first calls allocate and import: not part of the floor
    corpus.classifier.predict_proba(texts[:2], warm)
    corpus.kb.retrieve(texts[0], warm[0], k=4)
    requests = corpus.requests
    if requests is not None:
        requests.detect_many(texts[:2], warm)
    out.put({"ready": True})
    start.wait()
    t0 = time.perf_counter()
    vectors = embed_texts(embedder, texts)
    t1 = time.perf_counter()
    corpus.classifier.predict_proba(texts, vectors)
    t2 = time.perf_counter()
    for text, vector in zip(texts, vectors, strict=True):
        corpus.kb.retrieve(text, vector, k=4)
    t3 = time.perf_counter()
    if requests is not None:  # the request detector on a one-thread embedder too, its pieces batched across tickets
        for chunk in _distinct_runs(texts):  # the detector embeds a repeated piece once: no ticket rides on another's
            requests.detect_many([texts[i] for i in chunk], vectors[chunk])
    t4 = time.perf_counter()
    out.put({"n": len(texts), "embed": t1 - t0, "classify": t2 - t1, "search": t3 - t2, "requests": t4 - t3,
             "ticket": t3 - t0, "total": t4 - t0})


def _distinct_runs(texts: list[str]) -> list[list[int]]:
    """Consecutive runs of positions whose texts differ (a burst repeats the sample tickets)."""
    runs: list[list[int]] = [[]]
    seen: set[str] = set()
    for i, text in enumerate(texts):
        if text in seen:
            runs.append([])
            seen = set()
        runs[-1].append(i)
        seen.add(text)
    return [r for r in runs if r]


def compute_floor(texts: list[str], state: Path, processes: int) -> dict[str, Any]:
    """Floor tickets/s: ``processes`` spawned processes run their share at once; N / the slowest one's time.

    ``tickets_per_s`` is the model floor (both embedding passes), ``ticket_floor_per_s`` the ticket pass alone.
    """
    wait_quiet()
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    shares = [texts[i::processes] for i in range(processes)]
    procs = [ctx.Process(target=_floor_part, args=(share, str(state), start, out)) for share in shares if share]
    for p in procs:
        p.start()
    try:
        # Each loads its corpus first (untimed); the timed parts start together.
        for _ in procs:
            out.get(timeout=300)
        start.set()
        parts = [out.get(timeout=300) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    n = sum(p["n"] for p in parts)
    per = {k: sum(p[k] for p in parts) / n * 1000 for k in ("embed", "classify", "search", "requests")}
    return {"processes": len(procs), "tickets_per_s": n / max(p["total"] for p in parts),
            "cpu_ms_per_ticket": sum(per.values()), "ticket_floor_per_s": n / max(p["ticket"] for p in parts),
            "ticket_floor_cpu_ms": per["embed"] + per["classify"] + per["search"], "ms_per_ticket": per}


# ------------------------------------------------------------------ the deployment

def with_params(url: str, **params: str) -> str:
    """``url`` with extra libpq query parameters."""
    return url + ("&" if "?" in url else "?") + "&".join(f"{k}={v}" for k, v in params.items())


class Bench:
    """The API, its schema, the workers and what the phases measured."""

    def __init__(self, args: argparse.Namespace, tmp: Path, pg_url: str, schema: str) -> None:
        """Create keys, start the API (not the workers)."""
        from api.auth import insert_key
        from api.db import open_store
        from tools.settings import Settings

        self.args, self.tmp, self.schema = args, tmp, schema
        self.base_url = pg_url  # with the schema's search_path
        self.run = uuid.uuid4().hex[:6]
        self.state = tmp / "api"
        self.state.mkdir()
        (self.state / "index").symlink_to(index_dir(), target_is_directory=True)
        settings = Settings(state_dir=self.state, database_url=pg_url)
        store = open_store(settings)
        self.submitter, self.admin = insert_key(store, "submitter", "default"), insert_key(store, "admin", "default")
        store.close()
        self.env = {**os.environ, "SUPPORT_STATE_DIR": str(self.state), "ORT_DISABLE_TELEMETRY": "1",
                    "LANGCHAIN_TRACING_V2": "false", "LANGSMITH_TRACING": "false", "PYTHONUNBUFFERED": "1",
                    "SUPPORT_RATE_LIMIT_SUBMIT": "off", "SUPPORT_RATE_LIMIT_REVIEW": "off",
                    "SUPPORT_QUEUE": "procrastinate", "PYTHONPATH": str(REPO)}
        self.server = Server({**self.env, "SUPPORT_DATABASE_URL": with_params(pg_url, application_name=f"scale-{self.run}-api")},
                             args.web_workers, self.state / "server.log")
        self.workers: list[subprocess.Popen[bytes]] = []
        self.pg = PgCpu(args.database_url, f"scale-{self.run}-")
        samples = [json.loads(line) for line in (REPO / "data" / "sample_tickets.jsonl").read_text().splitlines()
                   if line.strip()]
        self.samples = samples

    def start(self) -> None:
        """Wait for the API (it creates procrastinate's tables)."""
        self.server.wait_ready()

    # ---------------------------------------------------------- workers

    def spawn_worker(self, name: str, extra_env: dict[str, str] | None = None, prefix: list[str] | None = None,
                     database_url: str | None = None, state: Path | None = None) -> subprocess.Popen[bytes]:
        """One ``support-agent worker`` process (through ``python -m cli.main`` so this checkout's code runs)."""
        env = {**self.env, "SUPPORT_DATABASE_URL": with_params(database_url or self.base_url,
                                                               application_name=f"scale-{self.run}-{name}"),
               **(extra_env or {})}
        if state is not None:
            env["SUPPORT_STATE_DIR"] = str(state)
        log = open(self.tmp / f"worker-{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([*(prefix or []), sys.executable, "-m", "cli.main", "worker", "--concurrency",
                                 str(self.args.concurrency)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        proc.name = name  # type: ignore[attr-defined]
        self.workers.append(proc)
        return proc

    def stop_workers(self, procs: list[subprocess.Popen[bytes]] | None = None) -> None:
        """SIGTERM (then SIGKILL) the given workers, by pid."""
        for proc in procs if procs is not None else list(self.workers):
            if proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGCONT)
                    os.kill(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in procs if procs is not None else list(self.workers):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            if proc in self.workers:
                self.workers.remove(proc)

    def registered_workers(self) -> set[int]:
        """Worker ids in procrastinate_workers now."""
        return {int(r[0]) for r in self.sql("SELECT id FROM procrastinate_workers")}

    def wait_workers(self, procs: list[subprocess.Popen[bytes]], before: set[int], timeout: float = 240) -> None:
        """Until ``len(procs)`` new workers registered (each has loaded the engine by then)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in procs:
                if proc.poll() is not None:
                    log = (self.tmp / f"worker-{proc.name}.log").read_text(errors="replace")  # type: ignore[attr-defined]
                    raise RuntimeError(f"worker {proc.name} exited with {proc.returncode}:\n{log[-3000:]}")  # type: ignore[attr-defined]
            if len(self.registered_workers() - before) >= len(procs):
                return
            time.sleep(0.3)
        raise RuntimeError(f"workers not registered after {timeout}s")

    # ---------------------------------------------------------- database

    def sql(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Rows of ``query`` in the run's schema."""
        import psycopg

        from api.queue import conninfo

        with psycopg.connect(conninfo(self.base_url), autocommit=True) as conn:
            return list(conn.execute(query, params).fetchall())

    def finished(self, threads: list[str]) -> int:
        """How many of ``threads`` have a job that ended (succeeded or failed)."""
        return int(self.sql("SELECT count(DISTINCT queueing_lock) FROM procrastinate_jobs WHERE queueing_lock = ANY(%s) "
                            "AND status IN ('succeeded', 'failed')", (threads,))[0][0])

    def wait_finished(self, threads: list[str], timeout: float, until: int | None = None) -> int:
        """Poll until ``until`` (default all) of ``threads`` finished or ``timeout``; how many did."""
        goal = len(threads) if until is None else until
        deadline = time.monotonic() + timeout
        done = self.finished(threads)
        while done < goal and time.monotonic() < deadline:
            time.sleep(0.1)
            done = self.finished(threads)
        return done

    # ---------------------------------------------------------- tickets

    def post(self, label: str, n: int) -> tuple[list[str], float, dict[int, int]]:
        """POST ``n`` tickets with ``wait=false``; their thread ids, seconds, status counts."""
        requests = [("/v1/tickets?wait=false", {**self.samples[i % len(self.samples)], "id": f"sc-{self.run}-{label}-{i:04d}"})
                    for i in range(n)]
        _, bodies, codes, elapsed = asyncio.run(phase(requests, self.server.url, self.submitter, self.args.post_concurrency,
                                                      self.args.max_seconds))
        threads = [str(b["thread_id"]) for b in bodies]
        if len(threads) != n:
            raise RuntimeError(f"{label}: {len(threads)} of {n} tickets accepted ({codes})")
        return threads, elapsed, codes

    def warm(self, label: str, procs: list[subprocess.Popen[bytes]]) -> None:
        """Run warm-up tickets until every worker ran one (its first job loads the run's engine)."""
        for attempt in range(4):
            threads, _, _ = self.post(f"{label}-warm{attempt}", 2 * len(procs))
            if self.wait_finished(threads, self.args.max_seconds) < len(threads):
                raise RuntimeError(f"{label}: warm-up tickets not done in {self.args.max_seconds}s")
            ran = {r[0] for r in self.sql("SELECT DISTINCT worker_id FROM procrastinate_jobs WHERE worker_id IS NOT NULL "
                                          "AND queueing_lock LIKE %s", (f"%sc-{self.run}-{label}-warm%",))}
            if len(ran) >= len(procs):
                return
        print(f"  note: after 4 warm-up rounds only {len(ran)} of {len(procs)} workers had run a job")

    def jobs(self, threads: list[str]) -> list[dict[str, Any]]:
        """Per job of ``threads``: deferred, first started, ended (epoch seconds), attempts, starts, worker."""
        rows = self.sql(
            "SELECT j.id, j.queueing_lock, j.status::text, j.attempts, j.worker_id, "
            "extract(epoch FROM min(e.at) FILTER (WHERE e.type = 'deferred')), "
            "extract(epoch FROM min(e.at) FILTER (WHERE e.type = 'started')), "
            "extract(epoch FROM max(e.at) FILTER (WHERE e.type IN ('succeeded', 'failed'))), "
            "count(*) FILTER (WHERE e.type = 'started') "
            "FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id "
            "WHERE j.queueing_lock = ANY(%s) GROUP BY j.id", (threads,))
        return [{"id": r[0], "thread": r[1], "status": r[2], "attempts": r[3], "worker": r[4],
                 "deferred": float(r[5]) if r[5] is not None else None, "started": float(r[6]) if r[6] is not None else None,
                 "ended": float(r[7]) if r[7] is not None else None, "starts": int(r[8])} for r in rows]

    def audit(self, threads: list[str]) -> dict[str, Any]:
        """Lost / duplicated check of ``threads``: runs stopped, jobs, ledger rows and effect rows per ticket."""
        stopped = Counter(str(r[0]) for r in self.sql(
            "SELECT thread_id FROM audit WHERE event = 'run.stopped' AND thread_id = ANY(%s)", (threads,)))
        failed = Counter(str(r[0]) for r in self.sql(
            "SELECT thread_id FROM audit WHERE event = 'run.failed' AND thread_id = ANY(%s)", (threads,)))
        status = dict(self.sql("SELECT thread_id, status FROM api_tickets WHERE thread_id = ANY(%s)", (threads,)))
        run_status = Counter(str(r[0]) for r in self.sql("SELECT status FROM runs WHERE thread_id = ANY(%s)", (threads,)))
        succeeded = Counter(str(r[0]) for r in self.sql(
            "SELECT queueing_lock FROM procrastinate_jobs WHERE status = 'succeeded' AND queueing_lock = ANY(%s)", (threads,)))
        ledger = self.sql("SELECT thread_id, action, args FROM ledger WHERE thread_id = ANY(%s)", (threads,))
        same_action = Counter((str(t), str(a), str(g)) for t, a, g in ledger)
        ticket_ids = [t.split("~", 1)[-1] for t in threads]
        effects = 0
        for table in ("notes", "outbox", "money", "escalations", "account_changes"):
            effects += int(self.sql(f"SELECT count(*) FROM {table} WHERE ticket_id = ANY(%s)", (ticket_ids,))[0][0])  # noqa: S608
        runs = dict(self.sql("SELECT thread_id, status FROM runs WHERE thread_id = ANY(%s)", (threads,)))
        lost = [t for t in threads if status.get(t) != "done" or runs.get(t) not in ("awaiting_review", "completed")]
        unstopped = [t for t in threads if stopped[t] == 0]
        trail = {t: [str(e) for e, in self.sql("SELECT event FROM audit WHERE thread_id = %s ORDER BY id", (t,))]
                 for t in (lost + unstopped)[:5]}
        duplicated = [t for t in threads if stopped[t] > 1 or succeeded[t] > 1]
        return {"tickets": len(threads), "lost": len(lost), "duplicated": len(duplicated),
                "runs_stopped": sum(stopped.values()), "runs_failed": sum(failed.values()),
                "jobs_succeeded": sum(succeeded.values()), "run_status": dict(run_status),
                "ledger_rows": len(ledger), "ledger_repeats": sum(c - 1 for c in same_action.values() if c > 1),
                "effect_rows": effects, "lost_ids": lost[:5], "duplicated_ids": duplicated[:5],
                "without_run_stopped": len(unstopped), "trails": trail,
                "job_starts_of_those": {t: [j for j, in self.sql("SELECT count(*) FROM procrastinate_events e JOIN "
                                                                  "procrastinate_jobs j ON j.id = e.job_id WHERE "
                                                                  "j.queueing_lock = %s AND e.type = 'started'", (t,))]
                                        for t in (lost + unstopped)[:5]}}

    # ---------------------------------------------------------- phases

    def cpu_now(self, procs: list[subprocess.Popen[bytes]]) -> dict[str, float]:
        """CPU seconds so far: workers, the API's process group."""
        return {"workers": sum(proc_cpu(p.pid) for p in procs),
                "api": sum(proc_cpu(pid) for pid in descendants(self.server.proc.pid))}

    def burst(self, label: str, procs: list[subprocess.Popen[bytes]], kill_half: bool = False,
              stalled_after: float = 0) -> dict[str, Any]:
        """Hold the warm workers, POST the burst, release them, drain; the numbers (and the kill, if asked)."""
        n = self.args.tickets
        for p in procs:
            os.kill(p.pid, signal.SIGSTOP)
        quiet = wait_quiet()
        pg0, cpu0 = self.pg.snapshot(), self.cpu_now(procs)
        busy0, own0, wall0 = machine_busy(), time.process_time(), time.time()
        threads, post_s, _ = self.post(label, n)
        released = time.time()
        for p in procs:
            os.kill(p.pid, signal.SIGCONT)
        killed: dict[str, Any] = {}
        if kill_half:
            self.wait_finished(threads, self.args.max_seconds, until=n // 2)
            victim = procs[0]
            killed_cpu = proc_cpu(victim.pid)
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(timeout=10)
            killed = {"at_done": self.finished(threads), "pid": victim.pid, "cpu": killed_cpu}
            time.sleep(stalled_after + 1)  # its heartbeat is stale now: a new worker's start retries its job
            before = self.registered_workers()
            replacement = self.spawn_worker(f"{label}-replacement", {"SUPPORT_STALLED_AFTER_S": str(stalled_after)})
            self.wait_workers([replacement], before)
            procs = [p for p in procs if p is not victim] + [replacement]
            killed["replacement_started_at_done"] = self.finished(threads)
        done = self.wait_finished(threads, self.args.max_seconds)
        end_wall = time.time()
        cpu1, pg1 = self.cpu_now(procs), self.pg.snapshot()
        busy, own = machine_busy() - busy0, time.process_time() - own0
        if kill_half:
            cpu1["workers"] += killed["cpu"]  # the killed worker's CPU up to its death
        jobs = self.jobs(threads)
        ended = [j["ended"] for j in jobs if j["ended"] is not None]
        last = max(ended) if ended else end_wall
        waits = [j["started"] - max(j["deferred"], released) for j in jobs if j["started"] is not None]
        pg = PgCpu.delta(pg0, pg1)
        pg_cpu = sum(v for k, v in pg.items())
        cpu = {"workers": cpu1["workers"] - cpu0["workers"], "api": cpu1["api"] - cpu0["api"], "postgres": pg_cpu}
        per_worker = Counter(j["worker"] for j in jobs)
        other = max(0.0, busy - sum(cpu.values()) - own)  # neither ours nor the bench client's: another load
        return {"quiet_before": quiet, "other_cpu_pct": other / max(time.time() - wall0, 1e-9) / CORES * 100,
                "client_cpu_ms_per_ticket": own / n * 1000,
                "label": label, "workers": len(procs) - (1 if kill_half else 0), "tickets": n, "done": done,
                "post_s": post_s, "drain_s": last - released, "tickets_per_s": done / max(last - released, 1e-9),
                "wait_p50_ms": percentile(waits, 50), "wait_p99_ms": percentile(waits, 99),
                "cpu_ms_per_ticket": {k: v / n * 1000 for k, v in cpu.items()},
                "cpu_ms_total_per_ticket": sum(cpu.values()) / n * 1000,
                "jobs_per_worker": sorted(per_worker.values(), reverse=True), "threads": threads, "killed": killed,
                "retried_jobs": sum(1 for j in jobs if j["starts"] > 1)}

    def scaling_phase(self, count: int) -> dict[str, Any]:
        """``count`` workers: start, warm, burst, stop."""
        before = self.registered_workers()
        procs = [self.spawn_worker(f"w{count}-{i}") for i in range(count)]
        try:
            self.wait_workers(procs, before)
            self.warm(f"w{count}", procs)
            result = self.burst(f"w{count}", procs)
        finally:
            self.stop_workers(procs)
        result["audit"] = self.audit(result["threads"])
        return result

    def kill_phase(self) -> dict[str, Any]:
        """2 workers, one SIGKILLed when half the burst is done, a replacement started; then the audit."""
        stalled = self.args.stalled_after
        before = self.registered_workers()
        procs = [self.spawn_worker(f"kill-{i}", {"SUPPORT_STALLED_AFTER_S": str(stalled)}) for i in range(2)]
        try:
            self.wait_workers(procs, before)
            self.warm("kill", procs)
            result = self.burst("kill", procs, kill_half=True, stalled_after=stalled)
        finally:
            self.stop_workers([p for p in self.workers if p.poll() is None and str(p.name).startswith("kill")])  # type: ignore[attr-defined]
        result["audit"] = self.audit(result["threads"])
        return result

    def netns_phase(self) -> dict[str, Any]:
        """One worker in each of two network namespaces, PostgreSQL through a forwarder on each veth."""
        from tests.integration.tcp_proxy import TcpProxy

        tag = self.run[:4]
        spaces = [(f"scale-{tag}-{k}", f"vs{tag}{k}h", f"vs{tag}{k}n", f"{NETNS_NET}.{k}.1", f"{NETNS_NET}.{k}.2")
                  for k in (1, 2)]
        proxies: list[TcpProxy] = []
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for ns, host_if, ns_if, host_ip, ns_ip in spaces:
                for cmd in (["ip", "netns", "add", ns], ["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if],
                            ["ip", "link", "set", ns_if, "netns", ns], ["ip", "addr", "add", f"{host_ip}/30", "dev", host_if],
                            ["ip", "link", "set", host_if, "up"],
                            ["ip", "netns", "exec", ns, "ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if],
                            ["ip", "netns", "exec", ns, "ip", "link", "set", ns_if, "up"],
                            ["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"]):
                    subprocess.run(cmd, check=True, capture_output=True, timeout=20)
                proxies.append(TcpProxy(target=("127.0.0.1", 5432), host=host_ip).start())
            # Each "host" gets its own state directory with a copy of the index: no shared local files.
            before = self.registered_workers()
            states = []
            for (ns, _, _, host_ip, _), proxy in zip(spaces, proxies, strict=True):
                state = self.tmp / f"host-{ns}"
                state.mkdir()
                shutil.copytree(index_dir(), state / "index", symlinks=False)
                states.append(state)
                url = self.base_url.replace("127.0.0.1:5432", f"{host_ip}:{proxy.port}")
                probe = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c",
                                        "import socket; socket.create_connection(('127.0.0.1', 5432), timeout=2)"],
                                       capture_output=True, timeout=20)
                if probe.returncode == 0:
                    raise RuntimeError(f"{ns} reaches the host's loopback PostgreSQL: not isolated")
                procs.append(self.spawn_worker(f"netns-{ns}", prefix=["ip", "netns", "exec", ns], database_url=url,
                                               state=state))
            self.wait_workers(procs, before)
            self.warm("netns", procs)
            threads, _, _ = self.post("netns", self.args.tickets)
            start = time.time()
            done = self.wait_finished(threads, self.args.max_seconds)
            elapsed = time.time() - start
            per_worker = sorted(Counter(j["worker"] for j in self.jobs(threads)).values(), reverse=True)
            self.stop_workers(procs)
            files = sorted(str(p.relative_to(s)) for s in states for p in s.rglob("*")
                           if p.is_file() and "index" not in p.relative_to(s).parts)
            return {"namespaces": [s[0] for s in spaces], "tickets": len(threads), "done": done,
                    "tickets_per_s": done / max(elapsed, 1e-9), "jobs_per_worker": per_worker,
                    "forwarded_connections": [p.accepted for p in proxies], "files_outside_index": files,
                    "audit": self.audit(threads)}
        finally:
            self.stop_workers([p for p in procs if p in self.workers])
            for proxy in proxies:
                proxy.stop()
            for ns, host_if, *_ in spaces:
                subprocess.run(["ip", "link", "del", host_if], capture_output=True, timeout=20)
                subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)

    def close(self) -> None:
        """Stop everything this run started."""
        self.stop_workers()
        self.server.stop()
        self.pg.close()


def netns_unavailable() -> str | None:
    """Why the namespace phase cannot run here, or None."""
    if os.geteuid() != 0:
        return "not root"
    if not shutil.which("ip"):
        return "no `ip` (iproute2)"
    probe = f"scale-probe-{uuid.uuid4().hex[:4]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=20)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=20)
    return None if made.returncode == 0 else f"`ip netns add` failed: {made.stderr.strip()}"


def main() -> None:
    """Run the phases, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=120, help="tickets per burst (bounded)")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts, comma-separated")
    parser.add_argument("--concurrency", type=int, default=1, help="jobs at once per worker process")
    parser.add_argument("--web-workers", type=int, default=1, help="uvicorn worker processes of the API")
    parser.add_argument("--post-concurrency", type=int, default=8, help="POSTs in flight during a burst")
    parser.add_argument("--max-seconds", type=float, default=300, help="time limit of each wait")
    parser.add_argument("--stalled-after", type=float, default=12,
                        help="SUPPORT_STALLED_AFTER_S of the kill phase (above procrastinate's 10 s heartbeat)")
    parser.add_argument("--database-url", default=os.environ.get("SUPPORT_TEST_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--no-floor", action="store_true", help="skip the compute floor")
    parser.add_argument("--no-kill", action="store_true", help="skip the kill-halfway burst")
    parser.add_argument("--no-netns", action="store_true", help="skip the network-namespace run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--chart", type=Path, help="also draw tickets/s against the floor and CPU per ticket (PNG)")
    args = parser.parse_args()
    counts = [int(c) for c in args.workers.split(",") if c.strip()]

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    pg = postgres_schema(args.database_url)
    if pg is None:
        raise SystemExit("PostgreSQL is needed")
    url, schema = pg
    results: dict[str, Any] = {"cores": CORES, "tickets": args.tickets, "concurrency": args.concurrency,
                               "web_workers": args.web_workers, "phases": []}
    bench: Bench | None = None
    tmp = tempfile.mkdtemp(prefix="scale-")
    failed = True
    if True:
        try:
            bench = Bench(args, Path(tmp), url, schema)
            texts = [f"{s.get('subject', '')}\n{s.get('body', '')}".strip()
                     for s in (bench.samples[i % len(bench.samples)] for i in range(args.tickets))]
            if not args.no_floor:
                print(f"floor: embed + classify + search + requests of {args.tickets} tickets in {CORES} processes …", flush=True)
                results["floor"] = compute_floor(texts, bench.state, CORES)
            bench.start()
            for count in counts:
                print(f"{count} worker(s): burst of {args.tickets} …", flush=True)
                results["phases"].append(bench.scaling_phase(count))
            if not args.no_kill:
                print(f"kill phase: 2 workers, kill -9 one at {args.tickets // 2} done …", flush=True)
                results["kill"] = bench.kill_phase()
            reason = "--no-netns" if args.no_netns else netns_unavailable()
            if reason:
                results["netns"] = {"skipped": reason}
            else:
                print("network namespaces: one worker in each of two …", flush=True)
                results["netns"] = bench.netns_phase()
            failed = False
        finally:
            if bench is not None:
                bench.close()
            import psycopg

            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            if failed:
                print(f"logs kept in {tmp}", file=sys.stderr)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    report(results)
    if args.chart and results["phases"]:
        chart(results, args.chart)
        print(f"chart: {args.chart}")
    if args.json:
        for ph in [*results["phases"], results.get("kill", {})]:
            ph.pop("threads", None)
        args.json.write_text(json.dumps(results, indent=2, default=str))


def chart(results: dict[str, Any], path: Path) -> None:
    """Two panels: tickets/s per worker count with the floor as a line; CPU ms a ticket split by process kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases, floor = results["phases"], results.get("floor")
    labels = [str(p["workers"]) for p in phases]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    bars = left.bar(labels, [p["tickets_per_s"] for p in phases], color="#4c72b0")
    left.bar_label(bars, fmt="%.1f")
    if floor:
        left.axhline(floor["ticket_floor_per_s"], color="#dd8452", linestyle="--",
                     label=f"ticket floor {floor['ticket_floor_per_s']:.0f}/s (one pass)")
        left.axhline(floor["tickets_per_s"], color="#c44e52", linestyle="--", label=f"model floor {floor['tickets_per_s']:.0f}/s")
        left.axhline(0.8 * floor["tickets_per_s"], color="#c44e52", linestyle=":", label="0.8 × model floor")
        left.legend(loc="center right", fontsize=8)
    left.set(xlabel="worker processes", ylabel="tickets/s", title=f"Burst of {results['tickets']} through the queue")
    bottom = [0.0] * len(phases)
    for part, colour in (("workers", "#4c72b0"), ("api", "#55a868"), ("postgres", "#8172b2")):
        values = [p["cpu_ms_per_ticket"][part] for p in phases]
        right.bar(labels, values, bottom=bottom, color=colour, label=part)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if floor:
        right.axhline(floor["cpu_ms_per_ticket"], color="#c44e52", linestyle="--", label="model floor")
        right.axhline(floor["ticket_floor_cpu_ms"], color="#dd8452", linestyle="--", label="ticket floor")
    right.set(xlabel="worker processes", ylabel="CPU ms per ticket", title="Where a ticket's CPU goes")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(results: dict[str, Any]) -> None:
    """Print the table and the kill / namespace results."""
    floor = results.get("floor")
    phases = results["phases"]
    print(f"\n{results['tickets']} tickets per burst, {results['cores']} cores, loopback, PostgreSQL; "
          f"{results['web_workers']} API web worker(s), worker concurrency {results['concurrency']}")
    if floor:
        ms = floor["ms_per_ticket"]
        print(f"floor ({floor['processes']} processes, batched): model floor {floor['tickets_per_s']:.1f} tickets/s at "
              f"{floor['cpu_ms_per_ticket']:.1f} CPU ms/ticket (embed {ms['embed']:.1f}, classify {ms['classify']:.2f}, "
              f"search {ms['search']:.1f}, requests {ms['requests']:.1f}); ticket floor (no requests pass) "
              f"{floor['ticket_floor_per_s']:.1f} tickets/s at {floor['ticket_floor_cpu_ms']:.1f} ms")
    print(f"{'workers':>7} | {'tickets/s':>9} | {'vs 1':>5} | {'wait p50/p99 ms':>15} | "
          f"{'CPU ms/ticket (wrk+api+pg)':>27} | {'floor t/s':>9} | {'ratio':>5} | {'vs ticket floor':>15} | "
          f"jobs per worker | lost/dup")
    one = next((p["tickets_per_s"] for p in phases if p["workers"] == 1), None)
    for p in phases:
        cpu = p["cpu_ms_per_ticket"]
        vs = f"{p['tickets_per_s'] / one:.2f}" if one else "—"
        ratio = f"{p['tickets_per_s'] / floor['tickets_per_s']:.2f}" if floor else "—"
        fl = f"{floor['tickets_per_s']:.1f}" if floor else "—"
        vs_ticket = f"{p['tickets_per_s'] / floor['ticket_floor_per_s']:.2f}" if floor else "—"
        cpu_s = f"{p['cpu_ms_total_per_ticket']:.0f} ({cpu['workers']:.0f}+{cpu['api']:.0f}+{cpu['postgres']:.0f})"
        print(f"{p['workers']:>7} | {p['tickets_per_s']:>9.2f} | {vs:>5} | "
              f"{p['wait_p50_ms']:>7.0f}/{p['wait_p99_ms']:<7.0f} | {cpu_s:>27} | {fl:>9} | {ratio:>5} | {vs_ticket:>15} | "
              f"{','.join(map(str, p['jobs_per_worker'])):<15} | {p['audit']['lost']}/{p['audit']['duplicated']}")
    for p in phases:
        print(f"  {p['workers']} worker(s): {p['done']}/{p['tickets']} done, POST burst {p['post_s']:.1f} s, "
              f"drain {p['drain_s']:.1f} s, runs {p['audit']['run_status']}, bench client {p['client_cpu_ms_per_ticket']:.0f} "
              f"CPU ms/ticket (not counted), other load on the machine {p['other_cpu_pct']:.0f}% "
              f"(idle before: {100 - p['quiet_before'] * 100:.0f}%)")
    if kill := results.get("kill"):
        a = kill["audit"]
        print(f"kill -9 halfway (2 workers, one killed at {kill['killed']['at_done']}/{kill['tickets']} done, replacement "
              f"started at {kill['killed']['replacement_started_at_done']} done): {kill['done']}/{kill['tickets']} done in "
              f"{kill['drain_s']:.1f} s, jobs retried after the kill {kill['retried_jobs']}; lost {a['lost']}, duplicated "
              f"{a['duplicated']} (runs stopped {a['runs_stopped']}, jobs succeeded {a['jobs_succeeded']}, runs failed "
              f"{a['runs_failed']}; ledger rows {a['ledger_rows']}, repeated {a['ledger_repeats']}; effect rows "
              f"{a['effect_rows']}; runs {a['run_status']})")
        if a["without_run_stopped"] or a["lost"]:
            print(f"  tickets without a run.stopped event: {a['without_run_stopped']}; their audit trails {a['trails']}, "
                  f"job starts {a['job_starts_of_those']}")
    netns = results.get("netns", {})
    if "skipped" in netns:
        print(f"network namespaces: skipped ({netns['skipped']})")
    elif netns:
        a = netns["audit"]
        print(f"network namespaces {', '.join(netns['namespaces'])}: {netns['done']}/{netns['tickets']} done at "
              f"{netns['tickets_per_s']:.1f} tickets/s, jobs per worker {netns['jobs_per_worker']}, PostgreSQL connections "
              f"forwarded {netns['forwarded_connections']}; lost {a['lost']}, duplicated {a['duplicated']}; files each "
              f"worker wrote in its own state dir besides its index copy: {netns['files_outside_index'] or 'none'}")


if __name__ == "__main__":
    main()
