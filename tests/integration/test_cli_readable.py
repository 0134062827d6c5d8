"""The ``support-agent`` console script as a user runs it: plain text when piped, summaries, errors, what it loads.

Every test runs the installed console script (or ``cli.main`` in a fresh interpreter) in its own
process on a state directory that links the warm index, with stdout and stderr captured: not a
terminal, so the output must be plain text without ANSI escapes or Markdown markup.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import REPO, base_env, make_state_dir

SCRIPT = shutil.which("support-agent", path=str(Path(sys.executable).parent)) or "support-agent"
ANSI = re.compile(r"\x1b\[")
#: What only the engine needs: a read-only command that imports one of these loaded the engine.
HEAVY = ("faiss", "onnxruntime", "sklearn", "tools.engine", "tools.embeddings", "graph.builder")
EDITED = "Hi Anjali, we erased your personal data today; backups expire within 35 days. (edited by maya)"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, warm_index: Path) -> dict[str, str]:
    environment = base_env(make_state_dir(tmp_path_factory, warm_index, "cli-readable"), "")
    for name in ("FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        environment.pop(name, None)  # a user who pipes the output asked for nothing special
    return environment


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
                          check=False)


def plain(text: str) -> None:
    assert not ANSI.search(text), "ANSI escape codes in piped output"
    assert "**" not in text and "\\_" not in text and "### " not in text, "raw Markdown in piped output"


@pytest.fixture(scope="module")
def batch(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """The first seven sample tickets and one bad line, through ``batch``."""
    lines = (REPO / "data" / "sample_tickets.jsonl").read_text(encoding="utf-8").splitlines()[:7]
    path = tmp_path_factory.mktemp("batch") / "tickets.jsonl"
    path.write_text("\n".join([*lines, '{"subject": "no body"}']) + "\n", encoding="utf-8")
    return run(env, "batch", str(path))


def test_version_comes_from_the_installed_package(env: dict[str, str]) -> None:
    result = run(env, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"support-agent {version('support-desk-agent')}"


def test_batch_prints_progress_on_stderr_and_a_summary_on_stdout(batch: subprocess.CompletedProcess[str]) -> None:
    assert batch.returncode == 2  # one line was bad
    assert "processing tickets" in batch.stderr and "7/8" not in batch.stdout
    assert re.search(r"tickets\.jsonl:8: invalid ticket: body: Field required", batch.stderr)
    assert "Traceback" not in batch.stderr
    out = batch.stdout
    plain(out)
    assert re.search(r"processed\s+7\b", out) and re.search(r"awaiting review\s+\d", out) and re.search(r"errors\s+1\b", out)
    assert re.search(r"refund\s+4\s+4", out), out  # by category: tickets, awaiting review
    assert "Customer message" not in out and "Draft reply" not in out  # no packets without --verbose
    assert out.rstrip().splitlines()[-1] == "1 line(s) skipped: see stderr."


def test_batch_json_is_one_line_per_ticket(env: dict[str, str], batch: subprocess.CompletedProcess[str], tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    path.write_text("\n".join((REPO / "data" / "sample_tickets.jsonl").read_text().splitlines()[:2]) + "\n")
    result = run(env, "batch", str(path), "--json")
    assert result.returncode == 0, result.stderr
    views = [json.loads(line) for line in result.stdout.splitlines()]
    assert [v["thread_id"] for v in views] == ["S-001", "S-002"] and all(v["packet"] for v in views)
    verbose = run(env, "batch", str(path), "--verbose")
    assert verbose.returncode == 0, verbose.stderr
    plain(verbose.stdout)
    assert verbose.stdout.count("Customer message") == 2 and re.search(r"processed\s+2\b", verbose.stdout)


def _rows(table: str) -> dict[str, str]:
    """Table rows by thread id, with their wrapped continuation lines joined."""
    rows: dict[str, str] = {}
    current = None
    for line in table.splitlines():
        if re.match(r"S-\d{3}\s", line):
            current = line.split()[0]
            rows[current] = line
        elif current and line.startswith(" ") and line.strip():
            rows[current] += " " + line.strip()
        else:
            current = None
    return rows


def test_reviews_show_time_left_and_every_flag(env: dict[str, str], batch: subprocess.CompletedProcess[str]) -> None:
    pending = json.loads(run(env, "reviews", "--json").stdout)
    result = run(env, "reviews")
    assert result.returncode == 0, result.stderr
    plain(result.stdout)
    rows = _rows(result.stdout)
    assert set(rows) == {r["thread_id"] for r in pending}
    assert max(len(r["risk_flags"]) for r in pending) > 4  # the old table showed four
    for r in pending:
        shown = set(re.split(r"[\s,]+", rows[r["thread_id"]]))
        assert set(r["risk_flags"]) <= shown, (r["risk_flags"], rows[r["thread_id"]])
        assert re.search(r"(\d+ [dhm] ?)+(\d+ m )?left|overdue", rows[r["thread_id"]]), rows[r["thread_id"]]
        assert f"SLA {r['sla_hours']:g} h" not in rows[r["thread_id"]]


def test_show_after_an_edit_prints_what_was_sent_and_who_decided(env: dict[str, str], batch: subprocess.CompletedProcess[str],
                                                                 tmp_path: Path) -> None:
    before = run(env, "show", "S-007")
    assert before.returncode == 0, before.stderr
    plain(before.stdout)
    assert "Draft reply" in before.stdout and "awaiting review" in before.stdout
    draft = json.loads(run(env, "show", "S-007", "--json").stdout)["packet"]["draft_reply"]
    edit = tmp_path / "edit.json"
    edit.write_text(json.dumps({"reply": EDITED}))
    decided = run(env, "review", "S-007", "--edit", str(edit), "--reviewer", "maya")
    assert decided.returncode == 0, decided.stderr
    plain(decided.stdout)

    shown = run(env, "show", "S-007")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    plain(out)
    assert EDITED in " ".join(out.split())  # the sent text, as rich wrapped it
    assert "Reply sent to anjali.menon@greenleaftutoring.com.au (edited by maya)" in out
    assert draft.splitlines()[2].split(".")[0] not in out  # the agent's draft is not shown as if it were sent
    decisions = out.split("Decisions", 1)[1]
    assert re.search(r"\d{4}-\d\d-\d\dT\S+\s+maya\s+edited\s+reply edited", decisions), decisions
    ledger = out.split("Ledger", 1)[1]
    assert "a4-send_reply" in ledger and "send_reply" in ledger and "outbox_id 1" in ledger
    assert "Status: completed" in out


def test_bad_arguments_are_one_line_and_exit_2(env: dict[str, str], batch: subprocess.CompletedProcess[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    for args in (("review", "S-001", "--respond", ""), ("review", "S-001", "--respond", "   "), ("review", "S-001", "--edit", str(bad)),
                 ("review", "S-001", "--edit", str(tmp_path / "missing.json")), ("review", "S-001"), ("review", "nope", "--accept"),
                 ("show", "nope"), ("show", "S-001", "--workspace", "nope"), ("reviews", "--workspace", "nope"),
                 ("report", "--workspace", "nope"), ("batch", str(tmp_path / "missing.jsonl")), ("kb", "search", "refund", "-k", "0"),
                 ("retention", "--older-than", "-1"), ("frobnicate",)):
        result = run(env, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("support-agent") and result.stderr.count("\n") == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr and result.stdout == "", args
    assert "--respond" in run(env, "review", "S-001", "--respond", "").stderr
    assert json.loads(run(env, "show", "S-001", "--json").stdout)["status"] == "awaiting_review"  # nothing was decided


CHECK = f"""
import json, sys
from cli.main import main
code = main(sys.argv[1:])
print(json.dumps({{"code": code, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [("reviews",), ("show", "S-001"), ("report",), ("reviews", "--json"), ("show", "S-007", "--json")])
def test_read_only_commands_do_not_load_the_engine(env: dict[str, str], batch: subprocess.CompletedProcess[str],
                                                   args: tuple[str, ...]) -> None:
    result = subprocess.run([sys.executable, "-c", CHECK, *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
                            check=False)
    report: dict[str, Any] = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": []}, result.stderr


def test_the_import_check_sees_the_engine_when_a_command_loads_it(env: dict[str, str], batch: subprocess.CompletedProcess[str]) -> None:
    result = subprocess.run([sys.executable, "-c", CHECK, "process", "-", "--json"], capture_output=True, text=True, cwd=REPO,
                            env=env, timeout=300, check=False, input=json.dumps({"id": "S-001", "subject": "x", "body": "y"}))
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["code"] == 0 and {"faiss", "onnxruntime", "tools.engine"} <= set(report["loaded"]), result.stderr


def test_a_database_that_does_not_answer_is_one_line_not_a_traceback(env: dict[str, str]) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = {**env, "SUPPORT_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/test", "SUPPORT_QUEUE": "procrastinate",
            "SUPPORT_DB_TIMEOUT_S": "2"}
    for args in (("reviews",), ("worker", "--once")):
        done = run(down, *args)
        assert done.returncode == 69, (args, done.stderr[-1500:])
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "the database does not answer" in lines[0] and str(port) in lines[0], done.stderr
        assert "Traceback" not in done.stderr
