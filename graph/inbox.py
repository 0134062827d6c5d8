"""The agent-inbox contract: interrupt payload (``HumanInterrupt``) and the strictly validated resume value.

Defined here rather than imported from ``langgraph.prebuilt.interrupt`` (deprecated there).
Agent Inbox resumes with a list holding one ``HumanResponse``; the API and CLI send the
object itself. Both are accepted. A resume value is checked before anything happens: size
and nesting are bounded by an iterative walk (a 300-deep value is refused without
recursion), NUL, lone surrogates and non-finite numbers are refused anywhere, unknown keys
are refused, and edited action arguments are typed per action (``ARGS_MODELS``). Every
refusal is a ``ValueError`` whose message quotes at most a few characters of the input.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal, TypedDict

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    PrivateAttr,
    StringConstraints,
    Tag,
    ValidationError,
    model_validator,
)

from tools.action_args import EDIT_MODELS, STRICT, Body, Short

REVIEW_ACTION = "approve_support_packet"
MAX_BYTES = 100_000
MAX_DEPTH = 8
_BAD = re.compile("[\x00\ud800-\udfff]")
_TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}\Z")  # a key shown in an error; anything else is input, not named
_ACTION_ID = re.compile(r"^a\d{1,4}-([a-z_]{1,64})\Z")


def clip(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters with non-printables replaced: safe to put in an error message."""
    cut = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return cut + ("…" if len(text) > limit else "")


ActionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
#: The editable, typed arguments of each action (shared with the proposals: ``tools.action_args``).
ARGS_MODELS = EDIT_MODELS


class ActionRequest(TypedDict):
    """The action the reviewer is asked to approve and its arguments."""

    action: str
    args: dict[str, Any]


class HumanInterruptConfig(TypedDict):
    """What the reviewer may do."""

    allow_ignore: bool
    allow_respond: bool
    allow_edit: bool
    allow_accept: bool


class HumanInterrupt(TypedDict):
    """The interrupt payload Agent Inbox renders."""

    action_request: ActionRequest
    config: HumanInterruptConfig
    description: str


