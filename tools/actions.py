"""Apply approved actions exactly once: each effect commits together with its ledger row.

The ledger is keyed by ``(thread_id, action_id)``. Applying takes SQLite's write lock
(``BEGIN IMMEDIATE``; on PostgreSQL an advisory lock on the thread), checks the ledger, runs
the embedded tool on the same connection and writes the ledger row in one transaction: a
retried or repeated resume finds the row and changes nothing. An external adapter (a real payment API) would pass the same key as its
idempotency key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tools import outbox
from tools.helpdesk import EmbeddedHelpdesk
from tools.store import AnyStore, Tx, now

Executor = Callable[[Tx, dict[str, Any], dict[str, Any]], dict[str, Any]]


class ActionRunner:
    """Executes proposed actions against the embedded tools, once each."""

    def __init__(self, store: AnyStore, workspace: str = "default") -> None:
        """Bind the executors to the store and to ``workspace``'s rows."""
        self.store = store
        self.workspace = workspace
        self.helpdesk = EmbeddedHelpdesk(store, workspace)
        self.executors: dict[str, Executor] = {
            "add_internal_note": lambda tx, t, a: {"note_id": self.helpdesk.add_note(tx, t["id"], a["body"])},
            "add_internal_tag": lambda tx, t, a: {"added": self.helpdesk.add_tags(tx, t["id"], a["tags"], "internal")},
            "set_tags": lambda tx, t, a: {"added": self.helpdesk.add_tags(tx, t["id"], a["tags"], "public")},
            "link_duplicate": self._link_duplicate,
            "set_priority": lambda tx, t, a: self._update(tx, t, priority=a["priority"]),
            "assign_owner": lambda tx, t, a: self._update(tx, t, owner=a["owner"]),
            "close_ticket": lambda tx, t, a: self._update(tx, t, status="closed"),
            "send_reply": self._send_reply,
            "issue_refund": lambda tx, t, a: self._money(tx, t, a, "refund"),
            "issue_credit": lambda tx, t, a: self._money(tx, t, a, "credit"),
            "offer_compensation": lambda tx, t, a: self._money(tx, t, a, "compensation"),
            "create_escalation": self._escalate,
            "notify_team": self._notify,
            "log_knowledge_gap": self._knowledge_gap,
        }
        for kind in ("legal_statement", "security_change", "change_permissions", "close_account", "customer_promise"):
            self.executors[kind] = self._account_change(kind)

    def apply(self, thread_id: str, ticket: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
        """Apply one action unless the ledger already has it; returns the ledger entry and whether it ran now."""
        executor = self.executors.get(action["name"])
        if executor is None:
            raise ValueError(f"no executor for action '{action['name']}'")
        with self.store.transaction(lock=f"ledger:{thread_id}") as tx:
            row = tx.execute(
                "SELECT result, applied_at FROM ledger WHERE thread_id = ? AND action_id = ?", (thread_id, action["id"])
            ).fetchone()
            if row is not None:
                outbox.mark_done(tx, thread_id, action["id"])
                return {"action_id": action["id"], "name": action["name"], "status": "already_applied",
                        "applied_at": row["applied_at"], "result": json.loads(row["result"])}
            result = executor(tx, ticket, action["args"])
            applied_at = now()
            tx.execute(
                "INSERT INTO ledger (thread_id, action_id, action, args, tier, result, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (thread_id, action["id"], action["name"], json.dumps(action["args"]), action["tier"], json.dumps(result), applied_at),
            )
            outbox.mark_done(tx, thread_id, action["id"])  # the approved action is done exactly when its ledger row exists
        return {"action_id": action["id"], "name": action["name"], "status": "applied", "applied_at": applied_at, "result": result}

    def ledger(self, thread_id: str | None = None) -> list[dict[str, object]]:
        """Ledger rows, oldest first, for one thread or all."""
        if thread_id is None:
            return self.store.query("SELECT * FROM ledger ORDER BY applied_at, action_id")
        return self.store.query("SELECT * FROM ledger WHERE thread_id = ? ORDER BY applied_at, action_id", (thread_id,))

    def _update(self, tx: Tx, ticket: dict[str, Any], **fields: str) -> dict[str, Any]:
        self.helpdesk.update(tx, ticket["id"], **fields)
        return dict(fields)

    def _link_duplicate(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        self.helpdesk.update(tx, ticket["id"], duplicate_of=args["duplicate_of"])
        return {"duplicate_of": args["duplicate_of"]}

    def _send_reply(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        message_id = self.helpdesk.send_reply(tx, ticket["id"], args.get("to", ""), args.get("subject", ""), args["body"])
        return {"outbox_id": message_id}

    def _money(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any], kind: str) -> dict[str, Any]:
        cur = tx.execute(
            "INSERT INTO money (ticket_id, customer_id, kind, invoice, amount, reason, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (ticket["id"], ticket.get("customer_id"), kind, args.get("invoice"), str(args.get("amount", "")),
             args.get("reason", ""), now()),
        )
        return {f"{kind}_id": cur.fetchone()["id"]}

    def _escalate(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        cur = tx.execute(
            "INSERT INTO escalations (ticket_id, team, summary, needs, created_at) VALUES (?, ?, ?, ?, ?) "
            "RETURNING id",
            (ticket["id"], args["team"], args.get("summary", ""), json.dumps(args.get("needs", [])), now()),
        )
        return {"escalation_id": cur.fetchone()["id"]}

    def _notify(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        cur = tx.execute("INSERT INTO notifications (team, message, created_at) VALUES (?, ?, ?) RETURNING id",
                         (args["team"], args["message"], now()))
        return {"notification_id": cur.fetchone()["id"]}

    def _knowledge_gap(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        cur = tx.execute(
            "INSERT INTO knowledge_gaps (workspace, ticket_id, category, query, top_score, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (self.workspace, ticket["id"], args.get("category"), args.get("query", ""), float(args.get("top_score", 0)), now()),
        )
        return {"gap_id": cur.fetchone()["id"]}

    def _account_change(self, kind: str) -> Executor:
        def run(tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
            cur = tx.execute(
                "INSERT INTO account_changes (ticket_id, customer_id, kind, detail, created_at) VALUES (?, ?, ?, ?, ?) "
                "RETURNING id",
                (ticket["id"], ticket.get("customer_id"), kind, json.dumps(args), now()),
            )
            return {"change_id": cur.fetchone()["id"]}

        return run
