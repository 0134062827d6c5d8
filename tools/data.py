"""Load a company's data directory, forgivingly: knowledge in any format, optional customers, tickets, playbook.

``knowledge/`` is read recursively (Markdown with or without front matter, HTML, plain text,
JSON and JSONL exports; see ``tools.formats``). Missing metadata gets defaults from the playbook's
``knowledge_defaults`` rules, then built-ins. A bad document or line is skipped and reported as
``file:line: reason`` in ``CompanyData.problems``; only an invalid ``playbook.yaml`` or no usable
knowledge document at all raises :class:`DataError`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tools.formats import SUFFIXES, RawDoc, document_date, file_date, json_lines, read_file
from tools.playbook import AUDIENCES, knowledge_defaults, read_playbook, vocabularies


class DataError(ValueError):
    """The data directory cannot be used; ``problems`` lists ``file:line: reason`` strings."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid data:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Document:
    """A knowledge document: metadata plus a Markdown body (headings as ``#`` lines)."""

    id: str
    title: str
    kind: str
    authority: str
    audience: str
    owner: str
    updated_at: str  # ISO date; from the document or export, else the file's modification date
    date_source: str  # "document" (stated in the file or export) | "file" (the file's mtime, not a real date)
    supersedes: tuple[str, ...]
    categories: tuple[str, ...]
    requires: tuple[str, ...]
    body: str
    path: str  # the file it came from (for JSON/JSONL exports: the export file)
    url: str = ""

    @property
    def paragraphs(self) -> list[str]:
        """Non-empty body paragraphs with Markdown headings removed."""
        parts = [p.strip() for p in re.split(r"\n\s*\n", self.body)]
        return [p for p in parts if p and not re.fullmatch(r"#+ .*", p)]


@dataclass
class CompanyData:
    """Everything the agent reads from a data directory."""

    root: Path
    playbook: dict[str, Any]
    documents: dict[str, Document]
    customers: dict[str, dict[str, Any]]  # {} when customers.jsonl is absent
    tickets: list[dict[str, Any]]  # [] when tickets.jsonl is absent (triage is then zero-shot)
    problems: list[str] = field(default_factory=list)  # skipped files and lines: "file:line: reason"
    playbook_source: str = "workspace"  # "workspace" (its playbook.yaml) | "generic" (built in)

    def document_hash(self, doc_id: str) -> str:
        """Content hash of one document: text and metadata, not where the folder lives."""
        fields = asdict(self.documents[doc_id])
        fields.pop("path")
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()

    def knowledge_hash(self) -> str:
        """Content hash of all documents (the index is rebuilt when it changes)."""
        digest = hashlib.sha256()
        for doc_id in sorted(self.documents):
            digest.update(f"{doc_id}\0{self.document_hash(doc_id)}\n".encode())
        return digest.hexdigest()

    def training_hash(self) -> str:
        """Content hash of the labelled tickets file (the hash of nothing when there is none)."""
        path = self.root / "tickets.jsonl"
        return hashlib.sha256(path.read_bytes() if path.exists() else b"").hexdigest()


def load_company(root: Path) -> CompanyData:
    """Load a data directory; bad documents and lines are skipped and listed in ``problems``.

    Raises:
        DataError: When ``playbook.yaml`` exists but is invalid, or no usable knowledge document exists.
    """
    problems: list[str] = []
    playbook, source, errors = read_playbook(root / "playbook.yaml")
    if errors:
        raise DataError(errors)
    vocab = vocabularies(playbook)
    documents = load_knowledge(root / "knowledge", playbook, problems)
    if not documents:
        formats = ", ".join(sorted(SUFFIXES))
        raise DataError([*problems, f"{root / 'knowledge'}:0: no usable knowledge document ({formats})"])
    customers: dict[str, dict[str, Any]] = {}
    path = root / "customers.jsonl"
    for row in read_jsonl(path, ("id",), problems):
        if str(row["id"]) in customers:
            problems.append(f"{path}:{row['_line']}: duplicate customer id '{row['id']}'")
            continue
        if row.get("plan") in (None, ""):
            row["plan"] = vocab["default_plan"]
        elif row["plan"] not in vocab["plans"]:
            problems.append(f"{path}:{row['_line']}: plan '{row['plan']}' is not one of {', '.join(vocab['plans'])}; "
                            f"using {vocab['default_plan']} (kept)")
            row["plan"] = vocab["default_plan"]
        row.setdefault("name", str(row["id"]))
        customers[str(row["id"])] = row
    tickets = []
    path = root / "tickets.jsonl"
    for row in read_jsonl(path, ("id", "body", "category"), problems):
        if row["category"] not in vocab["categories"]:
            problems.append(f"{path}:{row['_line']}: unknown category '{row['category']}'")
            continue
        row.setdefault("subject", "")
        tickets.append(row)
    return CompanyData(root=root, playbook=playbook, documents=documents, customers=customers, tickets=tickets,
                       problems=problems, playbook_source=source)


