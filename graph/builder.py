"""Wiring of the support workflow (no logic here).

START → triage → (gather_context ∥ retrieve) → draft → assess_risk → review ⏸ → apply_actions → END.
Tickets whose actions are all bounded-autonomy or draft-only skip review.
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from graph.context import Context
from graph.nodes.apply_actions import apply_actions
from graph.nodes.assess_risk import assess_risk
from graph.nodes.draft import draft
from graph.nodes.gather_context import gather_context
from graph.nodes.retrieve import retrieve
from graph.nodes.review import review
from graph.nodes.triage import triage
from graph.state import InputState, OutputState, State


def route_after_risk(state: State) -> Literal["review", "apply_actions"]:
    """Review when any proposed action needs approval."""
    return "review" if any(a["needs_approval"] for a in state["proposed_actions"]) else "apply_actions"


builder = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
builder.add_node("triage", triage)
builder.add_node("gather_context", gather_context)
builder.add_node("retrieve", retrieve)
builder.add_node("draft", draft)
builder.add_node("assess_risk", assess_risk)
builder.add_node("review", review)
builder.add_node("apply_actions", apply_actions)
builder.add_edge(START, "triage")
builder.add_edge("triage", "gather_context")
builder.add_edge("triage", "retrieve")
builder.add_edge(["gather_context", "retrieve"], "draft")
builder.add_edge("draft", "assess_risk")
builder.add_conditional_edges("assess_risk", route_after_risk)
builder.add_edge("apply_actions", END)

#: Compiled without a checkpointer: the LangGraph server (langgraph.json) brings its own.
graph = builder.compile(name="support-desk")
