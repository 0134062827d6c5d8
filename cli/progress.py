"""Progress for long CLI work: one bar per step on stderr, with each step's time kept on screen.

Steps report ``(step, done, total)``. The bars are not transient: when the work ends, every
step stays listed with its count and elapsed time, so a redirected or finished run still
shows where the time went. On a terminal that is not interactive, rich prints the final state.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class StepProgress:
    """A context manager whose :meth:`report` is the ``progress(step, done, total)`` callback."""

    def __init__(self, console: Console | None = None) -> None:
        """Draw on ``console`` (stderr by default)."""
        self.console = console or Console(stderr=True)
        self._progress = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), console=self.console, transient=False)
        self._tasks: dict[str, TaskID] = {}
        self._started: dict[str, float] = {}
        self.timings: dict[str, float] = {}

    def __enter__(self) -> StepProgress:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for step, task in self._tasks.items():  # freeze unfinished steps at their last count
            self._progress.stop_task(task)
            self.timings.setdefault(step, time.perf_counter() - self._started[step])
        self._progress.stop()

    def report(self, step: str, done: int, total: int, *_: Any) -> None:
        """Advance ``step`` to ``done`` of ``total``."""
        if step not in self._tasks:
            self._tasks[step] = self._progress.add_task(step, total=max(total, 1))
            self._started[step] = time.perf_counter()
        task = self._tasks[step]
        self._progress.update(task, completed=done if total else 1, total=max(total, 1))
        if done >= total and step not in self.timings:
            self.timings[step] = time.perf_counter() - self._started[step]
            self._progress.stop_task(task)
