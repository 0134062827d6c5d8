"""Forgiving import: good documents in any supported format load, bad ones are reported and skipped."""

import json
from pathlib import Path

import pytest

from cli.importing import format_report, import_kb
from tests.conftest import REPO
from tools.data import DataError, load_company
from tools.playbook import GENERIC_PLAYBOOK, Playbook

GOOD = """---
id: kb-refunds
title: Refunds
kind: policy
audience: customer
owner: billing
updated_at: 2025-03-01
categories: [refund]
---
Refunds are possible within 30 days of a charge.

## Annual plans

Annual plans are refunded pro rata.
"""
BROKEN = "---\nid: kb-broken\ntitle: Broken\ntags: [unclosed\n---\nBody text.\n"
PLAIN_MD = "# Reset your password\n\nOpen Settings and choose Reset password.\n\n## If the link expired\n\nAsk for a new link.\n"
HTML = """<html><head><title>Help centre | Cancel</title><style>p {color: red}</style></head>
<body><nav><a href="/">Home</a> <a href="/help">Help</a></nav>
<h1>Cancel your subscription</h1><p>You can cancel at any
time from the Billing page.</p><h2>What happens to my data</h2><ul><li>It is kept for 30 days.</li>
<li>Then it is deleted.</li></ul><script>track()</script></body></html>"""
RECORDS = [
    {"id": "ex-1", "title": "Internal: verify the account owner", "body": "Ask for the last invoice number first.",
     "url": "https://help.example.com/ex-1"},
    {"id": "ex-2", "title": "A record without a body"},
]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A help-centre export that mixes formats and mistakes."""
    folder = tmp_path / "export"
    (folder / "guides").mkdir(parents=True)
    (folder / "refunds.md").write_text(GOOD)
    (folder / "broken.md").write_text(BROKEN)
    (folder / "guides" / "reset-password.md").write_text(PLAIN_MD)
    (folder / "cancel.html").write_text(HTML)
    (folder / "articles.jsonl").write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    (folder / "logo.png").write_bytes(b"\x89PNG")
    return folder


def test_import_keeps_the_good_documents_and_reports_the_bad_ones(export: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    report = import_kb(export, workspace)
    data = load_company(workspace)
    assert set(data.documents) == {"kb-refunds", "reset-password", "cancel", "ex-1"}
    assert report.imported == 4 and report.copied == 5 and len(report.ignored) == 1
    knowledge = workspace / "knowledge"
    assert (knowledge / "guides" / "reset-password.md").exists()  # relative paths are kept
    assert f"{knowledge / 'broken.md'}:4: invalid YAML front matter" in "\n".join(report.skipped)
    assert f"{knowledge / 'articles.jsonl'}:2: the record has no body, content or text" in report.skipped
    assert report.by_kind == {"policy": 1, "help_article": 2, "sop": 1}
    assert report.by_audience == {"customer": 3, "internal": 1}
    text = format_report(report)
    assert "Imported 4 documents" in text and "broken.md:4" in text and str(GENERIC_PLAYBOOK) in text
    assert "zero-shot" in text and "customer context is empty" in text


def test_front_matter_wins_and_missing_metadata_gets_defaults(export: Path, tmp_path: Path) -> None:
    import_kb(export, tmp_path / "ws")
    docs = load_company(tmp_path / "ws").documents
    refunds, reset = docs["kb-refunds"], docs["reset-password"]
    assert (refunds.kind, refunds.updated_at, refunds.date_source, refunds.categories) == ("policy", "2025-03-01", "document", ("refund",))
    assert refunds.paragraphs == ["Refunds are possible within 30 days of a charge.", "Annual plans are refunded pro rata."]
    assert (reset.title, reset.kind, reset.audience, reset.authority, reset.owner) == (
        "Reset your password", "help_article", "customer", "official", "support")
    assert reset.date_source == "file" and len(reset.updated_at) == 10
    assert reset.body.startswith("Open Settings")  # the H1 is the title, not a section


def test_html_becomes_markdown_with_headings(export: Path, tmp_path: Path) -> None:
    import_kb(export, tmp_path / "ws")
    cancel = load_company(tmp_path / "ws").documents["cancel"]
    assert cancel.title == "Cancel your subscription"
    assert cancel.body == ("You can cancel at any time from the Billing page.\n\n## What happens to my data\n\n"
                           "- It is kept for 30 days.\n- Then it is deleted.")
    assert "Home" not in cancel.body and "track" not in cancel.body and "color" not in cancel.body


def test_title_rule_makes_internal_documents_internal(export: Path, tmp_path: Path) -> None:
    import_kb(export, tmp_path / "ws")
    internal = load_company(tmp_path / "ws").documents["ex-1"]
    assert (internal.audience, internal.kind, internal.url) == ("internal", "sop", "https://help.example.com/ex-1")


def test_a_workspace_with_only_knowledge_uses_the_generic_playbook(export: Path, tmp_path: Path) -> None:
    report = import_kb(export, tmp_path / "ws")
    data = load_company(tmp_path / "ws")
    assert data.playbook_source == "generic" == report.playbook_source
    assert data.customers == {} and data.tickets == [] and report.zero_shot
    assert data.training_hash() == load_company(tmp_path / "ws").training_hash()
    playbook = Playbook(data.playbook)
    assert playbook.plans == ["standard"] and playbook.sla_hours("gold", "urgent") == playbook.sla_hours("standard", "urgent")
    assert {"billing", "refund", "how_to", "other"} <= set(playbook.categories)


def test_a_partial_playbook_is_completed_from_the_generic_one(export: Path, tmp_path: Path) -> None:
    import_kb(export, tmp_path / "ws")
    (tmp_path / "ws" / "playbook.yaml").write_text(
        "categories:\n  orders:\n    description: Where is my order\n"
        "sla_hours:\n  gold: {low: 8, normal: 4, high: 2, urgent: 1}\n")
    data = load_company(tmp_path / "ws")
    assert data.playbook_source == "workspace" and list(data.playbook["categories"]) == ["orders"]
    assert Playbook(data.playbook).default_plan == "gold" and data.playbook["authority_weights"]["official"] == 1.0
    (tmp_path / "ws" / "customers.jsonl").write_text('{"id": "c1", "name": "Acme", "plan": "platinum"}\n{"id": "c2"\n')
    data = load_company(tmp_path / "ws")
    assert data.customers["c1"]["plan"] == "gold"
    assert any(p.endswith("customers.jsonl:1: plan 'platinum' is not one of gold; using gold (kept)") for p in data.problems)
    assert any("customers.jsonl:2: invalid JSON" in p for p in data.problems)


def test_an_invalid_playbook_or_nothing_usable_is_an_error(export: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "broken.md").write_text(BROKEN)
    with pytest.raises(DataError, match="broken.md:4: invalid YAML front matter") as err:
        import_kb(empty, tmp_path / "ws-empty")
    assert "no usable knowledge document" in str(err.value)
    import_kb(export, tmp_path / "ws")
    with pytest.raises(DataError, match="nothing usable was imported"):  # the workspace has others, not from here
        import_kb(empty, tmp_path / "ws")
    (tmp_path / "ws" / "playbook.yaml").write_text("categories: [oops\n")
    with pytest.raises(DataError, match="playbook.yaml:1: invalid YAML"):
        load_company(tmp_path / "ws")


def test_reimport_leaves_identical_files_alone(export: Path, tmp_path: Path) -> None:
    import_kb(export, tmp_path / "ws")
    again = import_kb(export, tmp_path / "ws")
    assert (again.copied, again.unchanged, again.imported) == (0, 5, 4)


def test_json_exports_and_duplicate_ids(tmp_path: Path) -> None:
    folder = tmp_path / "ws" / "knowledge"
    folder.mkdir(parents=True)
    articles = [{"title": "Shipping times", "content": "Orders ship in 2 days.", "updated_at": "2024-06-01T10:00:00Z"},
                {"title": "Shipping times", "text": "A second article with the same title."}]
    (folder / "export.json").write_text(json.dumps({"articles": articles}, indent=2))
    data = load_company(tmp_path / "ws")
    doc = data.documents["shipping-times"]
    assert (doc.body, doc.updated_at, doc.date_source) == ("Orders ship in 2 days.", "2024-06-01", "document")
    assert data.problems == [f"{folder / 'export.json'}:8: duplicate id 'shipping-times' (also {folder / 'export.json'})"]
    assert len(data.document_hash("shipping-times")) == 64


def test_the_sample_company_is_unchanged() -> None:
    data = load_company(REPO / "data")
    assert (len(data.documents), len(data.customers), len(data.tickets), data.problems) == (63, 30, 528, [])
    assert data.playbook_source == "workspace"
    assert all(d.date_source == "document" for d in data.documents.values())
    assert Playbook(data.playbook).plans == ["free", "pro", "enterprise"]
