"""Start-up time of the read-only CLI commands (reviews, show, report) versus ``process``, measured in one run.

Each command runs as its own ``support-agent`` process (wall time from spawn to exit, median of
``--rounds``) on a temporary state directory that links the repository's built index and holds
the sample tickets. ``process`` loads the engine (embedder, FAISS index, classifier); the
read-only commands read the store and the checkpointer only, so they should start in well under
a second.

    python benchmarks/cli_startup.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = shutil.which("support-agent", path=str(Path(sys.executable).parent)) or "support-agent"


def timed(env: dict[str, str], *args: str, stdin: str | None = None) -> float:
    """Wall seconds of one ``support-agent`` process (it must succeed)."""
    start = time.perf_counter()
    subprocess.run([SCRIPT, *args], input=stdin, env=env, cwd=REPO, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def main() -> None:
    """Prepare a state directory, time each command, print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs per command (the median is shown)")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="cli-startup-"))
    for index in (REPO / ".support-agent" / "index", REPO / ".pytest_cache" / "d" / "support-desk-index"):
        if index.is_dir():  # reuse a built index instead of building one (minutes)
            (state / "index").symlink_to(index, target_is_directory=True)
            break
    env = {**os.environ, "SUPPORT_STATE_DIR": str(state), "ORT_DISABLE_TELEMETRY": "1", "LANGSMITH_TRACING": "false"}
    tickets = (REPO / "data" / "sample_tickets.jsonl").read_text(encoding="utf-8").splitlines()
    print(f"preparing {state} (batch of {len(tickets)} sample tickets) …", file=sys.stderr)
    timed(env, "batch", str(REPO / "data" / "sample_tickets.jsonl"))
    commands = {"reviews": ("reviews",), "show S-001": ("show", "S-001"), "report": ("report",),
                "process (known ticket)": ("process", "-")}
    results = {}
    for name, argv in commands.items():
        stdin = tickets[0] if argv[-1] == "-" else None
        results[name] = statistics.median(timed(env, *argv, stdin=stdin) for _ in range(args.rounds))
    base = results["process (known ticket)"]
    print(f"{'command':<24} {'median s':>9} {'vs process':>11}")
    for name, seconds in results.items():
        print(f"{name:<24} {seconds:>9.3f} {seconds / base:>10.2f}x")
    shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
