"""Fault injection for the crash and outage tests; unset — the default — it does nothing.

``SUPPORT_CRASH_AT=<point>`` SIGKILLs the process at that point. ``SUPPORT_PAUSE_AT=<point>:<seconds>``
stops there once per process for that long (the outage test cuts the database meanwhile). The
points are where a failure hurts most: after a decision is claimed, between two applied actions.
"""

from __future__ import annotations

import os
import signal
import time

_paused: set[str] = set()


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL when ``SUPPORT_CRASH_AT`` names this point; pause once if ``SUPPORT_PAUSE_AT`` does."""
    if os.environ.get("SUPPORT_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    point, _, seconds = os.environ.get("SUPPORT_PAUSE_AT", "").partition(":")
    if point == name and name not in _paused:
        _paused.add(name)
        time.sleep(float(seconds or 1))
