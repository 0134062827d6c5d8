"""Hybrid retrieval on a small hand-made knowledge set (real embedder, real FAISS and bm25s)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tools.data import load_company
from tools.embeddings import default_embeddings
from tools.knowledge import KnowledgeBase

REPO = Path(__file__).resolve().parents[2]

DOCS: dict[str, tuple[dict[str, Any], str]] = {
    "kb-refund-policy": ({"title": "Refund policy", "kind": "policy", "authority": "official", "audience": "customer",
                          "supersedes": ["kb-refund-policy-2024"]},
                         "Annual plans can be refunded pro-rata within 30 days of the start of the term.\n\n"
                         "Monthly plans are not refunded for partial months."),
    "kb-refund-policy-2024": ({"title": "Refund policy (2024)", "kind": "policy", "authority": "official", "audience": "customer"},
                              "Refunds are possible within 14 days for any plan, monthly or annual."),
    "kb-reset-password": ({"title": "Reset your password", "kind": "help_article", "authority": "official", "audience": "customer"},
                          "To reset your password, click Forgot password on the sign-in page and follow the link we email you. "
                          "The reset link expires after one hour."),
    "kb-chargebacks": ({"title": "Disputed charges", "kind": "help_article", "authority": "official", "audience": "customer"},
                       "If you see a charge you do not recognise, contact us before disputing it with your bank."),
    "sop-chargeback-freeze": ({"title": "Chargebacks: freeze and escalate (internal)", "kind": "sop", "authority": "sop",
                               "audience": "internal"},
                              "When a card issuer opens a chargeback, the billing profile is frozen automatically. "
                              "Do not lift the freeze and do not advise the customer to withdraw the dispute. "
                              "Escalate the ticket to the billing lead with the dispute reference and the invoice number."),
    "kb-export": ({"title": "Export documents", "kind": "help_article", "authority": "official", "audience": "customer"},
                  "Export any signed document as PDF from the document menu. Large exports are emailed as a ZIP file."),
    "pt-export-timeout": ({"title": "Past ticket: export timed out", "kind": "past_ticket", "authority": "past_ticket",
                           "audience": "internal"},
                          "A customer's 400-page export timed out; splitting it into two exports worked."),
}

FILLER = ("Our team of eleven people moved offices last month and we are still unpacking boxes, setting up the new "
          "printers and arguing about the coffee machine. The quarterly planning meeting ran long again, and the "
          "marketing group wants new brochures before the trade fair in the spring. ")


def _write(root: Path) -> None:
    (root / "knowledge").mkdir(parents=True)
    for doc_id, (meta, body) in DOCS.items():
        lines = [f"id: {doc_id}", f"title: \"{meta['title']}\"", f"kind: {meta['kind']}", f"authority: {meta['authority']}",
                 f"audience: {meta['audience']}", "owner: support", "updated_at: 2026-05-01",
                 f"supersedes: [{', '.join(meta.get('supersedes', []))}]", "categories: []"]
        (root / "knowledge" / f"{doc_id}.md").write_text("---\n" + "\n".join(lines) + "\n---\n" + body + "\n")
    shutil.copy(REPO / "data" / "playbook.yaml", root / "playbook.yaml")
    (root / "customers.jsonl").write_text("")
    (root / "tickets.jsonl").write_text("")


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = tmp_path_factory.mktemp("company")
    _write(root)
    base = KnowledgeBase(load_company(root), default_embeddings(), root / "index")
    assert base.load_or_build() is True
    return base


def test_internal_procedure_for_a_long_ticket_is_returned_for_the_reviewer(kb: KnowledgeBase) -> None:
    ticket = (FILLER * 3 + "Our bank told us a chargeback was opened on invoice INV-2231 and now billing is frozen. "
              "Can you lift the freeze? We want to know what happens with the dispute.")
    result = kb.retrieve(ticket, k=3)
    assert result.internal[0].doc.id == "sop-chargeback-freeze"
    assert all(h.doc.audience == "customer" for h in result.customer)
    assert all(h.doc.audience == "internal" for h in result.internal)
    assert "kb-chargebacks" in [h.doc.id for h in result.customer]
    assert result.confident


def test_a_question_after_300_words_still_finds_its_article(kb: KnowledgeBase) -> None:
    ticket = FILLER * 7 + "Anyway, the real question: how do I reset my password? The sign-in page rejects it."
    assert len(ticket.split()) > 300
    hits, _ = kb.search(ticket, k=3)
    assert hits[0].doc.id == "kb-reset-password"
    assert hits[0].passage.startswith("To reset your password") and hits[0].section == ""


def test_superseded_document_is_replaced_by_its_successor_and_flagged(kb: KnowledgeBase) -> None:
    hits, conflicts = kb.search("Your refund policy says refunds are possible within 14 days for any plan. Still true?", k=3)
    ids = [h.doc.id for h in hits]
    assert "kb-refund-policy" in ids and "kb-refund-policy-2024" not in ids
    assert any(c["superseded"] == "kb-refund-policy-2024" and c["current"] == "kb-refund-policy" for c in conflicts)


def test_nonsense_is_not_confident(kb: KnowledgeBase) -> None:
    result = kb.retrieve("Do you sell garden furniture or lawn mowers?")
    assert not result.confident
    assert 0.0 <= result.top_score < result.threshold


def test_index_reloads_and_re_embeds_only_changed_passages(kb: KnowledgeBase, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(kb.data.root, root)
    first = KnowledgeBase(load_company(root), kb.embedder, root / "index")
    assert first.load_or_build() is False  # same content and code: loaded, not rebuilt
    doc = root / "knowledge" / "kb-export.md"
    doc.write_text(doc.read_text().replace("as a ZIP file.", "as a ZIP file within ten minutes."))
    steps: list[tuple[str, int, int]] = []
    second = KnowledgeBase(load_company(root), kb.embedder, root / "index")
    assert second.load_or_build(lambda step, done, total: steps.append((step, done, total))) is True
    assert [s for s in steps if s[0] == "embed passages"][-1][2] == 1
    assert {s[0] for s in steps} >= {"chunk", "embed passages", "bm25", "faiss"}
    hits, _ = second.search("are large exports emailed as a zip", k=1)
    assert hits[0].doc.id == "kb-export" and "ten minutes" in hits[0].passage


def test_an_index_saved_through_the_langchain_store_is_rebuilt_from_its_vectors(kb: KnowledgeBase, tmp_path: Path) -> None:
    root = tmp_path / "old"
    shutil.copytree(kb.data.root, root)
    meta_file = root / "index" / "knowledge.json"
    meta = json.loads(meta_file.read_text())
    meta["code"] = "before-tools-dense"  # an index written by the previous code
    meta_file.write_text(json.dumps(meta))
    (root / "index" / "faiss.pkl").write_bytes(b"langchain docstore")
    steps: list[tuple[str, int, int]] = []
    old = KnowledgeBase(load_company(root), kb.embedder, root / "index")
    assert old.load_or_build(lambda step, done, total: steps.append((step, done, total))) is True
    assert [s for s in steps if s[0] == "embed passages"][-1][2] == 0  # every vector came from the old index
    assert not (root / "index" / "faiss.pkl").exists()
    query = kb.embedder.embed_long(["reset link expired"])[0]
    np.testing.assert_allclose(old.dense.scores(query), kb.dense.scores(query), atol=1e-6)  # type: ignore[union-attr]
    assert [h.doc.id for h in old.search("reset link expired", k=3)[0]] == [h.doc.id for h in kb.search("reset link expired", k=3)[0]]


class _Tokens:
    """Just enough of the embedder for ranking with given vectors: every query fits one window."""

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


def test_above_the_dense_threshold_the_ranking_is_the_exact_one(tmp_path: Path) -> None:
    from tools.chunking import Passage
    from tools.data import CompanyData, Document
    from tools.dense import DenseIndex
    from tools.knowledge import EXACT_DOCS
    from tools.lexical import Lexical

    rng = np.random.default_rng(0)
    topics, docs, per_doc, dim = 30, 400, 5, 64
    words = [f"w{i}" for i in range(600)]  # topic t mostly uses words 20t..20t+19
    centres = rng.normal(size=(topics, dim))
    topic = rng.integers(0, topics, docs)
    documents, passages, rows = {}, [], []
    for d in range(docs):
        doc_id = f"doc-{d}"
        texts = [" ".join(rng.choice(words[20 * topic[d] : 20 * topic[d] + 20] + words, size=12)) for _ in range(per_doc)]
        documents[doc_id] = Document(id=doc_id, title=f"Document {d}", kind="help_article", authority="official",
                                     audience="customer" if d % 3 else "internal", owner="support", updated_at="2026-01-01",
                                     date_source="document", supersedes=(), categories=(), requires=(), body="\n\n".join(texts), path="")
        for number, text in enumerate(texts):
            passages.append(Passage(doc_id, number, "", text, f"Document {d}"))
            rows.append(centres[topic[d]] + rng.normal(scale=1.0, size=dim))
    matrix = np.array(rows, dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    data = CompanyData(root=tmp_path, playbook={"authority_weights": {"official": 1.0}}, documents=documents, customers={}, tickets=[])
    kb = KnowledgeBase(data, _Tokens(), tmp_path / "index")  # type: ignore[arg-type]
    kb.passages, kb.doc_ids = passages, list(documents)
    kb._index_rows()
    kb.lexical = Lexical.build([p.embed_text for p in passages])
    kb.lexical_docs = Lexical.build([f"{d.title}\n{d.body}" for d in documents.values()], stem=False)
    exact = DenseIndex.build(matrix)
    approximate = DenseIndex(exact.index, exact_up_to=100, candidates=20)  # 20 of 2,000 passages: most documents lack one
    assert exact.exact and not approximate.exact
    for q in range(25):
        # The words of one topic, the vector of another: documents that win on BM25 alone are far down the dense order.
        text = " ".join(rng.choice(words[20 * (q % topics) : 20 * (q % topics) + 20], size=4))
        vector = centres[(q * 7 + 3) % topics] + rng.normal(scale=1.0, size=dim)
        vector = (vector / np.linalg.norm(vector)).astype(np.float32)
        kb.dense = exact
        want, want_hits = kb._rank(text, vector)[:EXACT_DOCS], kb.retrieve(text, vector, k=4)
        kb.dense = approximate
        got, got_hits = kb._rank(text, vector)[:EXACT_DOCS], kb.retrieve(text, vector, k=4)
        assert [(doc, row) for doc, _, _, row in got] == [(doc, row) for doc, _, _, row in want]  # documents, best passages
        np.testing.assert_allclose([s for _, _, s, _ in got], [s for _, _, s, _ in want], atol=1e-6)
        assert [(h.doc.id, h.passage) for h in got_hits.customer + got_hits.internal] == \
            [(h.doc.id, h.passage) for h in want_hits.customer + want_hits.internal]
        assert got_hits.top_score == pytest.approx(want_hits.top_score, abs=1e-4)
