"""Shared fixtures: one warm state directory (index + classifier built once per session)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ["LANGSMITH_TRACING"] = "false"
os.environ["LANGCHAIN_TRACING_V2"] = "false"
_STATE = Path(tempfile.mkdtemp(prefix="support-agent-tests-"))
os.environ["SUPPORT_STATE_DIR"] = str(_STATE)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def state_dir() -> Path:
    """The session's state directory (also in ``SUPPORT_STATE_DIR`` for subprocesses)."""
    return _STATE


@pytest.fixture(scope="session")
def desk(state_dir: Path) -> Any:
    """A SupportDesk on the bundled sample company with a SQLite checkpointer."""
    from api.service import SupportDesk
    from tools.settings import Settings

    return SupportDesk(Settings(state_dir=state_dir, data_dir=REPO / "data"))


@pytest.fixture
def new_id() -> Iterator[Any]:
    """Unique ticket ids so tests never collide on a thread."""
    yield lambda prefix="T": f"{prefix}-{uuid.uuid4().hex[:10]}"


def refund_ticket(ticket_id: str, body: str | None = None) -> dict[str, str]:
    """A refund request from a pro customer with invoice number and reason."""
    return {
        "id": ticket_id,
        "customer_id": "cus_004",
        "subject": "Refund for a duplicate charge",
        "body": body or "We were charged twice for invoice INV-20417 this month ($49). Please refund the duplicate charge.",
    }
