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

from tools.store import AnyStore, Tx, now

MAX_ATTEMPTS = 3


def write(tx: Tx, thread_id: str, interrupt_id: str, actions: list[dict[str, Any]]) -> None:
    """Record ``actions`` as pending (inside the decision's claim transaction)."""
    for action in actions:
        tx.execute(
            "INSERT INTO action_outbox (thread_id, action_id, interrupt_id, action, args, tier, status, attempts, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT DO NOTHING",
            (thread_id, action["id"], interrupt_id, action["name"], json.dumps(action["args"]), action["tier"], now(), now()),
        )


def mark_done(tx: Tx, thread_id: str, action_id: str) -> None:
    """Mark an action done (in the transaction that writes its ledger row)."""
    tx.execute("UPDATE action_outbox SET status = 'done', updated_at = ? WHERE thread_id = ? AND action_id = ?",
               (now(), thread_id, action_id))


def record_failure(store: AnyStore, thread_id: str, action_id: str, error: str) -> str:
    """Count a failed attempt; returns the row's status afterwards (``pending`` or ``failed``)."""
    with store.transaction(lock=f"outbox:{thread_id}") as tx:
        row = tx.execute("SELECT attempts FROM action_outbox WHERE thread_id = ? AND action_id = ?",
                         (thread_id, action_id)).fetchone()
        if row is None:
            return "untracked"
        attempts = int(row["attempts"]) + 1
        status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        tx.execute("UPDATE action_outbox SET attempts = ?, status = ?, last_error = ?, updated_at = ? "
                   "WHERE thread_id = ? AND action_id = ?", (attempts, status, error[:500], now(), thread_id, action_id))
    return status


def pending(store: AnyStore, thread_id: str | None = None) -> list[dict[str, Any]]:
    """Pending rows (of one thread, or all), as actions ready to apply."""
    sql = "SELECT thread_id, action_id, action, args, tier FROM action_outbox WHERE status = 'pending'"
    params: tuple[object, ...] = ()
    if thread_id is not None:
        sql, params = sql + " AND thread_id = ?", (thread_id,)
    return [{"thread_id": r["thread_id"], "id": r["action_id"], "name": r["action"], "args": json.loads(str(r["args"])),
             "tier": r["tier"]} for r in store.query(sql + " ORDER BY created_at, action_id", params)]


def rows(store: AnyStore, thread_id: str) -> list[dict[str, Any]]:
    """Every outbox row of a thread (what the reviewer approved and where each action stands)."""
    return store.query("SELECT action_id, action, status, attempts, last_error, updated_at FROM action_outbox "
                       "WHERE thread_id = ? ORDER BY created_at, action_id", (thread_id,))
