"""Retention drops the checkpoints of finished runs and keeps what people read: packet, decisions, ledger."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, refund_ticket

pytestmark = pytest.mark.integration


def test_retention_archives_finished_runs_only(desk: Any, new_id: Any, state_dir: Path) -> None:
    done_id, open_id = new_id("R"), new_id("R")
    view = desk.submit(refund_ticket(done_id))
    finished = desk.decide(done_id, {"type": "accept", "reviewer": "maya"}, interrupt_id=view["interrupts"][0]["id"])
    assert finished["status"] == "completed"
    desk.submit(refund_ticket(open_id))

    out = subprocess.run([sys.executable, "-m", "cli.main", "retention", "--older-than", "0", "--json"], cwd=REPO,
                         env={**os.environ, "SUPPORT_STATE_DIR": str(state_dir)}, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert done_id in report["threads"] and open_id not in report["threads"]
    assert report["bytes_per_ticket_after"] < report["bytes_per_ticket_before"]

    assert list(desk.checkpointer.list(desk.config(done_id))) == []  # the checkpoints are gone …
    kept = desk.view(done_id)  # … and the run is still readable
    assert kept["archived"] and kept["status"] == "completed"
    assert kept["packet"] == finished["packet"] and kept["decisions"] == finished["decisions"]
    assert [r["action_id"] for r in kept["ledger"]] == [r["action_id"] for r in finished["ledger"]]
    again = desk.submit(refund_ticket(done_id))  # a retried submit does not run the ticket twice
    assert again["archived"] and len(again["ledger"]) == len(finished["ledger"])
    assert desk.view(open_id)["status"] == "awaiting_review"  # pending reviews are never pruned
