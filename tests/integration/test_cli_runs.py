"""The CLI's read path (store + checkpointer, no graph) sees exactly what ``SupportDesk.view`` sees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from cli.runs import RunReader
from tests.conftest import REPO, refund_ticket
from tests.integration.conftest import base_env


def same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def test_reader_views_equal_the_desk_views_before_and_after_a_decision(desk: Any, new_id: Any) -> None:
    reader = RunReader(desk.settings)
    try:
        pending = desk.submit(refund_ticket(new_id("R")))
        thread = pending["thread_id"]
        assert pending["status"] == "awaiting_review"
        assert same(reader.view(thread), desk.view(thread))
        assert reader.thread_of(pending["ticket"]["id"]) == thread
        assert same([r for r in reader.pending() if r["thread_id"] == thread], [r for r in desk.pending() if r["thread_id"] == thread])
        assert reader.acceptable(thread) is True

        desk.decide(thread, {"type": "edit", "args": {"reply": "Refunded, edited by maya."}, "reviewer": "maya"})
        done = reader.view(thread)
        assert same(done, desk.view(thread))
        assert done["status"] == "completed" and done["interrupts"] == [] and done["decisions"][0]["reviewer"] == "maya"
        sent = [json.loads(r["args"])["body"] for r in done["ledger"] if r["action"] == "send_reply"]
        assert sent == ["Refunded, edited by maya."]
    finally:
        reader.close()


def test_read_commands_on_a_new_state_directory_create_the_schema(tmp_path: Path) -> None:
    env = base_env(tmp_path / "fresh", "")
    for args in (("reviews",), ("report", "--json"), ("show", "nope")):
        result = subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, cwd=REPO, env=env,
                                timeout=120, check=False)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == (2 if args[0] == "show" else 0), (args, result.stderr)
    assert (tmp_path / "fresh" / "support.db").exists()
