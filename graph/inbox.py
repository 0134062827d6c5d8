"""The agent-inbox contract: interrupt payload (``HumanInterrupt``) and the validated resume value.

Defined here rather than imported from ``langgraph.prebuilt.interrupt`` (deprecated there).
Agent Inbox resumes with a list holding one ``HumanResponse``; the API and CLI send the
object itself. Both are accepted.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

REVIEW_ACTION = "approve_support_packet"


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


class EditedAction(BaseModel):
    """An action kept by the reviewer, optionally with edited arguments (name and tier are ignored)."""

    model_config = ConfigDict(extra="ignore")
    id: str
    args: dict[str, Any] | None = None


class EditArgs(BaseModel):
    """Edited arguments: the reply text and/or the subset of gated actions to apply."""

    model_config = ConfigDict(extra="ignore")
    reply: str | None = Field(None, min_length=1, description="The edited customer reply.")
    actions: list[EditedAction | str] | None = Field(None, description="Gated actions to keep (ids); others are dropped.")


def _unwrap_edit(args: Any) -> Any:
    """Agent Inbox's Edit sends the whole action request, with edited fields possibly as JSON text."""
    if isinstance(args, dict) and args.get("action") == REVIEW_ACTION and isinstance(args.get("args"), dict):
        args = dict(args["args"])
    if isinstance(args, dict) and isinstance(args.get("actions"), str):
        try:
            args = {**args, "actions": json.loads(args["actions"])}
        except json.JSONDecodeError as exc:
            raise ValueError(f"'actions' is not valid JSON: {exc.msg}") from exc
    return args


class ReviewDecision(BaseModel):
    """A reviewer's answer to the approval checkpoint."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["accept", "edit", "response", "ignore"]
    args: Any = None
    reviewer: str = "reviewer"

    @model_validator(mode="after")
    def _check_args(self) -> ReviewDecision:
        if self.type == "edit":
            self.args = _unwrap_edit(self.args)
            edit = EditArgs.model_validate(self.args if isinstance(self.args, dict) else {})
            if edit.reply is None and edit.actions is None:
                raise ValueError("an edit needs args with 'reply' (the edited text) and/or 'actions' (ids to keep)")
        if self.type == "response" and not (isinstance(self.args, str) and self.args.strip()):
            raise ValueError("a response needs args: the reviewer's comment as a non-empty string")
        return self

    @property
    def edit(self) -> EditArgs:
        """The parsed edit arguments (only for ``edit``)."""
        return EditArgs.model_validate(self.args)


def parse_decision(value: Any) -> ReviewDecision:
    """Validate a resume value (object or Agent Inbox's one-element list)."""
    if isinstance(value, list):
        if len(value) != 1:
            raise ValueError("expected exactly one response")
        value = value[0]
    if not isinstance(value, dict):
        raise ValueError("a decision is an object like {\"type\": \"accept\"}")
    return ReviewDecision.model_validate(value)


def decision_error(exc: Exception) -> str:
    """A one-line, human-readable reason for an invalid decision."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'decision'}: {e['msg']}" for e in exc.errors())
    return str(exc)
