"""Apply actions: the one place with side effects, each action recorded once in the ledger."""

from __future__ import annotations

from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import State
from tools.engine import Engine


def apply_actions(state: State, runtime: Runtime[Context], engine: Engine) -> dict[str, Any]:
    """Run approved (or automatic) actions through the ledger; a repeat changes nothing."""
    thread_id = str(get_config()["configurable"].get("thread_id", state["ticket"]["id"]))
    if "approved_actions" in state:
        actions = state["approved_actions"]
    else:  # nothing needed review
        actions = [a for a in state["proposed_actions"] if not a["needs_approval"]]
    ticket = dict(state["ticket"])
    applied = [engine.runner.apply(thread_id, ticket, action) for action in actions]
    status = "rejected" if state.get("status") == "rejected" else "completed"
    return {"applied": applied, "status": status}
