"""Retention: drop the checkpoints of finished runs, keep what people read (packet, decisions, audit, ledger).

A finished run (completed or rejected, nothing pending in its outbox, last updated before the
cutoff) is archived: its final view — ticket, packet, decisions, status — goes to
``run_archive`` as JSON, its node traces are deleted, then the checkpointer deletes the thread. ``SupportDesk.view`` falls
back to the archive, so the API, the CLI and the audit trail keep working; the ledger, outbox
and audit rows are never touched. Run it with ``support-agent retention --older-than DAYS`` or
at API start with ``SUPPORT_RETENTION_DAYS``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, exists, select

from tools import schema as t
from tools.store import insert_for, now

if TYPE_CHECKING:
    from api.service import SupportDesk

KEPT = ("thread_id", "workspace", "ticket", "status", "packet", "decisions")


def checkpoint_bytes(desk: SupportDesk, thread_id: str) -> int:
    """Serialized size of every checkpoint and pending write of a thread (what retention frees)."""
    serde, total = desk.checkpointer.serde, 0
    for item in desk.checkpointer.list(desk.config(thread_id)):
        total += len(serde.dumps_typed(item.checkpoint)[1]) + len(json.dumps(item.metadata, default=str))
        total += sum(len(serde.dumps_typed(value)[1]) for _, _, value in item.pending_writes or [])
    return total


def archived(desk: SupportDesk, thread_id: str) -> dict[str, Any] | None:
    """The archived view of a pruned run, or None."""
    rows = desk.store.query(select(t.run_archive.c.view).where(t.run_archive.c.thread_id == thread_id))
    return json.loads(str(rows[0]["view"])) if rows else None


def prune(desk: SupportDesk, older_than_days: float) -> dict[str, Any]:
    """Archive and drop the checkpoints of finished runs last updated more than ``older_than_days`` ago."""
    cutoff = (datetime.now(UTC) - timedelta(days=older_than_days)).isoformat(timespec="seconds")
    r, a, o = t.runs.c, t.run_archive.c, t.action_outbox.c
    rows = desk.store.query(
        select(r.thread_id).where(
            r.status.in_(("completed", "rejected", "expired")), r.updated_at <= cutoff,
            ~exists().where(a.thread_id == r.thread_id),
            ~exists().where(o.thread_id == r.thread_id, o.status == "pending")))
    before = after = 0
    pruned = []
    for row in rows:
        thread_id = str(row["thread_id"])
        view = desk.view(thread_id)
        if view["interrupts"]:
            continue
        kept = json.dumps({k: view.get(k) for k in KEPT}, default=str)
        size = checkpoint_bytes(desk, thread_id)
        with desk.store.transaction(lock=f"retention:{thread_id}") as tx:
            tx.execute(insert_for(tx, t.run_archive).values(thread_id=thread_id, workspace=view["workspace"], view=kept,
                                                            archived_at=now()).on_conflict_do_nothing())
            # Node traces are for debugging recent runs (~14 KB a ticket); the archive keeps what an audit needs.
            tx.execute(delete(t.traces).where(t.traces.c.thread_id == thread_id))
        desk.checkpointer.delete_thread(thread_id)  # only after the archive row is committed
        before, after = before + size, after + len(kept.encode())
        pruned.append(thread_id)
    count = max(len(pruned), 1)
    return {"pruned": len(pruned), "threads": pruned, "bytes_before": before, "bytes_after": after,
            "bytes_per_ticket_before": round(before / count), "bytes_per_ticket_after": round(after / count), "cutoff": cutoff}
