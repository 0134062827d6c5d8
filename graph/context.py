"""Per-run settings (``context_schema``): LangGraph Studio shows and edits these fields.

Studio renders the JSON schema of this dataclass as the run's "Context" form: each
field's ``description`` is its help text and a ``Literal`` becomes a drop-down.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Literal, cast


@dataclass(kw_only=True)
class Context:
    """Knobs of one run. Explicit argument > ``SUPPORT_<FIELD>`` environment variable > default."""

    retrieval_k: int = field(default=4, metadata={"description": (
        "How many knowledge-base sources to keep per ticket, best first. Env: SUPPORT_RETRIEVAL_K.")})
    min_retrieval_score: float = field(default=0.0, metadata={"description": (
        "Relevance below this flags low retrieval confidence and logs a knowledge gap "
        "(0 = the playbook's min_retrieval_score). Env: SUPPORT_MIN_RETRIEVAL_SCORE.")})
    min_triage_confidence: float = field(default=0.0, metadata={"description": (
        "Classifier confidence below this flags the category for a human check "
        "(0 = the playbook's min_triage_confidence). Env: SUPPORT_MIN_TRIAGE_CONFIDENCE.")})
    tone: Literal["friendly", "formal"] = field(default="friendly", metadata={"description": (
        "Tone of the drafted customer reply: its greeting and closing. Env: SUPPORT_TONE.")})
    engine: Literal["offline", "llm"] = field(default="offline", metadata={"description": (
        "offline: the deterministic embedded engine, no model calls (the mode the nodes run today). "
        "llm: reserved for a chat-model engine. Env: SUPPORT_ENGINE.")})

    def __post_init__(self) -> None:
        """Fill fields left at their default from ``SUPPORT_*`` environment variables."""
        for f in fields(self):
            env = os.environ.get(f"SUPPORT_{f.name.upper()}")
            if env is not None and getattr(self, f.name) == f.default:
                convert = cast(Callable[[str], object], type(f.default))  # int, float or str
                setattr(self, f.name, convert(env))
