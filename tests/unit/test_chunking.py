"""Passages: heading paths as context (never as text), window-sized, no fragments."""

from __future__ import annotations

import pytest

from tools.chunking import chunk_document, is_heading_line, sections
from tools.embeddings import MAX_TOKENS, MiniLMEmbeddings

MARKDOWN = """# Refunds

Refunds are reviewed by the billing team within two business days of the request.

## Annual plans

Annual plans can be refunded pro-rata within 30 days of the start of the term.

### Need help?

No.

## Monthly plans

Monthly plans are not refunded for partial months, and access continues until the end of the month.
"""

FLAT = """Apply for benefits online

How to apply
You can apply online at any time of the day. It takes about 30 minutes and you can save your work.

What you need
Bring your birth certificate and your Social Security number. A copy is fine when it is certified.

Need help?
"""


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbeddings:
    return MiniLMEmbeddings()


def _count(embedder: MiniLMEmbeddings):  # type: ignore[no-untyped-def]
    return lambda texts: [len(ids) for ids in embedder.token_ids(texts)]


def test_markdown_headings_become_the_section_path_and_never_the_text(embedder: MiniLMEmbeddings) -> None:
    passages = chunk_document("kb-refunds", "Refund policy", MARKDOWN, _count(embedder))
    assert [p.section for p in passages] == ["Refunds", "Refunds › Annual plans", "Refunds › Monthly plans"]
    for passage in passages:
        assert "#" not in passage.text and "Need help?" not in passage.text.splitlines()[0]
        assert passage.embed_text.startswith(f"Refund policy › {passage.section}: ")
    # "No." under a heading-only "Need help?" is a fragment: merged, not a passage of its own.
    assert all(len(p.text.split()) >= 5 for p in passages)
    assert passages[1].text.endswith("No.")


def test_flat_export_sections_are_detected(embedder: MiniLMEmbeddings) -> None:
    passages = chunk_document("ssa-apply", "Apply for benefits", FLAT, _count(embedder))
    # The heading-only first block groups the sections after it.
    assert [p.section for p in passages] == ["Apply for benefits online › How to apply", "Apply for benefits online › What you need"]
    assert passages[0].text.startswith("You can apply online")
    assert not any("How to apply" in p.text or "What you need" in p.text for p in passages)
    # The trailing "Need help?" is a fragment: merged into the last passage, never a passage of its own.
    assert len(passages) == 2 and passages[1].text.startswith("Bring your birth certificate")


def test_group_heading_blocks_prefix_the_following_sections() -> None:
    units = sections("Guide", "Protect your licence\n\nThe process\nA representative calls you first. Then an inspector visits.")
    assert units == [(("Protect your licence", "The process"), "A representative calls you first. Then an inspector visits.")]


def test_long_sections_fit_the_window_and_split_at_sentences_with_overlap(embedder: MiniLMEmbeddings) -> None:
    sentences = [f"Step {i} of the export asks you to confirm the destination folder and the file format." for i in range(80)]
    body = "## Exporting\n\n" + " ".join(sentences)
    passages = chunk_document("kb-export", "Exporting documents", body, _count(embedder))
    assert len(passages) > 3
    for passage in passages:
        assert embedder.count_tokens(passage.embed_text) <= MAX_TOKENS
        assert passage.text.endswith(".") and passage.text.startswith("Step ")
    first_tail = passages[0].text.rsplit(". ", 1)[-1]
    assert passages[1].text.startswith(first_tail.rstrip("."))  # one sentence of overlap


def test_heading_line_rules() -> None:
    assert is_heading_line("The Complaint Process")
    assert not is_heading_line("No.")
    assert not is_heading_line("- a list item")
    assert not is_heading_line("You will need:")
