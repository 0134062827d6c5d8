"""The support playbook as functions: SLA targets, priority and escalation rules, required info, request types.

Everything comes from ``playbook.yaml``; nothing here is decided by a model. A workspace without
one gets the generic playbook in ``tools/defaults/playbook.yaml``, and a workspace playbook that
lacks a section gets it from there (see :func:`with_generic`). Vocabularies (plans, kinds,
authority levels) are read from the playbook by :func:`vocabularies`, never fixed in code.

``requests`` lists what a customer can ask for (refund, cancel_subscription, policy_question …): a
description, the action it proposes (or none for a question), how to fill that action's arguments, example
phrases and optional patterns; ``request_settings`` holds the detector's thresholds. Both are validated
with pydantic (:class:`RequestType`, :class:`RequestSettings`); a playbook without them gets the generic ones.
"""

from __future__ import annotations

import copy
import fnmatch
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tools.action_args import ARG_NAMES, KNOWN_ACTIONS, ArgRule, Currency
from tools.formats import yaml_error

PRIORITIES = ["low", "normal", "high", "urgent"]
GENERIC_PLAYBOOK = Path(__file__).with_name("defaults") / "playbook.yaml"
#: Document kinds when a playbook lists none.
DEFAULT_KINDS = ("help_article", "policy", "sop", "macro", "playbook", "runbook", "known_issue", "past_ticket",
                 "release_note")
#: Who a document is for: this is what the agent's quoting rule keys on, so it is not configurable.
AUDIENCES = ("customer", "internal")
# Sections derived from another section of the workspace's own playbook are not merged in.
_DERIVED = {"plans": ("sla_hours",), "default_plan": ("sla_hours", "plans"), "default_authority": ("authority_weights",)}


@lru_cache(maxsize=1)
def _generic() -> dict[str, Any]:
    raw = yaml.safe_load(GENERIC_PLAYBOOK.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)  # noqa: S101 - a file shipped with the package
    return raw


def generic_playbook() -> dict[str, Any]:
    """A fresh copy of the built-in generic playbook."""
    return copy.deepcopy(_generic())


def with_generic(raw: dict[str, Any]) -> dict[str, Any]:
    """The workspace playbook completed, section by section, from the generic one (workspace wins)."""
    merged = {k: v for k, v in generic_playbook().items() 
              if k not in raw and not any(d in raw for d in _DERIVED.get(k, ()))}
    merged.update(raw)
    return merged


def read_playbook(path: Path) -> tuple[dict[str, Any], str, list[str]]:
    """``(playbook, source, errors)``: the workspace file completed from the generic one, or the generic one.

    ``source`` is ``"workspace"`` or ``"generic"`` (no file); ``errors`` (``file:line: reason``)
    is non-empty when the file exists but cannot be used.
    """
    if not path.exists():
        return generic_playbook(), "generic", []
    try:
        text = path.read_text(encoding="utf-8-sig")
        raw = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        return {}, "workspace", [f"{path}:0: cannot read the playbook: {exc}"]
    except yaml.YAMLError as exc:
        line, reason = yaml_error(exc)
        return {}, "workspace", [f"{path}:{line}: invalid YAML: {reason}"]
    if not isinstance(raw, dict | None):
        return {}, "workspace", [f"{path}:1: the playbook must be a mapping of sections"]
    playbook = with_generic(raw or {})
    for name, settings in list(playbook["categories"].items()) if isinstance(playbook.get("categories"), dict) else []:
        playbook["categories"][name] = settings if settings is not None else {}
    return playbook, "workspace", [f"{path}:{_line_of(text, key)}: {reason}" for key, reason in check_playbook(playbook)]


