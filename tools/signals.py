"""Cheap text signals: sentiment and prompt-injection attempts (lexicon-based, deterministic).

Injection detection only adds a risk flag for the reviewer; it never changes what needs
approval (``graph/policy.py`` decides that from data alone).
"""

from __future__ import annotations

import re

NEGATIVE = {
    "angry", "annoyed", "awful", "broken", "disappointed", "disgusted", "frustrated", "frustrating",
    "furious", "horrible", "joke", "lawyer", "ridiculous", "terrible", "unacceptable", "unhappy",
    "useless", "worst", "waste", "fed up", "sick of", "still not", "third time", "again?!", "escalate",
    "losing", "outraged", "nightmare", "incompetent",
}
POSITIVE = {"thanks", "thank you", "great", "love", "appreciate", "awesome", "helpful", "cheers", "please"}

INJECTION = re.compile(
    r"(ignore (all |your |the |any )?(previous |prior )?(rules|instructions|policy|policies)"
    r"|disregard (your|the|all) (rules|instructions|policy)"
    r"|(pre-?approved|already approved) by"
    r"|you are now|system prompt|developer mode"
    r"|do not (ask|wait) for (approval|review)|without (approval|review)"
    r"|issue the refund now|override (the )?(policy|rules))",
    re.IGNORECASE,
)


def sentiment(text: str) -> tuple[str, float]:
    """Label (negative/neutral/positive) and a score in [-1, 1]."""
    lower = text.lower()
    neg = sum(lower.count(w) for w in NEGATIVE) + lower.count("!!") + (2 if re.search(r"\b[A-Z]{5,}\b", text) else 0)
    pos = sum(lower.count(w) for w in POSITIVE)
    score = max(-1.0, min(1.0, (pos - 1.5 * neg) / 4))
    if neg >= 2 or score <= -0.3:
        return "negative", score
    if score >= 0.25 and neg == 0:
        return "positive", score
    return "neutral", score


def injection_attempt(text: str) -> str | None:
    """The phrase that looks like an instruction to the agent, if any."""
    match = INJECTION.search(text)
    return match.group(0) if match else None
