"""Per-run settings (``context_schema``): LangGraph Studio shows and edits these fields."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields


@dataclass(kw_only=True)
class Context:
    """Knobs of one run. Explicit argument > ``SUPPORT_<FIELD>`` environment variable > default."""

    retrieval_k: int = field(default=4, metadata={"description": "How many knowledge sources to keep per ticket."})
    min_retrieval_score: float = field(
        default=0.0,
        metadata={"description": "Relevance below this flags low retrieval confidence and logs a knowledge gap "
                                 "(0 = use the playbook's min_retrieval_score)."},
    )
    min_triage_confidence: float = field(
        default=0.0,
        metadata={"description": "Classifier confidence below this flags the category for a human check "
                                 "(0 = use the playbook's min_triage_confidence)."},
    )
    tone: str = field(default="friendly", metadata={"description": "Reply tone: friendly or formal."})
    engine: str = field(default="offline", metadata={"description": "offline (deterministic, no model) or llm."})

    def __post_init__(self) -> None:
        """Fill fields left at their default from ``SUPPORT_*`` environment variables."""
        for f in fields(self):
            env = os.environ.get(f"SUPPORT_{f.name.upper()}")
            if env is not None and getattr(self, f.name) == f.default:
                setattr(self, f.name, type(f.default)(env))
