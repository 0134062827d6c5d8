"""The store itself: pooled connections, per-workspace ticket ids, notifications without card data (SQLite file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, select

from tools import schema as t
from tools.actions import ActionRunner
from tools.schema import thread_id_for
from tools.store import Store

pytestmark = pytest.mark.integration


def test_connections_live_across_transactions(tmp_path: Path) -> None:
    store = Store.sqlite(tmp_path / "support.db")
    opened: list[object] = []
    event.listen(store.engine, "connect", lambda conn, record: opened.append(conn))
    for n in range(50):
        with store.transaction() as tx:
            tx.execute(t.notifications.insert().values(team="ops", message=f"m{n}", created_at="x"))
        store.query(select(t.notifications.c.id))
    assert len(store.query(select(t.notifications))) == 50
    assert len(opened) <= 1  # one pooled connection served 100 transactions (none was opened per transaction)
    store.close()


def test_two_workspaces_may_use_the_same_ticket_id(tmp_path: Path) -> None:
    store = Store.sqlite(tmp_path / "support.db")
    ticket = {"id": "T-100", "subject": "Refund", "body": "Please refund", "customer_id": "cus_001"}
    for workspace in ("acme", "globex"):
        runner = ActionRunner(store, workspace)
        runner.helpdesk.upsert_ticket(ticket, thread_id_for(workspace, "T-100"))
        runner.apply(thread_id_for(workspace, "T-100"), ticket,
                     {"id": "a1-add_internal_tag", "name": "add_internal_tag", "args": {"tags": ["refund"]}, "tier": "automatic"})
        runner.apply(thread_id_for(workspace, "T-100"), ticket,
                     {"id": "a2-set_priority", "name": "set_priority", "args": {"priority": "high" if workspace == "acme" else "low"},
                      "tier": "automatic"})
    tickets = store.query(select(t.tickets.c.workspace, t.tickets.c.priority).order_by(t.tickets.c.workspace))
    assert tickets == [{"workspace": "acme", "priority": "high"}, {"workspace": "globex", "priority": "low"}]
    assert sorted(r["ticket_id"] for r in store.query(select(t.tags))) == ["acme~T-100", "globex~T-100"]
    assert len(store.query(select(t.ledger))) == 4  # each workspace's actions applied once, none blocked by the other
    store.close()


def test_automatic_notifications_never_carry_card_numbers(tmp_path: Path) -> None:
    store = Store.sqlite(tmp_path / "support.db")
    runner = ActionRunner(store)
    message = "Customer cus_001 pasted card 4111 1111 1111 1111 and IBAN DE89 3704 0044 0532 0130 00 in T-5"
    runner.apply("T-5", {"id": "T-5", "subject": "s", "body": "b"},
                 {"id": "a1-notify_team", "name": "notify_team", "args": {"team": "billing", "message": message}, "tier": "automatic"})
    stored = str(store.query(select(t.notifications.c.message))[0]["message"])
    compact = stored.replace(" ", "")
    assert "4111111111111111" not in compact and "DE89370400440532013000" not in compact
    assert "1111" in stored and "T-5" in stored  # what a teammate needs is still there
    store.close()


def test_periodic_recovery_finishes_only_what_was_left_behind(desk: object, new_id: object) -> None:
    import json
    from datetime import UTC, datetime, timedelta
    from typing import Any

    from api.app import recover_periodically
    from tests.conftest import refund_ticket
    from tools.schema import decisions
    from tools.settings import Settings

    d: Any = desk
    old, fresh = d.submit(refund_ticket(new_id("P"))), d.submit(refund_ticket(new_id("P")))  # type: ignore[operator]
    long_ago = (datetime.now(UTC) - timedelta(minutes=10)).isoformat(timespec="seconds")
    with d.store.transaction() as tx:  # two claims whose process died: one 10 minutes ago, one just now
        for view, at in ((old, long_ago), (fresh, datetime.now(UTC).isoformat(timespec="seconds"))):
            tx.execute(decisions.insert().values(thread_id=view["thread_id"], interrupt_id=view["interrupts"][0]["id"],
                                                 decision="accept", reviewer="gone", decided_at=at,
                                                 payload=json.dumps({"type": "accept", "args": None, "reviewer": "gone"})))
    finished = recover_periodically(d, Settings(state_dir=d.settings.state_dir, recover_after_s=300))
    assert old["thread_id"] in finished and fresh["thread_id"] not in finished  # a live sibling may own the fresh one
    done = d.view(old["thread_id"])
    assert done["status"] == "completed" and [r["action"] for r in done["ledger"]].count("issue_refund") == 1
    assert d.view(fresh["thread_id"])["status"] == "awaiting_review"
