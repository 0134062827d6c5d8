"""What every ``support-agent`` command shares: the one-line error, the workspaces, engine loading."""

from __future__ import annotations

from typing import Any

EXIT_USAGE = 2
#: The database does not answer (sysexits EX_UNAVAILABLE): retrying later may work.
EXIT_UNAVAILABLE = 69


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def open_workspaces() -> Any:
    """The registered workspaces of the configured database (no engine is loaded yet)."""
    from api.db import open_store
    from tools.settings import get_settings
    from tools.workspaces import Workspaces

    settings = get_settings()
    return Workspaces(settings, open_store(settings))


def engine_of(workspace: str, progress: Any = None) -> Any:
    """The engine of ``workspace`` (built when its data changed); an unknown workspace is one CLI line."""
    from tools.workspaces import UnknownWorkspace

    try:
        return open_workspaces().get(workspace, progress)
    except UnknownWorkspace as exc:
        raise CliError(str(exc)) from exc


def build_workspace(workspace: str) -> Any:
    """Load (building when needed) a workspace's index and classifier, with progress and per-step timings."""
    from cli.progress import StepProgress

    with StepProgress() as progress:
        return engine_of(workspace, progress.report)
