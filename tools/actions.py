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

from sqlalchemy import select

from tools import outbox
from tools import schema as t
from tools.helpdesk import EmbeddedHelpdesk
from tools.pii import redact
from tools.schema import thread_id_for
from tools.store import Store, Tx, now

Executor = Callable[[Tx, dict[str, Any], dict[str, Any]], dict[str, Any]]


class ActionRunner:
    """Executes proposed actions against the embedded tools, once each."""

    def __init__(self, store: Store, workspace: str = "default") -> None:
        """Bind the executors to the store and to ``workspace``'s rows."""
        self.store = store
        self.workspace = workspace
        self.helpdesk = EmbeddedHelpdesk(store, workspace)
        self.executors: dict[str, Executor] = {
            "add_internal_note": lambda tx, tk, a: {"note_id": self.helpdesk.add_note(tx, tk["key"], a["body"])},
            "add_internal_tag": lambda tx, tk, a: {"added": self.helpdesk.add_tags(tx, tk["key"], a["tags"], "internal")},
            "set_tags": lambda tx, tk, a: {"added": self.helpdesk.add_tags(tx, tk["key"], a["tags"], "public")},
            "link_duplicate": self._link_duplicate,
            "set_priority": lambda tx, tk, a: self._update(tx, tk, priority=a["priority"]),
            "assign_owner": lambda tx, tk, a: self._update(tx, tk, owner=a["owner"]),
            "close_ticket": lambda tx, tk, a: self._update(tx, tk, status="closed"),
            "send_reply": self._send_reply,
            "issue_refund": lambda tx, tk, a: self._money(tx, tk, a, "refund"),
            "issue_credit": lambda tx, tk, a: self._money(tx, tk, a, "credit"),
            "offer_compensation": lambda tx, tk, a: self._money(tx, tk, a, "compensation"),
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
            row = tx.execute(select(t.ledger.c.result, t.ledger.c.applied_at)
                             .where(t.ledger.c.thread_id == thread_id, t.ledger.c.action_id == action["id"])).mappings().first()
            if row is not None:
                outbox.mark_done(tx, thread_id, action["id"])
                return {"action_id": action["id"], "name": action["name"], "status": "already_applied",
                        "applied_at": row["applied_at"], "result": json.loads(row["result"])}
            # The embedded tools key rows by the ticket, qualified by its workspace (ticket ids are per workspace).
            result = executor(tx, {**ticket, "key": thread_id_for(self.workspace, str(ticket["id"]))}, action["args"])
            applied_at = now()
            tx.execute(t.ledger.insert().values(
                thread_id=thread_id, action_id=action["id"], action=action["name"], args=json.dumps(action["args"]),
                tier=action["tier"], result=json.dumps(result), applied_at=applied_at))
            outbox.mark_done(tx, thread_id, action["id"])  # the approved action is done exactly when its ledger row exists
        return {"action_id": action["id"], "name": action["name"], "status": "applied", "applied_at": applied_at, "result": result}

    def ledger(self, thread_id: str | None = None) -> list[dict[str, object]]:
        """Ledger rows, oldest first, for one thread or all."""
        query = select(t.ledger).order_by(t.ledger.c.applied_at, t.ledger.c.action_id)
        if thread_id is not None:
            query = query.where(t.ledger.c.thread_id == thread_id)
        return self.store.query(query)

    def _update(self, tx: Tx, ticket: dict[str, Any], **fields: str) -> dict[str, Any]:
        self.helpdesk.update(tx, ticket["id"], **fields)
        return dict(fields)

    def _link_duplicate(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        self.helpdesk.update(tx, ticket["id"], duplicate_of=args["duplicate_of"])
        return {"duplicate_of": args["duplicate_of"]}

    def _send_reply(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        message_id = self.helpdesk.send_reply(tx, ticket["key"], args.get("to", ""), args.get("subject", ""), args["body"])
        return {"outbox_id": message_id}

    def _money(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any], kind: str) -> dict[str, Any]:
        return {f"{kind}_id": _insert(tx, t.money, ticket_id=ticket["key"], customer_id=ticket.get("customer_id"),
                                      kind=kind, invoice=args.get("invoice"), amount=str(args.get("amount", "")),
                                      reason=args.get("reason", ""))}

    def _escalate(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        return {"escalation_id": _insert(tx, t.escalations, ticket_id=ticket["key"], team=args["team"],
                                         summary=args.get("summary", ""), needs=json.dumps(args.get("needs", [])))}

    def _notify(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        # Automatic internal notifications never carry card data or IBANs, whatever the store keeps (SUPPORT_STORE_PII).
        return {"notification_id": _insert(tx, t.notifications, team=args["team"], message=redact(str(args["message"])).text)}

    def _knowledge_gap(self, tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        return {"gap_id": _insert(tx, t.knowledge_gaps, workspace=self.workspace, ticket_id=ticket["id"],
                                  category=args.get("category"), query=args.get("query", ""),
                                  top_score=float(args.get("top_score", 0)))}

    def _account_change(self, kind: str) -> Executor:
        def run(tx: Tx, ticket: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
            return {"change_id": _insert(tx, t.account_changes, ticket_id=ticket["key"],
                                         customer_id=ticket.get("customer_id"), kind=kind, detail=json.dumps(args))}

        return run


def _insert(tx: Tx, table: Any, **values: Any) -> int:
    """Insert one row stamped ``created_at``; returns its generated id."""
    return int(tx.execute(table.insert().values(**values, created_at=now()).returning(table.c.id)).scalar_one())
