"""The action outbox: approved actions written down before they are attempted, so a crash loses none.

When a reviewer's decision is claimed, the approved action set (final arguments included) is
inserted here in the same transaction as the claim, one ``pending`` row per action. Applying
an action marks its row ``done`` in the transaction that writes its ledger entry
(:meth:`tools.actions.ActionRunner.apply`), so "applied" and "done" cannot disagree. An action
that raises is retried a bounded number of times (:data:`MAX_ATTEMPTS`), then marked
``failed`` with its reason; recovery finishes every ``pending`` row whatever node the
checkpoint stopped at.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update

from tools import schema as t
from tools.store import Store, Tx, insert_for, now

MAX_ATTEMPTS = 3

c = t.action_outbox.c


def write(tx: Tx, thread_id: str, interrupt_id: str, actions: list[dict[str, Any]]) -> None:
    """Record ``actions`` as pending (inside the decision's claim transaction)."""
    for action in actions:
        row = dict(thread_id=thread_id, action_id=action["id"], interrupt_id=interrupt_id, action=action["name"],
                   args=json.dumps(action["args"]), tier=action["tier"], status="pending", attempts=0,
                   created_at=now(), updated_at=now())
        tx.execute(insert_for(tx, t.action_outbox).values(**row).on_conflict_do_nothing())


def mark_done(tx: Tx, thread_id: str, action_id: str) -> None:
    """Mark an action done (in the transaction that writes its ledger row)."""
    tx.execute(update(t.action_outbox).where(c.thread_id == thread_id, c.action_id == action_id)
               .values(status="done", updated_at=now()))


def record_failure(store: Store, thread_id: str, action_id: str, error: str) -> str:
    """Count a failed attempt; returns the row's status afterwards (``pending`` or ``failed``)."""
    with store.transaction(lock=f"outbox:{thread_id}") as tx:
        key = (c.thread_id == thread_id) & (c.action_id == action_id)
        before = tx.execute(select(c.attempts).where(key)).scalar()
        if before is None:
            return "untracked"
        attempts = int(before) + 1
        status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        tx.execute(update(t.action_outbox).where(key)
                   .values(attempts=attempts, status=status, last_error=error[:500], updated_at=now()))
    return status


def pending(store: Store, thread_id: str | None = None, before: str | None = None) -> list[dict[str, Any]]:
    """Pending rows (of one thread, or all; last touched before ``before`` if given), as actions ready to apply."""
    query = select(c.thread_id, c.action_id, c.action, c.args, c.tier).where(c.status == "pending")
    if thread_id is not None:
        query = query.where(c.thread_id == thread_id)
    if before is not None:
        query = query.where(c.updated_at < before)
    return [{"thread_id": r["thread_id"], "id": r["action_id"], "name": r["action"], "args": json.loads(str(r["args"])),
             "tier": r["tier"]} for r in store.query(query.order_by(c.created_at, c.action_id))]


def rows(store: Store, thread_id: str) -> list[dict[str, Any]]:
    """Every outbox row of a thread (what the reviewer approved and where each action stands)."""
    return store.query(select(c.action_id, c.action, c.status, c.attempts, c.last_error, c.updated_at)
                       .where(c.thread_id == thread_id).order_by(c.created_at, c.action_id))
