"""Wiring of the support workflow (no logic here).

START → triage → (gather_context ∥ retrieve) → draft → assess_risk → review ⏸ → apply_actions → END.
Tickets whose actions are all bounded-autonomy or draft-only skip review.

Nodes get their workspace's engine from the run: :func:`make_builder` binds them to an
engine source (a function from workspace id to engine), and each node asks it for the
workspace of the run (``state["workspace"]``, set once from ``Context.workspace``). The
service compiles its own builder over its :class:`tools.workspaces.Workspaces`; ``graph``
below is for LangGraph Studio and serves the workspaces of the environment's settings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from graph.context import Context, with_settings
from graph.nodes.apply_actions import apply_actions
from graph.nodes.assess_risk import assess_risk
from graph.nodes.draft import draft
from graph.nodes.gather_context import gather_context
from graph.nodes.retrieve import retrieve
from graph.nodes.review import review
from graph.nodes.triage import triage
from graph.state import InputState, OutputState, State
from tools.engine import Engine

EngineSource = Callable[[str], Engine]
Node = Callable[[State, Runtime[Context], Engine], dict[str, Any]]


def route_after_risk(state: State) -> Literal["review", "apply_actions"]:
    """Review when any proposed action needs approval."""
    return "review" if any(a["needs_approval"] for a in state["proposed_actions"]) else "apply_actions"


def run_workspace(state: State, runtime: Runtime[Context]) -> str:
    """The run's workspace: fixed in the state at the first step, else the run's context."""
    return state.get("workspace") or runtime.context.workspace or "default"


def _bind(node: Node, engines: EngineSource) -> Any:
    def run(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
        # The run's own settings (stored at its first step) win over whatever context a resume passed.
        runtime = runtime.override(context=with_settings(runtime.context, state.get("settings")))
        return node(state, runtime, engines(run_workspace(state, runtime)))

    run.__name__, run.__doc__ = node.__name__, node.__doc__
    return run


def make_builder(engines: EngineSource) -> StateGraph[State, Context, InputState, OutputState]:
    """The workflow with its nodes bound to ``engines``."""
    b = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
    b.add_node("triage", _bind(triage, engines))
    b.add_node("gather_context", _bind(gather_context, engines))
    b.add_node("retrieve", _bind(retrieve, engines))
    b.add_node("draft", _bind(draft, engines))
    b.add_node("assess_risk", _bind(assess_risk, engines))
    b.add_node("review", review)
    b.add_node("apply_actions", _bind(apply_actions, engines))
    b.add_edge(START, "triage")
    b.add_edge("triage", "gather_context")
    b.add_edge("triage", "retrieve")
    b.add_edge(["gather_context", "retrieve"], "draft")
    b.add_edge("draft", "assess_risk")
    b.add_conditional_edges("assess_risk", route_after_risk)
    b.add_edge("apply_actions", END)
    return b


@lru_cache(maxsize=1)
def _environment_workspaces() -> Any:
    """The workspaces of the environment's settings, opened on the first run (never at import)."""
    from tools.settings import get_settings
    from tools.store import Store
    from tools.workspaces import Workspaces

    settings = get_settings()
    return Workspaces(settings, Store.from_settings(settings))


def environment_engine(workspace: str) -> Engine:
    """Engine source of the module-level graph: the environment's workspaces."""
    engine: Engine = _environment_workspaces().get(workspace)
    return engine


builder = make_builder(environment_engine)

#: Compiled without a checkpointer: the LangGraph server (langgraph.json) brings its own.
graph = builder.compile(name="support-desk")
