"""How the CLI prints: a rich console with colours on a terminal and plain text everywhere else.

Every value from a ticket or a packet is printed as literal text (``rich.text.Text``, never
markup), with control and bidi characters replaced, so a ticket cannot colour, hide or rewrite
what the reviewer reads, nor send escape sequences to their terminal. When stdout is not a
terminal, rich writes no ANSI codes at all (``FORCE_COLOR`` and ``NO_COLOR`` are honoured) and
lines are wrapped at ``$COLUMNS`` or 120 characters.
"""

from __future__ import annotations

import os
import re
import sys
from typing import IO, Any, TextIO, cast

from rich.console import Console
from rich.text import Text

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_TRAILING = re.compile(r"[ \t]+\n")
_BREAKS = re.compile(r"\s*(?:\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029])\s*")

PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "normal": "", "low": "dim"}
TIER_STYLE = {"read_only": "dim", "draft_only": "green", "bounded_autonomy": "cyan", "supervised": "yellow",
              "never_without_approval": "bold red"}
SEVERE_FLAGS = {"money", "security", "legal", "outage", "prompt_injection_suspected", "sla_at_risk", "out_of_scope"}
STATUS_STYLE = {"awaiting_review": "bold yellow", "completed": "green", "rejected": "red", "expired": "red", "redrafting": "yellow"}
SENTIMENT_STYLE = {"negative": "yellow", "positive": "green"}


class _Plain:
    """A text stream without the trailing blanks rich pads table cells with (for files and pipes)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(_TRAILING.sub("\n", text))

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False


def make_console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr): colours on a terminal, plain text when redirected."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(file=stream, highlight=False, markup=False, emoji=False)
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 20 else 120
    return Console(file=cast(IO[str], _Plain(stream)), width=width, highlight=False, markup=False, emoji=False)


def clean(value: Any, one_line: bool = True) -> str:
    """``value`` as safe literal text: control/bidi characters replaced; line breaks folded unless ``one_line`` is false."""
    text = str(value if value is not None else "").replace("\t", "    ")
    if one_line:
        return _CONTROLS.sub("\ufffd", _BREAKS.sub(" ⏎ ", text.strip()))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(_CONTROLS.sub("\ufffd", line) for line in lines)


def styled(value: Any, style: str = "") -> Text:
    """One line of literal text in ``style``."""
    return Text(clean(value), style=style)


def flags_text(flags: list[str]) -> Text:
    """Every risk flag, the severe ones in red; ``none`` when there are none."""
    if not flags:
        return Text("none", style="dim")
    out = Text()
    for i, flag in enumerate(flags):
        if i:
            out.append(", ")
        out.append(clean(flag), style="bold red" if str(flag) in SEVERE_FLAGS else "yellow")
    return out


def tier_text(tier: Any) -> Text:
    """A permission tier in its colour."""
    return styled(tier, TIER_STYLE.get(str(tier), ""))


def priority_text(priority: Any) -> Text:
    """A priority in its colour."""
    return styled(priority, PRIORITY_STYLE.get(str(priority), ""))


def status_text(status: Any) -> Text:
    """A run status in its colour."""
    return styled(str(status).replace("_", " "), STATUS_STYLE.get(str(status), ""))


def duration(hours: float) -> str:
    """``hours`` as ``2 d 3 h``, ``3 h 05 m`` or ``12 m``."""
    minutes = round(abs(hours) * 60)
    days, rest = divmod(minutes, 24 * 60)
    if days:
        return f"{days} d {rest // 60} h"
    return f"{rest // 60} h {rest % 60:02d} m" if rest >= 60 else f"{rest} m"
