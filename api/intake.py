"""What enters the desk: the ticket model (API body, CLI file, batch line) and the desk's user-facing errors."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: A plain address: local part without spaces, quotes or brackets; a dotted domain of DNS labels.
EMAIL = re.compile(rf"^[^@\s<>\"',;]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")


class TicketIn(BaseModel):
    """An incoming ticket (API body, CLI file, batch line)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    id: str | None = Field(None, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$", description="Your ticket id; generated if absent.")
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=50_000)
    customer_id: str | None = Field(None, max_length=128)
    email: str | None = Field(None, max_length=320, description="The sender's address (replies go here).")
    channel: str = Field("email", max_length=32)

    @field_validator("id", "subject", "body", "customer_id", "email", "channel")
    @classmethod
    def _plain_text(cls, value: str | None) -> str | None:
        """Refuse what no database stores faithfully and no reviewer can read: NUL and lone surrogates."""
        if value is None:
            return value
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            raise ValueError("must not contain lone surrogates (invalid Unicode)")
        return value

    @field_validator("id")
    @classmethod
    def _not_a_path(cls, value: str | None) -> str | None:
        if value is not None and set(value) <= {"."}:
            raise ValueError("must not be made of dots only")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and value and not EMAIL.fullmatch(value):
            raise ValueError("is not an email address")
        return value or None


class DeskError(Exception):
    """Base class of expected, user-facing errors."""


class NotFound(DeskError):
    """Unknown thread or ticket."""


class NotPending(DeskError):
    """The interrupt is no longer pending (already decided, or never existed)."""

    def __init__(self, message: str, decided: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.decided = decided


class StaleProposal(DeskError):
    """The decision approves a proposal (digest) that is no longer the one pending: it was shown before a change."""

    def __init__(self, message: str, current: str, interrupt_id: str) -> None:
        super().__init__(message)
        self.current, self.interrupt_id = current, interrupt_id


class InvalidDecision(DeskError):
    """The resume value does not validate."""


class WorkspaceError(DeskError):
    """Unknown workspace, or a ticket id already used by another workspace."""
