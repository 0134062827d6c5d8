"""Apply actions: the one place with side effects, each action recorded once in the ledger.

An action that raises does not stop the others: its failure is counted in the outbox (and
retried by the service a bounded number of times), and the run reports it instead of
pretending to be complete.
"""

from __future__ import annotations

from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import State
from tools import outbox
from tools.engine import Engine
from tools.faults import crash_point


def apply_actions(state: State, runtime: Runtime[Context], engine: Engine) -> dict[str, Any]:
    """Run approved (or automatic) actions through the ledger; a repeat changes nothing."""
    thread_id = str(get_config()["configurable"].get("thread_id", state["ticket"]["id"]))
    if "approved_actions" in state:
        actions = state["approved_actions"]
    else:  # nothing needed review
        actions = [a for a in state["proposed_actions"] if not a["needs_approval"]]
    ticket = dict(state["ticket"])
    crash_point("before_apply")
    applied, failed = [], []
    for action in actions:
        try:
            applied.append(engine.runner.apply(thread_id, ticket, action))
        except Exception as exc:  # noqa: BLE001 - recorded with its reason and retried; the other actions still run
            error = f"{type(exc).__name__}: {exc}"[:300]
            failed.append({"action_id": action["id"], "name": action["name"], "error": error,
                           "status": outbox.record_failure(engine.store, thread_id, action["id"], error)})
        crash_point("mid_apply")
    status = str(state["status"]) if state.get("status") in ("rejected", "expired") else ("completed" if not failed else "actions_failed")
    return {"applied": applied, "failed_actions": failed, "status": status}
