"""Loading a company export: the sample validates; broken files and lines are reported (file:line: reason) and skipped."""

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tools.data import DataError, load_company


def test_sample_company_meets_the_spec() -> None:
    data = load_company(REPO / "data")
    assert len(data.documents) >= 40
    assert len(data.customers) >= 25
    assert len(data.tickets) >= 150
    superseded = {old for d in data.documents.values() for old in d.supersedes}
    assert len(superseded) >= 3
    assert {d.audience for d in data.documents.values()} == {"customer", "internal"}


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(REPO / "data", target)
    return target


def test_invalid_files_are_reported_with_file_line_and_reason_and_skipped(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    with (root / "tickets.jsonl").open("a") as f:
        f.write('{"id": "T-bad", "subject": "x"\n')
        f.write('{"id": "T-bad2", "subject": "x", "body": "y", "category": "astrology"}\n')
    (root / "knowledge" / "kb-broken.md").write_text("---\nid: kb-broken\ntitle: Broken\nkind: wiki\n---\nBody\n")
    data = load_company(root)
    problems = "\n".join(data.problems)
    lines = len((root / "tickets.jsonl").read_text().splitlines())
    assert f"tickets.jsonl:{lines - 1}: invalid JSON" in problems
    assert f"tickets.jsonl:{lines}: unknown category 'astrology'" in problems
    assert "kb-broken.md:4: kind 'wiki' is not one of help_article, policy" in problems
    assert "kb-broken" not in data.documents and len(data.documents) == 63 and len(data.tickets) == 528


def test_supersedes_an_unknown_document_is_reported_and_dropped(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    doc = root / "knowledge" / "kb-refund-policy.md"
    doc.write_text(doc.read_text().replace("supersedes: [kb-refund-policy-2024]", "supersedes: [kb-nope]"))
    data = load_company(root)
    assert any("kb-refund-policy.md:1: supersedes unknown document 'kb-nope'" in p for p in data.problems)
    assert data.documents["kb-refund-policy"].supersedes == ()


def test_no_usable_knowledge_is_an_error(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    shutil.rmtree(root / "knowledge")
    with pytest.raises(DataError, match="no usable knowledge document"):
        load_company(root)