def check_value(value: Any, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> None:
    """Refuse JSON-like ``value`` if too deep or too big, or holding NUL, lone surrogates or non-finite numbers.

    Iterative and early-exiting, so a hostile value costs at most ``max_bytes`` of work.
    """
    budget, stack = max_bytes, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            budget -= len(item) + 2
            if budget >= 0 and _BAD.search(item):
                raise ValueError("NUL characters and lone surrogates are not allowed")
        elif isinstance(item, dict | list | tuple):
            if depth > max_depth:
                raise ValueError(f"nested deeper than {max_depth} levels")
            budget -= 2
            for key in item if isinstance(item, dict) else ():
                if not isinstance(key, str):
                    raise ValueError("object keys must be strings")
                stack.append((key, depth + 1))
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite (no NaN or Infinity)")
        elif isinstance(item, int) and not isinstance(item, bool) and not -(2**53) <= item <= 2**53:
            raise ValueError("integers must be within ±2**53")
        elif item is not None and not isinstance(item, bool | int | float):
            raise ValueError(f"unsupported value of type {type(item).__name__}")
        else:
            budget -= 8
        if budget < 0:
            raise ValueError(f"decision larger than {max_bytes // 1000} KB")


def _summary(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for e in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) if isinstance(p, int) or _KEY.match(p) else "<key>" for p in e["loc"] if p not in _TAGS)
        parts.append(f"{where + ': ' if where else ''}{e['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts[:limit]) + (f" (+{len(parts) - limit} more)" if len(parts) > limit else "")


class EditedAction(BaseModel):
    """A gated action kept by the reviewer, optionally with edited, typed arguments (``tier`` is ignored)."""

    model_config = STRICT
    id: ActionId
    name: Short | None = Field(None, description="Must match the id's action; derived from the id if absent.")
    tier: Short | None = Field(None, exclude=True, description="Shown in the payload; policy decides tiers.")
    status: Literal["ready", "incomplete"] | None = Field(None, exclude=True, description="Shown in the payload; recomputed.")
    missing: list[Short] | None = Field(None, exclude=True, max_length=20, description="Shown in the payload; recomputed.")
    args: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _typed_args(self) -> EditedAction:
        match = _ACTION_ID.match(self.id)
        derived = match.group(1) if match else None
        if self.name is not None and derived is not None and self.name != derived:
            raise ValueError(f"action {clip(self.id)}: 'name' does not match the id")
        self.name = self.name or derived
        if self.args:
            model = ARGS_MODELS.get(self.name or "")
            if model is None:
                raise ValueError(f"action {clip(self.id)} has no editable arguments")
            try:
                self.args = model.model_validate(self.args).model_dump(mode="json", exclude_none=True)
            except ValidationError as exc:
                raise ValueError(f"{self.name} args: {_summary(exc)}") from None
        return self


_TAGS = ("id-string", "action-object")  # discriminator tags: left out of error locations


def _choice(value: Any) -> str | None:
    return _TAGS[0] if isinstance(value, str) else _TAGS[1] if isinstance(value, dict | EditedAction) else None


class Overrides(BaseModel):
    """A reviewer's correction of the triage: the values the agent should have chosen (at least one)."""

    model_config = STRICT
    category: Short | None = None
    priority: Short | None = None
    escalation_team: Short | None = None

    @model_validator(mode="after")
    def _some(self) -> Overrides:
        if self.category is None and self.priority is None and self.escalation_team is None:
            raise ValueError("overrides need at least one of category, priority, escalation_team")
        return self


class EditArgs(BaseModel):
    """Edited arguments: the reply text and/or the subset of gated actions to apply."""

    model_config = STRICT
    reply: Body | None = Field(None, min_length=1, description="The edited customer reply.")
    actions: list[Annotated[Annotated[ActionId, Tag(_TAGS[0])] | Annotated[EditedAction, Tag(_TAGS[1])], Discriminator(_choice)]] | None = (
        Field(None, max_length=100, description="Gated actions to keep (ids or {id, args}); others are dropped."))
    allow_new_recipient: bool = Field(False, description="Required to send the reply to another address than the customer's.")
    overrides: Overrides | None = Field(None, description=(
        "The reviewer's correction of the triage (category, priority, escalation team), checked against the playbook's "
        "vocabularies by the service and recorded with the decision; the run is not re-triaged."))


def _unwrap_edit(args: Any) -> Any:
    """Agent Inbox's Edit sends the whole action request, with edited fields possibly as JSON text."""
    if isinstance(args, dict) and args.get("action") == REVIEW_ACTION and isinstance(args.get("args"), dict):
        args = dict(args["args"])
    if isinstance(args, dict) and isinstance(args.get("actions"), str):
        try:
            actions = json.loads(args["actions"])
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ValueError(f"'actions' is not valid JSON: {getattr(exc, 'msg', 'nested too deeply')}") from None
        check_value(actions, max_depth=MAX_DEPTH - 3)
        args = {**args, "actions": actions}
    return args


class ReviewDecision(BaseModel):
    """A reviewer's answer to the approval checkpoint; ``args`` is kept normalised (plain JSON, typed values)."""

    model_config = STRICT
    #: ``superseded`` is the service's own answer when a customer message replaces the pending review
    #: (args: ``{"message": {...}}``); the API and the CLI accept only the four reviewer decisions.
    #: ``expired`` is the scheduler's answer when the approval deadline passes: fail-closed, like ``ignore``.
    type: Literal["accept", "edit", "response", "ignore", "superseded", "expired"]
    args: Any = None
    reviewer: Short = "reviewer"
    role: Short | None = Field(None, description="The reviewer's role (set by the service from the API key).")
    digest: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8,64}$")] | None = Field(
        None, description="The proposal_digest of what the reviewer saw; set by the service when absent.")
    _edit: EditArgs | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _check_args(self) -> ReviewDecision:
        if self.type == "edit":
            args = _unwrap_edit(self.args)
            try:
                edit = EditArgs.model_validate(args if isinstance(args, dict) else {})
            except ValidationError as exc:
                raise ValueError(f"edit args: {_summary(exc)}") from None
            if edit.reply is None and edit.actions is None and edit.overrides is None:
                raise ValueError("an edit needs args with 'reply' (the edited text), 'actions' (ids to keep) "
                                 "and/or 'overrides'")
            self._edit, self.args = edit, edit.model_dump(mode="json", exclude_none=True)
        elif self.type == "response":
            if not (isinstance(self.args, str) and self.args.strip()):
                raise ValueError("a response needs args: the reviewer's comment as a non-empty string")
            _check_comment(self.args, "a response")
        elif self.type == "ignore" and isinstance(self.args, str):  # the rejection's reason (optional)
            _check_comment(self.args, "a rejection's reason")
            self.args = self.args.strip() or None
        elif self.type == "superseded":
            message = self.args.get("message") if isinstance(self.args, dict) else None
            if not (isinstance(message, dict) and {"id", "author", "body", "at"} <= set(message)
                    and all(isinstance(message[k], str) for k in ("id", "author", "body", "at"))):
                raise ValueError("superseded needs args {'message': {id, author, body, at}}")
            self.args = {"message": {k: message[k] for k in ("id", "author", "body", "at")}}
        else:
            self.args = None  # accept (and ignore without a reason) carry no arguments (Agent Inbox may echo the request)
        return self

    @property
    def edit(self) -> EditArgs:
        """The parsed edit arguments (only for ``edit``)."""
        if self._edit is None:
            raise ValueError("not an edit")
        return self._edit


