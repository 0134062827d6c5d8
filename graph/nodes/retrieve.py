"""Retrieve: knowledge sources ranked by relevance × authority, superseded ones replaced and flagged."""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import State
from tools.engine import get_engine


def retrieve(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Search the FAISS index with the ticket's vector (embedded once, in triage)."""
    engine = get_engine()
    vector = np.asarray(state["ticket_vector"], dtype=np.float32)
    hits, conflicts = engine.kb.search(vector, k=runtime.context.retrieval_k)
    threshold = runtime.context.min_retrieval_score or float(engine.playbook.raw.get("min_retrieval_score", 0.35))
    top = max((h.relevance for h in hits), default=0.0)
    return {
        "sources": [h.as_source() for h in hits],
        "conflicts": conflicts,
        "retrieval": {"top_relevance": round(top, 4), "confident": top >= threshold, "threshold": threshold},
    }