def check_playbook(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """``(section, reason)`` for every section the agent cannot use."""
    bad: list[tuple[str, str]] = []
    categories, weights, sla = raw.get("categories"), raw.get("authority_weights"), raw.get("sla_hours")
    if not isinstance(categories, dict) or not categories or not all(isinstance(v, dict) for v in categories.values()):
        return [("categories", "categories must map each category name to its settings")]
    if not isinstance(weights, dict) or not weights or not all(isinstance(v, int | float) for v in weights.values()):
        return [("authority_weights", "authority_weights must map each authority level to a number")]
    if not isinstance(sla, dict) or not sla or not all(isinstance(v, dict) for v in sla.values()):
        return [("sla_hours", "sla_hours must map each plan to {low, normal, high, urgent} hours")]
    bad += [("sla_hours", f"plan '{plan}' has no hours for {', '.join(p for p in PRIORITIES if p not in table)}")
            for plan, table in sla.items() if any(p not in table for p in PRIORITIES)]
    bad += [("categories", f"category '{name}': default_priority '{c['default_priority']}' is not one of "
             f"{', '.join(PRIORITIES)}") for name, c in categories.items()
            if c.get("default_priority", "normal") not in PRIORITIES]
    vocab = vocabularies(raw)
    if vocab["default_plan"] not in vocab["plans"]:
        bad.append(("default_plan", f"default_plan '{vocab['default_plan']}' is not one of the plans"))
    if vocab["default_authority"] not in vocab["authorities"]:
        bad.append(("default_authority", f"default_authority '{vocab['default_authority']}' is not in authority_weights"))
    bad += [("knowledge_defaults", f"rule {n}: {reason}") for n, rule in enumerate(raw.get("knowledge_defaults") or [], 1)
            for reason in _rule_problems(rule, vocab)]
    bad += [("required_info", f"'{key}' needs a valid regular expression under pattern")
            for key, info in (raw.get("required_info") or {}).items() if not _compiles(str((info or {}).get("pattern", "")))]
    bad += _request_problems(raw)
    return bad


class RequestType(BaseModel):
    """One kind of request a customer can make (a ``requests.<name>`` entry)."""

    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=1)
    action: str | None = Field(None, description="The action it proposes; none for a question or a report.")
    question: bool = Field(False, description="A question to answer: where a question about an action type goes.")
    args: dict[str, ArgRule] = Field(default_factory=dict)
    examples: list[str] = Field(min_length=1, description="Typical phrasings, one sentence each, any language.")
    patterns: list[str] = Field(default_factory=list, description="Regular expressions that signal this request.")
    negative_patterns: list[str] = Field(default_factory=list, description="Expressions that rule it out in a sentence.")

    @field_validator("patterns", "negative_patterns")
    @classmethod
    def _compile(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression '{value[:60]}': {exc}") from None
        return values

    @model_validator(mode="after")
    def _consistent(self) -> RequestType:
        if self.question and self.action:
            raise ValueError("a question type proposes no action")
        if self.action and self.action in ARG_NAMES:
            unknown = sorted(set(self.args) - ARG_NAMES[self.action])
            if unknown:
                raise ValueError(f"{self.action} has no argument {', '.join(unknown)} (it has {', '.join(sorted(ARG_NAMES[self.action]))})")
        return self


class RequestSettings(BaseModel):
    """Thresholds of the request detector (the ``request_settings`` section)."""

    model_config = ConfigDict(extra="forbid")
    min_confidence: float = Field(0.5, gt=0, lt=1, description="Calibrated probability a request needs to be reported.")
    pattern_odds: float = Field(20.0, ge=1, le=1000, description="Likelihood ratio of a pattern hit: multiplies its type's odds.")
    default_currency: Currency | None = Field(None, description="Currency of an amount written without one.")
    correct_spelling: bool = Field(True, description="Read misspelt words as the closest word of the examples.")
    background: list[str] = Field(default_factory=list, description="Sentences that ask for nothing (greetings, context).")


def request_types(raw: dict[str, Any]) -> dict[str, RequestType]:
    """The playbook's request types, parsed (the generic ones when it has none); ``ValueError`` if invalid."""
    section = raw.get("requests") if raw.get("requests") is not None else _generic().get("requests")
    if not isinstance(section, dict) or not section:
        raise ValueError("requests must map each request type to {description, action, args, examples}")
    return {str(name): RequestType.model_validate(spec) for name, spec in section.items()}


def request_settings(raw: dict[str, Any]) -> RequestSettings:
    """The detector's settings (the generic ones when the playbook has none)."""
    section = raw.get("request_settings") if raw.get("request_settings") is not None else _generic().get("request_settings")
    return RequestSettings.model_validate(section or {})


def _request_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    bad: list[tuple[str, str]] = []
    section = raw.get("requests")
    if section is not None and (not isinstance(section, dict) or not section):
        return [("requests", "requests must map each request type to {description, action, args, examples}")]
    known = KNOWN_ACTIONS | set(raw.get("actions") or {})
    for name, spec in (section or {}).items():
        try:
            kind = RequestType.model_validate(spec)
        except ValidationError as exc:
            bad += [("requests", f"requests: type '{name}': {_where(e['loc'])}{e['msg'].removeprefix('Value error, ')}")
                    for e in exc.errors(include_url=False)[:3]]
            continue
        if kind.action and kind.action not in known:
            bad.append(("requests", f"requests: type '{name}': action '{kind.action}' is not a known action"))
    try:
        request_settings(raw)
    except ValidationError as exc:
        bad += [("request_settings", f"request_settings: {_where(e['loc'])}{e['msg']}") for e in exc.errors(include_url=False)[:3]]
    return bad


def _where(loc: tuple[int | str, ...]) -> str:
    return f"{'.'.join(str(p) for p in loc)}: " if loc else ""


def _rule_problems(rule: Any, vocab: dict[str, Any]) -> list[str]:
    if not isinstance(rule, dict) or not isinstance(rule.get("match"), dict) or not isinstance(rule.get("set"), dict):
        return ["a rule is {match: {path: GLOB, title: REGEX}, set: {kind, authority, audience, owner}}"]
    allowed = {"kind": vocab["kinds"], "authority": vocab["authorities"], "audience": list(AUDIENCES)}
    bad = [f"{key} '{value}' is not one of {', '.join(allowed[key])}"
           for key, value in rule["set"].items() if key in allowed and value not in allowed[key]]
    if not _compiles(str(rule["match"].get("title", ""))):
        bad.append(f"invalid title pattern '{rule['match']['title']}'")
    return bad


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _line_of(text: str, key: str) -> int:
    """The line of the top-level ``key:`` in the YAML text (1 when it is not written there)."""
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def vocabularies(raw: dict[str, Any]) -> dict[str, Any]:
    """Allowed values from a (merged) playbook: plans, default_plan, kinds, authorities, default_authority."""
    weights = {str(k): float(v) for k, v in (raw.get("authority_weights") or {}).items()}
    plans = [str(p) for p in raw.get("plans") or list(raw.get("sla_hours") or {})]
    best = max(weights, key=lambda k: weights[k]) if weights else ""
    return {
        "plans": plans,
        "default_plan": str(raw.get("default_plan") or (plans[0] if plans else "")),
        "kinds": [str(k) for k in raw.get("kinds") or DEFAULT_KINDS],
        "authorities": list(weights),
        "default_authority": str(raw.get("default_authority") or best),
        "categories": [str(c) for c in raw.get("categories") or {}],
    }


def knowledge_defaults(raw: dict[str, Any], relpath: str, title: str) -> dict[str, str]:
    """Metadata the playbook's ``knowledge_defaults`` rules give a document (first match per field)."""
    found: dict[str, str] = {}
    for rule in raw.get("knowledge_defaults") or []:
        match = rule.get("match") or {}
        if "path" in match and not fnmatch.fnmatchcase(relpath, str(match["path"])):
            continue
        if "title" in match and not re.search(str(match["title"]), title):
            continue
        for key, value in (rule.get("set") or {}).items():
            found.setdefault(str(key), str(value))
    return found


class Playbook:
    """Rules of one support team."""

    def __init__(self, raw: dict[str, Any]) -> None:
        """Wrap the parsed YAML and precompile its patterns."""
        self.raw = raw
        vocab = vocabularies(raw)
        self.plans: list[str] = vocab["plans"]
        self.default_plan: str = vocab["default_plan"]
        self.categories: dict[str, dict[str, Any]] = raw["categories"]
        self.actions: dict[str, str] = raw.get("actions", {})
        self.required_info: dict[str, dict[str, str]] = raw.get("required_info", {})
        self._patterns = {k: re.compile(v["pattern"], re.IGNORECASE) for k, v in self.required_info.items()}
        #: Request types by name (the generic ones when the playbook has none) and the detector's settings.
        self.requests: dict[str, RequestType] = request_types(raw)
        self.request_settings: RequestSettings = request_settings(raw)

    @property
    def sign_off(self) -> str:
        """Closing line of every reply."""
        return str(self.raw.get("sign_off", "The Support Team"))

    def category(self, name: str) -> dict[str, Any]:
        """The category's settings (owner, escalation, default priority, required info)."""
        return self.categories.get(name, {})

    def sla_hours(self, plan: str, priority: str) -> float:
        """First-response target in hours for a plan and priority (an unknown plan gets the default plan's)."""
        tables: dict[str, dict[str, float]] = self.raw["sla_hours"]
        table = tables.get(plan) or tables.get(self.default_plan) or next(iter(tables.values()))
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
            elif key == "requests_any":  # what the customer asks for (detected request types)
                if not set(expected) & set(facts.get("requests", [])):
                    return False
            elif key == "not_requests_any":
                if set(expected) & set(facts.get("requests", [])):
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