def _check_comment(text: str, what: str) -> None:
    if len(text) > 5_000 or _TEXT_CONTROL.search(text):
        raise ValueError(f"{what} is at most 5,000 characters without control characters")


def parse_decision(value: Any) -> ReviewDecision:
    """Validate a resume value (object or Agent Inbox's one-element list); ``ValueError`` with a short reason."""
    check_value(value)
    if isinstance(value, list):
        if len(value) != 1:
            raise ValueError("expected exactly one response")
        value = value[0]
    if not isinstance(value, dict):
        raise ValueError("a decision is an object like {\"type\": \"accept\"}")
    try:
        return ReviewDecision.model_validate(value)
    except ValidationError as exc:
        raise ValueError(decision_error(exc)) from None


def new_recipient(decision: ReviewDecision, proposed_to: str) -> str | None:
    """The address an edit sends the reply to instead of ``proposed_to`` (case-insensitive), if any."""
    if decision.type != "edit":
        return None
    for action in decision.edit.actions or []:
        if isinstance(action, EditedAction) and action.name == "send_reply" and action.args and "to" in action.args:
            if str(action.args["to"]).casefold() != proposed_to.strip().casefold():
                return str(action.args["to"])
    return None


def check_recipient(decision: ReviewDecision, proposed_to: str) -> None:
    """Refuse an edit re-addressing the reply away from ``proposed_to`` unless it sets ``allow_new_recipient``."""
    if new_recipient(decision, proposed_to) is not None and not decision.edit.allow_new_recipient:
        raise ValueError("the edit sends the reply to another address than the ticket's customer; "
                         "set \"allow_new_recipient\": true in the edit args to allow it")


def check_proposal(decision: ReviewDecision, gated: list[dict[str, Any]]) -> None:
    """Refuse an edit naming actions that were not proposed (``gated``), or re-addressing the reply unflagged."""
    if decision.type != "edit":
        return
    by_id = {a["id"]: a for a in gated}
    kept = decision.edit.actions or []
    unknown = sorted({a if isinstance(a, str) else a.id for a in kept} - set(by_id))
    if unknown:
        raise ValueError(f"unknown action ids {[clip(i) for i in unknown[:5]]}; proposed: {sorted(by_id)}")
    for action in kept:
        if isinstance(action, EditedAction) and action.name not in (None, by_id[action.id]["name"]):
            raise ValueError(f"action {clip(action.id)} is a {by_id[action.id]['name']}, not a {action.name}")
    reply = next((a for a in gated if a["name"] == "send_reply"), None)
    if reply is not None:
        check_recipient(decision, str(reply["args"].get("to") or ""))


def decision_error(exc: Exception) -> str:
    """A one-line, human-readable reason for an invalid decision (never more than a few characters of input)."""
    text = _summary(exc) if isinstance(exc, ValidationError) else str(exc)
    return clip(text, 400)
