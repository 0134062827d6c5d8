"""Validators for model-written text: citations, internal leaks and promises.

Each check returns a list of problems in plain words (empty = valid). The words are sent
back to the model on its one retry, so they say what to change, not just what failed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

from tools.data import Document

CITATION = re.compile(r"\[([A-Za-z0-9][\w.:/-]*)\]")
WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
SHINGLE = 8

#: A commitment ("we will", "you'll receive", "guarantee") …
COMMIT = re.compile(
    r"\b(we(?:'ll|’ll| will| shall| are going to| have (?:issued|processed|approved|applied))|i(?:'ll|’ll| will)"
    r"|you(?:'ll|’ll| will) (?:receive|get|be (?:refunded|credited|compensated|reimbursed))|guarantee|promise)\b",
    re.I,
)
#: … about money …
MONEY = re.compile(r"\b(refund|credit|reimburs|compensat|money back|discount|free (?:month|months|upgrade)|waive)", re.I)
#: … or about a date.
DATE = re.compile(
    r"\b(today|tomorrow|tonight|by (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|end of (?:day|week|month))"
    r"|within \d+ ?(?:hours?|h|days?|business days?|weeks?)|in \d+ ?(?:hours?|days?|business days?|weeks?)"
    r"|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|\d{4}-\d{2}-\d{2}"
    r"|(?:january|february|march|april|may|june|july|august|september|october|november|december) \d{1,2})\b",
    re.I,
)


def citations_of(text: str) -> list[str]:
    """Source ids cited inline as ``[doc-id]``, in order of first use."""
    return list(dict.fromkeys(CITATION.findall(text)))


def check_citations(text: str, retrieved: Collection[str], documents: Mapping[str, Document],
                    superseded: Collection[str]) -> list[str]:
    """Each citation must be an existing, current, customer-facing source retrieved for this ticket."""
    problems = []
    for cited in citations_of(text):
        doc = documents.get(cited)
        if doc is None:
            problems.append(f"[{cited}] is not a document; cite only these ids: {', '.join(sorted(retrieved)) or 'none'}.")
        elif cited in superseded:
            problems.append(f"[{cited}] is outdated (superseded); do not cite it.")
        elif doc.audience != "customer":
            problems.append(f"[{cited}] is internal-only; never cite or quote it to a customer.")
        elif cited not in retrieved:
            problems.append(f"[{cited}] was not retrieved for this ticket; cite only: {', '.join(sorted(retrieved)) or 'none'}.")
    return problems


def shingles(text: str, n: int = SHINGLE) -> set[tuple[str, ...]]:
    """Every run of ``n`` consecutive words (lower case, punctuation ignored)."""
    words = WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def check_internal_copy(text: str, internal: Iterable[Document]) -> list[str]:
    """No run of 8 words may be copied from an internal-only document."""
    mine = shingles(text)
    problems = []
    for doc in internal:
        shared = mine & shingles(doc.body)
        if shared:
            example = " ".join(sorted(shared)[0])
            problems.append(f"The reply copies internal-only text from {doc.id} (e.g. \"{example}\"); "
                            "do not quote internal notes, write for the customer instead.")
    return problems


def sentences(text: str) -> list[str]:
    """The sentences of a text (line breaks also end one)."""
    return [s.strip() for s in SENTENCE.split(text) if s.strip()]


def check_promises(text: str, allow_money: bool = False, quoted: Collection[str] = ()) -> list[str]:
    """No refund, credit, compensation or date promise, unless an approved action makes it.

    A sentence quoted verbatim from a customer-facing source (``quoted``) states policy,
    not a promise, and is allowed.
    """
    problems = []
    policy = {CITATION.sub("", s).strip() for s in quoted}
    for sentence in sentences(text):
        plain = CITATION.sub("", sentence).strip()
        if plain in policy or not COMMIT.search(plain):
            continue
        if MONEY.search(plain) and not allow_money:
            problems.append(f"\"{plain}\" promises money (refund/credit/compensation); only billing can decide that — "
                            "say the request is being reviewed instead.")
        elif DATE.search(plain):
            problems.append(f"\"{plain}\" promises a date or deadline; do not commit to timing.")
    return problems


def validate_reply(text: str, *, retrieved: Collection[str], documents: Mapping[str, Document],
                   superseded: Collection[str], allow_money: bool = False) -> list[str]:
    """All checks on a customer-facing reply; an empty list means it may be shown to a reviewer."""
    customer_sentences = [s for d in retrieved if (doc := documents.get(d)) and doc.audience == "customer"
                          for s in sentences(doc.body)]
    internal = [d for d in documents.values() if d.audience != "customer" and d.kind != "macro"]
    return (check_citations(text, retrieved, documents, superseded)
            + check_internal_copy(text, internal)
            + check_promises(text, allow_money, customer_sentences))
