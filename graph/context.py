"""Per-run settings (``context_schema``): LangGraph Studio shows and edits these fields.

Studio renders the JSON schema of this dataclass as the run's "Context" form: each
field's ``description`` is its help text and a ``Literal`` becomes a drop-down.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Literal, cast


def _default_engine() -> Literal["offline", "llm"]:
    """SUPPORT_ENGINE if set, else ``llm`` when a model is configured (SUPPORT_LLM openai/local), else ``offline``."""
    env = os.environ.get("SUPPORT_ENGINE")
    if env in ("offline", "llm"):
        return cast(Literal["offline", "llm"], env)
    from tools.settings import get_settings  # read at run time, never at import

    return "llm" if get_settings().llm != "off" else "offline"


@dataclass(kw_only=True)
class Context:
    """Knobs of one run. Explicit argument > ``SUPPORT_<FIELD>`` environment variable > default."""

    workspace: str = field(default="default", metadata={"description": (
        "The workspace (company) whose knowledge, playbook, customers and queue the run uses. "
        "A run keeps the workspace it started in. Env: SUPPORT_WORKSPACE.")})
    retrieval_k: int = field(default=4, metadata={"description": (
        "How many knowledge-base sources to keep per ticket, best first. Env: SUPPORT_RETRIEVAL_K.")})
    min_retrieval_score: float = field(default=0.0, metadata={"description": (
        "Relevance below this flags low retrieval confidence and logs a knowledge gap "
        "(on the knowledge base's calibrated 0-1 confidence scale; 0 = its measured default, 0.5). "
        "Env: SUPPORT_MIN_RETRIEVAL_SCORE.")})
    min_triage_confidence: float = field(default=0.0, metadata={"description": (
        "Classifier confidence below this flags the category for a human check "
        "(0 = the playbook's min_triage_confidence). Env: SUPPORT_MIN_TRIAGE_CONFIDENCE.")})
    tone: Literal["friendly", "formal"] = field(default="friendly", metadata={"description": (
        "Tone of the drafted customer reply: its greeting and closing. Env: SUPPORT_TONE.")})
    engine: Literal["offline", "llm"] = field(default_factory=_default_engine, metadata={"description": (
        "offline: the deterministic embedded engine, no model calls. "
        "llm: the model configured by SUPPORT_LLM writes the analysis and the draft, checked by validators; "
        "any failure falls back to the offline draft with the llm_fallback flag. "
        "Env: SUPPORT_ENGINE; unset, it is llm when SUPPORT_LLM is openai or local.")})

    def __post_init__(self) -> None:
        """Fill fields left at their default from ``SUPPORT_*`` environment variables."""
        for f in fields(self):
            if f.default is MISSING:  # a default_factory already read its environment variable
                continue
            env = os.environ.get(f"SUPPORT_{f.name.upper()}")
            if env is not None and getattr(self, f.name) == f.default:
                convert = cast(Callable[[str], object], type(f.default))  # int, float or str
                setattr(self, f.name, convert(env))


#: The settings a run keeps for its whole life (its workspace is kept separately, in the state).
RUN_SETTINGS = ("retrieval_k", "min_retrieval_score", "min_triage_confidence", "tone", "engine")


def settings_of(context: Context | None) -> dict[str, object]:
    """The run settings of ``context`` as plain JSON (stored in the run's state at its first step)."""
    context = context if context is not None else Context()
    return {name: getattr(context, name) for name in RUN_SETTINGS}


def with_settings(context: Context | None, stored: dict[str, object] | None) -> Context:
    """``context`` with the run's stored settings: a resume's fresh ``Context()`` cannot change the tone or engine."""
    context = context if context is not None else Context()
    kept = {k: v for k, v in (stored or {}).items() if k in RUN_SETTINGS}
    if not kept:
        return context
    merged = Context.__new__(Context)  # no __post_init__: the environment must not override what the run stored
    for f in fields(Context):
        object.__setattr__(merged, f.name, kept.get(f.name, getattr(context, f.name)))
    return merged