def load_knowledge(folder: Path, playbook: dict[str, Any], problems: list[str]) -> dict[str, Document]:
    """Every usable document under ``folder`` (recursively), by id; the rest goes to ``problems``."""
    if not folder.is_dir():
        problems.append(f"{folder}:0: the knowledge folder does not exist")
        return {}
    vocab = vocabularies(playbook)
    documents: dict[str, Document] = {}
    unsupported: Counter[str] = Counter()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        if path.suffix.lower() not in SUFFIXES:
            unsupported[path.suffix.lower() or "(no extension)"] += 1
            continue
        for raw in read_file(path, problems):
            doc = _document(path, rel, raw, playbook, vocab, problems)
            if doc is not None and doc.id in documents:
                problems.append(f"{path}:{raw.line}: duplicate id '{doc.id}' (also {documents[doc.id].path})")
            elif doc is not None:
                documents[doc.id] = doc
    if unsupported:
        kinds = ", ".join(f"{n} {suffix}" for suffix, n in sorted(unsupported.items()))
        problems.append(f"{folder}:0: files of unsupported types ignored: {kinds}")
    for doc in list(documents.values()):
        unknown = [old for old in doc.supersedes if old not in documents]
        if unknown:
            problems.append(f"{doc.path}:1: supersedes unknown document '{', '.join(unknown)}' (reference dropped)")
            documents[doc.id] = replace(doc, supersedes=tuple(o for o in doc.supersedes if o in documents))
    return documents


def _document(path: Path, rel: str, raw: RawDoc, playbook: dict[str, Any], vocab: dict[str, Any],
              problems: list[str]) -> Document | None:
    """Apply defaults and check vocabularies; ``None`` (with problems reported) for an unusable document."""
    meta = raw.meta

    def where(key: str) -> str:
        return f"{path}:{raw.key_lines.get(key, raw.line)}"

    first_line = next((ln.lstrip("#- ").strip() for ln in raw.body.split("\n") if ln.strip()), "")
    title = str(meta.get("title") or raw.title_hint or (first_line[:80] if raw.record else "")).strip()
    title = title or path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
    doc_id = str(meta.get("id") or "").strip() or slugify(title if raw.record else path.stem)
    rules = knowledge_defaults(playbook, rel, title)

    def pick(key: str, builtin: str, allowed: Any = ()) -> str:
        value = meta.get(key)
        value = str(value).strip() if value not in (None, "") else rules.get(key, builtin)
        return value.lower() if value not in allowed and value.lower() in allowed else value  # "Customer"

    kind, audience = pick("kind", "help_article", vocab["kinds"]), pick("audience", "customer", AUDIENCES)
    authority, owner = pick("authority", vocab["default_authority"], vocab["authorities"]), pick("owner", "support")
    bad = [(key, f"{key} '{value}' is not one of {', '.join(allowed)}") for key, value, allowed in
           (("kind", kind, vocab["kinds"]), ("authority", authority, vocab["authorities"]),
            ("audience", audience, AUDIENCES)) if value not in allowed]
    if not raw.body.strip():
        bad.append(("body", "the document has no body"))
    if not doc_id:
        bad.append(("id", "the document has no id and no title to make one from"))
    if bad:
        problems.extend(f"{where(key)}: {reason}" for key, reason in bad)
        return None
    stated = next((meta[k] for k in ("updated_at", "updated", "last_updated", "modified", "date") if meta.get(k)), None)
    updated = document_date(stated)
    if stated is not None and updated is None:
        problems.append(f"{where('updated_at')}: updated_at '{stated}' is not a date; using the file's date (kept)")
    return Document(
        id=doc_id, title=title, kind=kind, authority=authority, audience=audience, owner=owner,
        updated_at=updated or file_date(path), date_source="document" if updated else "file",
        supersedes=_as_tuple(meta.get("supersedes")), categories=_as_tuple(meta.get("categories")),
        requires=_as_tuple(meta.get("requires")), body=raw.body.strip(), path=str(path), url=str(meta.get("url") or ""),
    )


def slugify(text: str) -> str:
    """A lowercase id: letters, digits, ``_`` and ``-`` (other runs become ``-``)."""
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-")


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def read_jsonl(path: Path, required: tuple[str, ...], problems: list[str]) -> list[dict[str, Any]]:
    """Rows of an optional JSONL file (none when it is absent); each bad line becomes ``file:line: reason``."""
    rows: list[dict[str, Any]] = []
    if not path.exists():
        return rows
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}:0: cannot read the file: {exc}")
        return rows
    for number, row in json_lines(path, lines, problems):
        if not isinstance(row, dict):
            problems.append(f"{path}:{number}: each line must be a JSON object")
            continue
        missing = [k for k in required if row.get(k) in (None, "")]
        if missing:
            problems.append(f"{path}:{number}: missing fields: {', '.join(missing)}")
            continue
        row["_line"] = number
        rows.append(row)
    return rows
