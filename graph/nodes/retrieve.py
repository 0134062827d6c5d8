"""Retrieve: hybrid search of the workspace's knowledge, superseded sources replaced and flagged.

Two lists come back: the best customer-facing sources (the draft may cite them) and the best
internal procedures (for the reviewer only). The confidence is calibrated by the knowledge
base; a context threshold, when set, overrides it.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.nodes.triage import ticket_vector
from graph.state import State
from tools.engine import Engine, ticket_text


def retrieve(state: State, runtime: Runtime[Context], engine: Engine) -> dict[str, Any]:
    """Search with the whole ticket text (lexical) and its vector (dense; embedded once, in triage)."""
    vector = ticket_vector(state, engine)
    found = engine.kb.retrieve(ticket_text(dict(state["ticket"])), vector, k=runtime.context.retrieval_k)
    threshold = runtime.context.min_retrieval_score or found.threshold
    return {
        "sources": [h.as_source() for h in found.customer + found.internal],
        "conflicts": found.conflicts,
        "retrieval": {"top_relevance": round(found.top_score, 4), "confident": found.top_score >= threshold,
                      "threshold": round(threshold, 4)},
    }
