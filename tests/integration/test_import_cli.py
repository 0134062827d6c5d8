"""A team's first hour: ``support-agent import kb`` on a messy export, then ``kb search`` (real CLI processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=600, check=False)


def messy_export(root: Path) -> Path:
    """Good Markdown, broken front matter, no front matter, HTML, and an empty document."""
    root.mkdir()
    (root / "pairing-the-scanner.md").write_text(
        "---\nid: pairing-the-scanner\ntitle: Pairing the scanner\nkind: help_article\naudience: customer\n"
        "updated_at: 2026-05-04\n---\n# Pairing the scanner\n\nHold the power button for five seconds until the light "
        "blinks blue, then choose the scanner in the app under Devices.\n")
    (root / "broken.md").write_text("---\ntitle: [unclosed\nkind: help_article\n---\nSome body text here.\n")
    (root / "refund-timeline.md").write_text(
        "# How long refunds take\n\nRefunds reach your card within five to ten business days after we approve them.\n")
    (root / "shipping.html").write_text(
        "<html><head><title>Shipping times</title></head><body><nav>Home | Help</nav><h1>Shipping times</h1>"
        "<h2>Domestic orders</h2><p>Domestic orders arrive within two business days of dispatch.</p>"
        "<h2>International orders</h2><p>Parcels sent abroad take six to ten business days and may incur customs fees."
        "</p></body></html>")
    (root / "empty.md").write_text("---\ntitle: Empty\n---\n")
    return root


def test_import_skips_bad_documents_reports_them_and_search_works(tmp_path: Path) -> None:
    env = {**os.environ, "SUPPORT_STATE_DIR": str(tmp_path / "state"), "ORT_DISABLE_TELEMETRY": "1"}
    export = messy_export(tmp_path / "export")

    done = cli(env, "import", "kb", str(export), "--workspace", "scanners")
    assert done.returncode == 0, done.stderr
    assert "broken.md" in done.stderr and "front matter" in done.stderr  # file and reason
    assert "empty.md" in done.stderr
    assert "imported" in done.stdout.lower() and "3" in done.stdout

    listed = cli(env, "workspace", "list", "--json")
    assert "scanners" in {w["id"] for w in json.loads(listed.stdout)}

    found = cli(env, "kb", "search", "how many days until international parcels arrive", "--workspace", "scanners",
                "--json", "-k", "3")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert hits[0]["id"] == "shipping"
    assert "International orders" not in hits[0]["passage"] and "customs" in hits[0]["passage"]
    assert {h["id"] for h in hits} <= {"shipping", "refund-timeline", "pairing-the-scanner"}


def test_import_of_nothing_usable_fails_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "SUPPORT_STATE_DIR": str(tmp_path / "state"), "ORT_DISABLE_TELEMETRY": "1"}
    export = tmp_path / "bad"
    export.mkdir()
    (export / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    done = cli(env, "import", "kb", str(export), "--workspace", "empty-co")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "broken.md" in done.stderr


def test_unknown_workspace_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "SUPPORT_STATE_DIR": str(tmp_path / "state"), "ORT_DISABLE_TELEMETRY": "1"}
    done = cli(env, "kb", "search", "hello", "--workspace", "nope")
    assert done.returncode == 2 and "unknown workspace 'nope'" in done.stderr and "Traceback" not in done.stderr
