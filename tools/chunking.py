"""Passages: documents cut along their heading structure, sized to the embedder window.

Two kinds of structure are read:

- Markdown heading lines (``#`` … ``######``) give a heading path (a stack by level).
- Flat exports (doc2dial, many help-centre dumps): a blank-line-separated block whose first
  line is a short heading line (no terminal punctuation, not a list item) followed by more
  lines is a section with that heading; a block that is only such a line is a group heading
  for the sections after it.

The heading path is context, not content: it is prepended for embedding
(``"Title › Section › Sub: text"``) and returned as the passage's ``section``, and it is
never part of the passage text that drafts quote. Each paragraph is a passage that fits
the window (tokens counted with the model tokenizer, context included); a longer one is
split at sentence boundaries with a one-sentence overlap.
Fragments shorter than a sentence ("No.", "Need help?") are merged into a neighbour.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: Counts model tokens (without [CLS]/[SEP]) of each text.
Counter = Callable[[list[str]], list[int]]

SEPARATOR = " › "
MIN_WORDS = 5  # a unit with fewer words is a fragment, not a sentence
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_START = re.compile(r"^\s*([-*+>|]|\d+[.)])\s")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


def chunking_version() -> str:
    """Hash of this module's code: part of the index key, so changed chunking rebuilds."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class Passage:
    """One retrieval unit of a document."""

    doc_id: str
    number: int
    section: str  # heading path without the title, " › "-joined ("" when none)
    text: str  # heading-free text (what a draft may quote)
    context: str  # title and heading path, prepended for embedding

    @property
    def embed_text(self) -> str:
        """The text the embedder sees."""
        return f"{self.context}: {self.text}" if self.context else self.text


def is_heading_line(line: str, max_words: int = 14) -> bool:
    """A short line without terminal punctuation that is not a list item or a table row."""
    line = line.strip()
    words = line.split()
    return (0 < len(words) <= max_words and len(line) <= 10 * max_words and line[-1] not in ".!?;,:"
            and not _LIST_START.match(line) and any(c.isalpha() for c in line))


def _same(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()
    return norm(a) == norm(b)


def sections(title: str, body: str) -> list[tuple[tuple[str, ...], str]]:
    """The body as ``(heading path, paragraph)`` units in order (heading-only sections give no unit)."""
    units: list[tuple[tuple[str, ...], str]] = []
    stack: list[tuple[int, str]] = []  # Markdown headings by level
    group: list[str] = []  # flat heading-only blocks in a row
    flat: str = ""  # the current flat section heading
    group_closed = False
    for block in re.split(r"\n\s*\n", body):
        lines: list[str] = []
        for line in block.splitlines():
            match = _MD_HEADING.match(line.strip())
            if match:
                if lines:
                    units.append((_path(title, stack, group, flat), "\n".join(lines)))
                    lines = []
                level = len(match.group(1))
                stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, match.group(2))]
                group, flat, group_closed = [], "", False
            elif line.strip():
                lines.append(line.rstrip())
        if not lines:
            continue
        if len(lines) == 1 and is_heading_line(lines[0], max_words=20):
            if group_closed:
                group, group_closed = [], False
            group = [*group[-1:], lines[0].strip()]
            flat = ""
            continue
        if len(lines) > 1 and is_heading_line(lines[0]):
            flat, lines = lines[0].strip(), lines[1:]
        group_closed = True
        units.append((_path(title, stack, group, flat), "\n".join(lines)))
    return units


def _path(title: str, stack: list[tuple[int, str]], group: list[str], flat: str) -> tuple[str, ...]:
    parts = [h for _, h in stack] + group + ([flat] if flat else [])
    return tuple(p for p in dict.fromkeys(parts) if p and not _same(p, title))


