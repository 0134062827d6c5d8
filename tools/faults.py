"""Fault injection for the crash tests: ``SUPPORT_CRASH_AT=<point>`` SIGKILLs the process at that point.

The points are where a real crash hurts most (after a decision is claimed, between two
applied actions). Unset — the default — it does nothing.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL when ``SUPPORT_CRASH_AT`` names this point."""
    if os.environ.get("SUPPORT_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
