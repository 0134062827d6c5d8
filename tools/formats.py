"""Readers for knowledge files: Markdown (with or without front matter), HTML, plain text, JSON, JSONL.

Each reader turns one file into :class:`RawDoc` records (the metadata as found, a Markdown-like
body whose headings are ``#`` lines, and the line the document starts on) and reports what it
cannot read as ``file:line: reason``. Ids, defaults and vocabularies are decided by ``tools.data``.

HTML is converted with the standard library's ``html.parser``: the venv has no HTML library
(no beautifulsoup4, html2text or markdownify), and headings, paragraphs and list items are all
the retrieval needs, so a ~60-line converter beats a new dependency.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
            ".txt": "text", ".json": "json", ".jsonl": "jsonl"}
LIST_KEYS = ("articles", "documents", "items", "data")
BODY_KEYS = ("body", "content", "text", "body_html", "html")
_SEPARATORS = re.compile(r"[\s,]*")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?)^---[ \t]*$\n?", re.S | re.M)


@dataclass
class RawDoc:
    """One document as read from a file, before defaults and checks."""

    meta: dict[str, Any]  # front matter or export record keys, as found (title, id, updated_at, ...)
    body: str  # Markdown-like text
    line: int  # where the document starts in its file (for problem reports)
    title_hint: str = ""  # title taken from the content (leading H1, <h1>/<title>, first line)
    record: bool = False  # from a JSON/JSONL export: a missing id is a slug of the title
    key_lines: dict[str, int] = field(default_factory=dict)  # front-matter key -> its line


def document_date(value: Any) -> str | None:
    """An ISO date from a YAML date, a datetime or a string starting with ``YYYY-MM-DD``; else None."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    match = re.match(r"\s*(\d{4}-\d{2}-\d{2})", str(value or ""))
    try:
        return date.fromisoformat(match.group(1)).isoformat() if match else None
    except ValueError:
        return None


def yaml_error(exc: yaml.YAMLError) -> tuple[int, str]:
    """``(1-based line, reason)`` of a YAML error; the line is where the broken construct starts."""
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    reason = " ".join(str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x)
    return (mark.line + 1 if mark else 1), reason or str(exc)


def file_date(path: Path) -> str:
    """The file's modification date (a stand-in when the document states none)."""
    return date.fromtimestamp(path.stat().st_mtime).isoformat()


