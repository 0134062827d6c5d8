"""Log hygiene: no card number, IBAN, CVV, email address or phone number reaches a log line.

``install()`` puts a ``RedactingFilter`` on the root logger, on uvicorn's loggers, on every handler
they have and on ``logging.lastResort`` (which writes the records of an app whose root logger has
no handler: uvicorn configures only its own loggers). A filter on a logger sees only records logged
to that very logger, a filter on a handler everything the handler writes, including records
propagated from ``support_desk.*`` and library loggers; a record is redacted once (it is marked).
Call it after logging is configured: a handler added later carries no filter.

A message is cut to ``MAX_MESSAGE`` characters (no request body is ever logged whole), its
newlines escaped (a client cannot forge a second line) and redacted; tracebacks keep their lines.

``safe_errors`` turns a pydantic / FastAPI validation error list into what may be shown and
logged: location, message and type only, never the ``input`` or ``ctx`` values, every string
JSON-safe (lone surrogates escaped, control characters replaced) and redacted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from tools.pii import redact_for_logs

#: Loggers that uvicorn writes to (its access log carries paths and query strings).
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
#: Loggers whose formatter reads the record's args: those are redacted one by one instead of merged.
KEEP_ARGS = frozenset({"uvicorn.access"})
#: A log message is cut to this many characters before redaction (a body must never be logged whole,
#: and phone matching is slow on long digit-dense text).
MAX_MESSAGE = 4000
#: A traceback keeps its last this-many characters (the frames nearest the error).
MAX_TRACEBACK = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MARK = "_pii_redacted"


def _clean(text: str, limit: int, keep_end: bool = False, lines: bool = False) -> str:
    if len(text) > limit:
        cut = len(text) - limit
        text = f"…({cut} chars cut){text[-limit:]}" if keep_end else f"{text[:limit]}…({cut} chars cut)"
    if not lines:  # one record, one line: a newline sent by a client cannot forge another log line
        text = text.replace("\r", "\\r").replace("\n", "\\n")
    return redact_for_logs(text).text


class RedactingFilter(logging.Filter):
    """Rewrite a record's message (with its args merged in) and traceback with PII masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; never drops it."""
        if getattr(record, _MARK, False):
            return True
        if record.name in KEEP_ARGS and isinstance(record.args, tuple):
            # uvicorn's AccessFormatter unpacks the args (client, method, path, version, status).
            # Decoded first, so that a card or an address written %-encoded in a query string is found.
            record.args = tuple(_clean(unquote(a), MAX_MESSAGE) if isinstance(a, str) else a for a in record.args)
        else:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):  # a bad format string: still log it, safely
                message = f"{record.msg!s} {record.args!r}"
            record.msg, record.args = _clean(message, MAX_MESSAGE), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _clean(record.exc_text, MAX_TRACEBACK, keep_end=True, lines=True)
        if record.stack_info:
            record.stack_info = _clean(record.stack_info, MAX_TRACEBACK, keep_end=True, lines=True)
        setattr(record, _MARK, True)
        return True


def install(extra_loggers: Iterable[str] = ()) -> RedactingFilter:
    """Attach one ``RedactingFilter`` to the root and uvicorn loggers and their handlers (idempotent)."""
    redacting = RedactingFilter()
    targets: list[logging.Filterer] = [logging.lastResort] if logging.lastResort else []
    for name in ("", *UVICORN_LOGGERS, *extra_loggers):
        logger = logging.getLogger(name or None)
        targets += [logger, *logger.handlers]
    for target in targets:
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(redacting)
    return redacting


def _json_safe(value: object, limit: int = 300) -> str:
    text = str(value)[:limit]
    # A lone surrogate cannot be encoded as UTF-8 (nor sent as JSON): escape it visibly.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return redact_for_logs(_CONTROL.sub("\ufffd", text)).text


def safe_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``loc``, ``msg`` and ``type`` of each validation error; the caller's values never appear."""
    safe: list[dict[str, Any]] = []
    for error in errors:
        loc = error.get("loc", ())
        parts = loc if isinstance(loc, list | tuple) else (loc,)
        safe.append({
            "loc": [p if isinstance(p, int) and not isinstance(p, bool) else _json_safe(p, 64) for p in parts],
            "msg": _json_safe(error.get("msg", "")),
            "type": _json_safe(error.get("type", ""), 64),
        })
    return safe


def summary(errors: Iterable[Mapping[str, Any]]) -> str:
    """One line for a 422 ``detail``: ``body.subject: String should have at most 300 characters; …``."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}" for e in safe_errors(errors))
