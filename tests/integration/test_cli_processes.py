"""Two OS processes share the durable SQLite checkpoint: one stops at review, another resumes it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO, refund_ticket


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], input=stdin, capture_output=True, text=True,
                          cwd=REPO, env=os.environ.copy(), timeout=300, check=False)


def ledger(state_dir: Path, thread: str) -> list[tuple[str, str]]:
    with sqlite3.connect(state_dir / "support.db") as conn:
        return conn.execute("SELECT action_id, action FROM ledger WHERE thread_id = ?", (thread,)).fetchall()


def test_interrupt_in_one_process_resumes_in_another_exactly_once(state_dir: Path, new_id: Any, tmp_path: Path) -> None:
    thread = new_id("P")
    ticket_file = tmp_path / "ticket.json"
    ticket_file.write_text(json.dumps(refund_ticket(thread)))

    first = cli("process", str(ticket_file), "--json")
    assert first.returncode == 0, first.stderr
    view = json.loads(first.stdout)
    assert view["status"] == "awaiting_review"
    payload = view["interrupts"][0]
    assert payload["action_request"]["action"] == "approve_support_packet"
    assert payload["config"]["allow_accept"] and payload["config"]["allow_edit"]
    assert ledger(state_dir, thread) == []

    second = cli("review", thread, "--accept", "--reviewer", "maya", "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["status"] == "completed"
    refunds = [row for row in ledger(state_dir, thread) if row[1] == "issue_refund"]
    assert len(refunds) == 1

    before = ledger(state_dir, thread)
    third = cli("review", thread, "--accept")
    assert third.returncode == 2
    assert "maya" in third.stderr and "nothing changed" in third.stderr
    assert third.stderr.count("\n") == 1  # one clear line, no traceback
    assert ledger(state_dir, thread) == before


def test_bad_input_gives_one_line_and_exit_code_2(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"subject": "hi",')
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"subject": "no body"}))
    for args in (("process", str(bad_json)), ("process", str(missing)), ("process", str(tmp_path / "nope.json")),
                 ("show", "no-such-thread"), ("review", "no-such-thread", "--accept")):
        result = cli(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith("support-agent: ") and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert "body: Field required" in cli("process", str(missing)).stderr


def test_process_reads_stdin_and_kb_search_ranks_sources() -> None:
    result = cli("kb", "search", "how many API requests per minute", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["hits"]
    assert hits[0]["id"] == "kb-api-keys-rate-limits"
    assert all(h["id"] != "kb-api-rate-limits-2024" for h in hits)
    ticket = json.dumps({"subject": "How do I set a signing order?", "body": "Can signers sign one after another?",
                         "customer_id": "cus_010"})
    piped = cli("process", "-", "--json", stdin=ticket)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["packet"]["category"] == "how_to"