def _merge_fragments(units: list[tuple[tuple[str, ...], str]]) -> list[tuple[tuple[str, ...], str]]:
    merged: list[tuple[tuple[str, ...], str]] = []
    pending = ""  # fragments before the first real unit
    for path, text in units:
        if len(text.split()) < MIN_WORDS:
            if merged:
                merged[-1] = (merged[-1][0], f"{merged[-1][1]}\n{text}")
            else:
                pending = f"{pending}\n{text}".strip()
            continue
        merged.append((path, f"{pending}\n{text}".strip() if pending else text))
        pending = ""
    if pending:
        merged.append(((), pending))  # the whole document is a fragment: keep it rather than lose it
    return merged


def chunk_document(doc_id: str, title: str, body: str, count: Counter, window: int = 256) -> list[Passage]:
    """Cut one document into passages whose embed text fits ``window`` model tokens.

    One paragraph (or flat section) per passage: packing a section's paragraphs together
    lowered dense recall@5 on the sample company from 0.787 to 0.748, and a paragraph is
    also the span a draft should quote.

    Args:
        doc_id: The document id (stored on each passage).
        title: The document title (first part of the context).
        body: Markdown or flat text.
        count: Token counter of the embedder (without special tokens).
        window: The embedder window including [CLS]/[SEP].
    """
    units = _merge_fragments(sections(title, body))
    out: list[Passage] = []
    fitted: dict[tuple[str, ...], tuple[str, int]] = {}
    for path, text in units:
        if path not in fitted:
            fitted[path] = _fit_context(title, path, count, window // 3)
        context, tokens = fitted[path]
        budget = window - 3 - tokens  # [CLS], [SEP] and ": "
        for piece, _ in split_text(text, count, budget):
            out.append(Passage(doc_id, len(out), SEPARATOR.join(path), piece, context))
    return out


def _fit_context(title: str, path: tuple[str, ...], count: Counter, limit: int) -> tuple[str, int]:
    """The context (title › path) in at most ``limit`` tokens: inner headings go first, then words."""
    for candidate in (SEPARATOR.join((title, *path)), SEPARATOR.join((title, *path[-1:])), title):
        (tokens,) = count([candidate])
        if tokens <= limit:
            return candidate, tokens
    words = title.split()
    while len(words) > 1 and count([" ".join(words)])[0] > limit:
        words = words[: len(words) * 2 // 3]
    return " ".join(words), count([" ".join(words)])[0]


def split_text(text: str, count: Counter, budget: int) -> list[tuple[str, int]]:
    """``text`` as pieces of at most ``budget`` tokens, cut at sentences with a one-sentence overlap."""
    (total,) = count([text])
    if total <= budget:
        return [(text, total)]
    sentences = [s for s in _SENTENCE.split(text.replace("\n", " ")) if s.strip()]
    sizes = count(sentences)
    expanded: list[tuple[str, int]] = []
    for sentence, size in zip(sentences, sizes, strict=True):
        expanded.extend(_split_words(sentence, count, budget) if size > budget else [(sentence, size)])
    pieces: list[tuple[str, int]] = []
    start = 0
    while start < len(expanded):
        end, tokens = start, 0
        while end < len(expanded) and tokens + expanded[end][1] <= budget:
            tokens += expanded[end][1]
            end += 1
        end = max(end, start + 1)
        pieces.append((" ".join(s for s, _ in expanded[start:end]), tokens or expanded[start][1]))
        if end >= len(expanded):
            break
        # Overlap: the next piece repeats the last sentence when it is short enough to leave room.
        start = end - 1 if end - 1 > start and expanded[end - 1][1] <= budget // 4 else end
    return pieces


def _split_words(sentence: str, count: Counter, budget: int) -> list[tuple[str, int]]:
    words = sentence.split()
    sizes = count(words)
    out: list[tuple[str, int]] = []
    chunk: list[str] = []
    tokens = 0
    for word, size in zip(words, sizes, strict=True):
        if chunk and tokens + size > budget:
            out.append((" ".join(chunk), tokens))
            chunk, tokens = [], 0
        chunk.append(word)
        tokens += size
    if chunk:
        out.append((" ".join(chunk), tokens))
    return out
