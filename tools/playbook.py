"""The support playbook as functions: SLA targets, priority and escalation rules, required info.

Everything comes from ``playbook.yaml``; nothing here is decided by a model.
"""

from __future__ import annotations

import re
from typing import Any

PRIORITIES = ["low", "normal", "high", "urgent"]


class Playbook:
    """Rules of one support team."""

    def __init__(self, raw: dict[str, Any]) -> None:
        """Wrap the parsed YAML and precompile its patterns."""
        self.raw = raw
        self.categories: dict[str, dict[str, Any]] = raw["categories"]
        self.actions: dict[str, str] = raw.get("actions", {})
        self.required_info: dict[str, dict[str, str]] = raw.get("required_info", {})
        self._patterns = {k: re.compile(v["pattern"], re.IGNORECASE) for k, v in self.required_info.items()}

    @property
    def sign_off(self) -> str:
        """Closing line of every reply."""
        return str(self.raw.get("sign_off", "The Support Team"))

    def category(self, name: str) -> dict[str, Any]:
        """The category's settings (owner, escalation, default priority, required info)."""
        return self.categories.get(name, {})

    def sla_hours(self, plan: str, priority: str) -> float:
        """First-response target in hours for a plan and priority."""
        table = self.raw["sla_hours"].get(plan) or self.raw["sla_hours"]["free"]
        return float(table[priority])

    def sla_at_risk(self, hours: float) -> bool:
        """True when the target is tight enough to watch."""
        return hours <= float(self.raw.get("sla_risk_hours", 4))

    @staticmethod
    def _matches(when: dict[str, Any], facts: dict[str, Any], text: str) -> bool:
        for key, expected in when.items():
            if key == "keywords_any":
                if not any(word.lower() in text for word in expected):
                    return False
            elif isinstance(expected, list):
                if facts.get(key) not in expected:
                    return False
            elif facts.get(key) != expected:
                return False
        return True

    def priority(self, category: str, facts: dict[str, Any], text: str) -> tuple[str, list[str]]:
        """Priority from the category default raised by the playbook's rules; returns (priority, rules applied)."""
        level = PRIORITIES.index(self.category(category).get("default_priority", "normal"))
        applied = []
        for rule in self.raw.get("priority_rules", []):
            if self._matches(rule["when"], facts, text.lower()):
                level = min(level + int(rule.get("raise", 1)), len(PRIORITIES) - 1)
                applied.append(rule["name"])
        return PRIORITIES[level], applied

    def escalations(self, facts: dict[str, Any], text: str) -> list[dict[str, Any]]:
        """Every escalation rule that matches, in playbook order."""
        return [rule for rule in self.raw.get("escalation_rules", []) if self._matches(rule["when"], facts, text.lower())]

    def missing_info(self, keys: list[str], text: str) -> list[dict[str, str]]:
        """Required information the ticket text does not contain, with the question to ask."""
        missing = []
        for key in keys:
            pattern = self._patterns.get(key)
            if pattern is not None and not pattern.search(text):
                info = self.required_info[key]
                missing.append({"key": key, "label": info["label"], "question": info["question"]})
        return missing