def read_file(path: Path, problems: list[str]) -> list[RawDoc]:
    """Read one knowledge file in any supported format; unreadable parts go to ``problems``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(f"{path}:0: cannot read the file: {exc.strerror or exc}")
        return []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(f"{path}:{line}: not UTF-8 text; read as Windows-1252 (kept)")
        text = raw.decode("cp1252", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kind = SUFFIXES[path.suffix.lower()]
    if kind == "markdown":
        doc = _markdown(path, text, problems)
        return [doc] if doc else []
    if kind == "html":
        body, title, meta = html_to_markdown(text)
        return [RawDoc(meta=meta, body=body, line=1, title_hint=title)]
    if kind == "text":
        lines = text.strip().split("\n")
        return [RawDoc(meta={}, body="\n".join(lines[1:]).strip(), line=1, title_hint=lines[0].strip())]
    if kind == "jsonl":
        return _jsonl(path, text, problems)
    return _json(path, text, problems)


def _markdown(path: Path, text: str, problems: list[str]) -> RawDoc | None:
    meta: dict[str, Any] = {}
    meta_lines: dict[str, int] = {}
    body = text
    if text.startswith("---"):
        match = _FRONT.match(text)
        if match is None:
            problems.append(f"{path}:1: front matter is not closed with ---")
            return None
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            line, reason = yaml_error(exc)
            problems.append(f"{path}:{line + 1}: invalid YAML front matter: {reason}")
            return None
        if not isinstance(loaded, dict | None):
            problems.append(f"{path}:2: front matter must be a mapping of keys to values")
            return None
        meta, body = loaded or {}, text[match.end() :]
        for number, line in enumerate(match.group(1).split("\n"), start=2):
            key = re.match(r"([\w-]+)\s*:", line)
            if key:
                meta_lines.setdefault(key.group(1), number)
    body = body.strip()
    title = ""
    if "title" not in meta:
        first, _, rest = body.partition("\n")
        if re.match(r"# \S", first):  # a leading H1 is the title, not a section of the body
            title, body = first[2:].strip(), rest.strip()
    return RawDoc(meta=meta, body=body, line=1, title_hint=title, key_lines=meta_lines)


def _record(path: Path, row: Any, line: int, problems: list[str]) -> RawDoc | None:
    """One export record: ``id``, ``title``, ``body|content|text`` and any front-matter key."""
    if not isinstance(row, dict):
        problems.append(f"{path}:{line}: each record must be a JSON object")
        return None
    body = next((str(row[k]) for k in BODY_KEYS if isinstance(row.get(k), str) and row[k].strip()), "")
    if not body:
        problems.append(f"{path}:{line}: the record has no body, content or text")
        return None
    meta = {k: v for k, v in row.items() if k not in BODY_KEYS and v not in (None, "")}
    if "title" not in meta and "name" in meta:
        meta["title"] = meta["name"]
    if "url" not in meta and ("html_url" in meta or "link" in meta):
        meta["url"] = meta.get("html_url") or meta.get("link")
    title = ""
    if looks_like_html(body):  # help-centre exports usually carry the article's HTML
        body, title, _ = html_to_markdown(body)
    return RawDoc(meta=meta, body=body.strip(), line=line, title_hint=title, record=True)


def json_lines(path: Path, lines: list[str], problems: list[str]) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` of each non-empty JSONL line; an invalid one becomes ``file:line: reason``."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: invalid JSON: {exc.msg}")


def _jsonl(path: Path, text: str, problems: list[str]) -> list[RawDoc]:
    docs = []
    for number, row in json_lines(path, text.split("\n"), problems):
        doc = _record(path, row, number, problems)
        if doc is not None:
            docs.append(doc)
    return docs


def _json(path: Path, text: str, problems: list[str]) -> list[RawDoc]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}")
        return []
    key = None
    if isinstance(data, dict):
        key = next((k for k in LIST_KEYS if isinstance(data.get(k), list)), None)
        if key is None and not any(k in data for k in BODY_KEYS):
            problems.append(f"{path}:1: expected a list of articles (or an object with a list under "
                            f"{', '.join(repr(k) for k in LIST_KEYS)})")
            return []
        records = data[key] if key else [data]
    elif isinstance(data, list):
        records = data
    else:
        problems.append(f"{path}:1: expected a list of articles")
        return []
    lines = _record_lines(text, key, len(records)) if isinstance(data, list) or key else [1]
    docs = [_record(path, row, line, problems) for row, line in zip(records, lines, strict=True)]
    return [d for d in docs if d is not None]


def _record_lines(text: str, key: str | None, count: int) -> list[int]:
    """The line each element of the records array starts on (line 1 for all when it cannot tell)."""
    found = re.search(rf'"{key}"\s*:\s*\[' if key else r"\[", text)
    if found is None:
        return [1] * count
    decoder, pos, lines = json.JSONDecoder(), found.end(), list[int]()
    try:
        while len(lines) < count:
            sep = _SEPARATORS.match(text, pos)
            pos = sep.end() if sep else pos
            lines.append(text.count("\n", 0, pos) + 1)
            _, pos = decoder.raw_decode(text, pos)
    except json.JSONDecodeError:
        return [1] * count
    return lines


_SKIP = {"script", "style", "nav", "noscript", "template", "svg", "iframe", "footer", "button", "form"}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = {"p", "div", "section", "article", "main", "body", "header", "blockquote", "pre", "table", "tr",
           "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "details", "summary"}
_DATE_META = ("article:modified_time", "last-modified", "dcterms.modified", "updated_at", "date")


class _HtmlToMarkdown(HTMLParser):
    """Collect headings (as ``#`` lines), paragraphs and list items; drop scripts, styles, navigation."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []  # (kind, text); kind is "h1".."h6", "p" or "li"
        self.meta: dict[str, str] = {}
        self.title = ""
        self._buf: list[str] = []
        self._kind = "p"
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in _SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "br":
            self._buf.append("\n")
        elif tag in _HEADINGS or tag == "li" or tag in _BLOCKS:
            self._flush(tag if tag in _HEADINGS or tag == "li" else "p")
        elif tag == "meta" and values.get("content"):
            name = (values.get("name") or values.get("property") or values.get("http-equiv") or "").lower()
            if name in _DATE_META:
                self.meta.setdefault("updated_at", values["content"])
        elif tag == "link" and "canonical" in values.get("rel", "").lower() and values.get("href"):
            self.meta["url"] = values["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in _HEADINGS or tag == "li" or tag in _BLOCKS:
            self._flush("p")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._buf.append(re.sub(r"\s+", " ", data))

    def _flush(self, next_kind: str) -> None:
        lines = (" ".join(line.split()) for line in "".join(self._buf).split("\n"))
        text = "\n".join(line for line in lines if line)
        if text:
            self.blocks.append((self._kind, text))
        self._buf, self._kind = [], next_kind


def html_to_markdown(html: str) -> tuple[str, str, dict[str, str]]:
    """Convert HTML to ``(markdown_body, title, meta)``; the first ``<h1>`` (else ``<title>``) is the title.

    A leading ``<h1>`` used as the title is not repeated in the body. ``meta`` may hold
    ``updated_at`` (from a modified-time ``<meta>``) and ``url`` (the canonical link).
    """
    parser = _HtmlToMarkdown()
    parser.feed(html)
    parser.close()
    parser._flush("p")
    blocks = parser.blocks
    h1 = next((text for kind, text in blocks if kind == "h1"), "")
    title = " ".join((h1 or parser.title).split())
    if blocks and blocks[0] == ("h1", h1):
        blocks = blocks[1:]
    out: list[str] = []
    for i, (kind, text) in enumerate(blocks):
        if kind in _HEADINGS:
            text = "#" * _HEADINGS[kind] + " " + text.replace("\n", " ")
        elif kind == "li":
            text = "- " + text.replace("\n", " ")
        joined_list = kind == "li" and i > 0 and blocks[i - 1][0] == "li"
        out.append(("\n" if joined_list else "\n\n") + text if out else text)
    return "".join(out), title, parser.meta


def looks_like_html(text: str) -> bool:
    """True when an export field holds HTML markup rather than Markdown or plain text."""
    return bool(re.search(r"<(p|div|h[1-6]|ul|ol|li|br|table|span|a)\b[^>]*>", text, re.I))
