"""Database bytes per ticket on PostgreSQL: after its packet (review pending), after a decision, after retention.

Runs the service in-process on a fresh PostgreSQL schema: submits ``--tickets`` sample tickets, accepts
every review, then archives the finished runs (retention with 0 days). After each step it prints the
schema's total size (tables, indexes, TOAST) per ticket, split into checkpoints (LangGraph's tables) and
the rest (registry, runs, ledger, audit, traces). These are the figures behind the README's storage
estimate. Bounded: ``--tickets`` (default 60); loopback only.

    python benchmarks/storage.py --tickets 60
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.load import index_dir, postgres_schema  # noqa: E402


def sizes(base: str, schema: str) -> dict[str, int]:
    """Bytes of the schema's checkpoint tables and of everything else in it."""
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {schema}")
        for (table,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall():
            conn.execute(f'VACUUM FULL "{table}"')  # live rows only: deleted ones would still count until vacuumed
        rows = conn.execute("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
                            "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'", (schema,)).fetchall()
    out = {"checkpoints": 0, "other": 0}
    for name, size in rows:
        out["checkpoints" if name.startswith("checkpoint") else "other"] += int(size)
    out.update({f"table:{name}": int(size) for name, size in rows})
    return out


def main() -> None:
    """Parse arguments, run the three steps, print bytes per ticket."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=60)
    parser.add_argument("--database-url", default=os.environ.get("SUPPORT_TEST_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    pg = postgres_schema(args.database_url)
    if pg is None:
        sys.exit(1)
    url, schema = pg
    from api.intake import InvalidDecision
    from api.retention import prune
    from api.service import SupportDesk
    from tools.settings import Settings

    samples = [json.loads(line) for line in (REPO / "data" / "sample_tickets.jsonl").read_text().splitlines() if line.strip()]
    steps: list[tuple[str, dict[str, int]]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="storage-") as tmp:
            (Path(tmp) / "index").symlink_to(index_dir(), target_is_directory=True)
            desk = SupportDesk(Settings(state_dir=Path(tmp), database_url=url, recover_on_start=False))
            try:
                views: list[dict[str, Any]] = []
                for i in range(args.tickets):
                    views.append(desk.submit({**samples[i % len(samples)], "id": f"st-{uuid.uuid4().hex[:8]}"}))
                    print(f"\rsubmitted {i + 1}/{args.tickets}", end="", file=sys.stderr, flush=True)
                steps.append(("packet, review pending", sizes(args.database_url, schema)))
                for n, view in enumerate(views, 1):
                    for interrupt in desk.view(view["thread_id"])["interrupts"]:
                        try:
                            desk.decide(view["thread_id"], {"type": "accept"}, interrupt["id"])
                        except InvalidDecision:  # an incomplete action (no amount): a reviewer would reject or edit
                            desk.decide(view["thread_id"], {"type": "ignore"}, interrupt["id"])
                    print(f"\raccepted {n}/{len(views)}  ", end="", file=sys.stderr, flush=True)
                steps.append(("after the decision", sizes(args.database_url, schema)))
                time.sleep(1)
                report = prune(desk, 0)
                steps.append((f"archived ({report['pruned']} runs)", sizes(args.database_url, schema)))
            finally:
                desk.close()
    finally:
        import psycopg

        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    print(f"\n{args.tickets} tickets on PostgreSQL (pg_total_relation_size; tables, indexes, TOAST)")
    print(f"{'step':<26}{'checkpoints KB/t':>18}{'other KB/t':>12}{'total KB/t':>12}")
    for name, size in steps:
        ck, other = size["checkpoints"] / args.tickets / 1024, size["other"] / args.tickets / 1024
        print(f"{name:<26}{ck:>18.1f}{other:>12.1f}{ck + other:>12.1f}")
    largest = sorted(((v, k[6:]) for k, v in steps[1][1].items() if k.startswith("table:")), reverse=True)[:6]
    print("largest after the decision (KB/t): " + ", ".join(f"{name} {v / args.tickets / 1024:.1f}" for v, name in largest))


if __name__ == "__main__":
    main()
