"""Load and validate a company export: knowledge Markdown, customers/tickets JSONL, playbook YAML.

Every problem is reported as ``file:line: reason`` so a team can fix its export.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

KINDS = {"help_article", "policy", "sop", "macro", "playbook", "runbook", "known_issue", "past_ticket", "release_note"}
AUDIENCES = {"customer", "internal"}
DOC_KEYS = ("id", "title", "kind", "authority", "audience", "owner", "updated_at")
PLANS = {"free", "pro", "enterprise"}


class DataError(ValueError):
    """One or more invalid files; ``problems`` lists ``file:line: reason`` strings."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid data:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Document:
    """A knowledge document: front matter plus body paragraphs."""

    id: str
    title: str
    kind: str
    authority: str
    audience: str
    owner: str
    updated_at: str
    supersedes: tuple[str, ...]
    categories: tuple[str, ...]
    requires: tuple[str, ...]
    body: str
    path: str

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
    customers: dict[str, dict[str, Any]]
    tickets: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)

    def knowledge_hash(self) -> str:
        """Content hash of the knowledge files (the index is rebuilt when it changes)."""
        digest = hashlib.sha256()
        for doc_id in sorted(self.documents):
            doc = self.documents[doc_id]
            digest.update(Path(doc.path).read_bytes())
        return digest.hexdigest()

    def training_hash(self) -> str:
        """Content hash of the labeled tickets (the classifier is retrained when it changes)."""
        return hashlib.sha256((self.root / "tickets.jsonl").read_bytes()).hexdigest()


def _parse_front_matter(path: Path, text: str, problems: list[str]) -> tuple[dict[str, Any], str] | None:
    if not text.startswith("---"):
        problems.append(f"{path}:1: missing YAML front matter (the file must start with ---)")
        return None
    end = text.find("\n---", 3)
    if end < 0:
        problems.append(f"{path}:1: front matter is not closed with ---")
        return None
    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 2
        problems.append(f"{path}:{line}: invalid YAML front matter: {getattr(exc, 'problem', exc)}")
        return None
    if not isinstance(meta, dict):
        problems.append(f"{path}:2: front matter must be a mapping")
        return None
    return meta, text[end + 4 :].strip()


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def load_document(path: Path, authorities: set[str], problems: list[str]) -> Document | None:
    """Parse one knowledge file; append problems instead of raising."""
    parsed = _parse_front_matter(path, path.read_text(encoding="utf-8"), problems)
    if parsed is None:
        return None
    meta, body = parsed
    missing = [k for k in DOC_KEYS if not meta.get(k)]
    if missing:
        problems.append(f"{path}:2: missing front-matter keys: {', '.join(missing)}")
        return None
    checks = [
        (meta["kind"] in KINDS, f"kind '{meta['kind']}' is not one of {sorted(KINDS)}"),
        (meta["audience"] in AUDIENCES, f"audience '{meta['audience']}' is not customer or internal"),
        (meta["authority"] in authorities, f"authority '{meta['authority']}' is not one of {sorted(authorities)}"),
        (str(meta["id"]) == path.stem, f"id '{meta['id']}' must equal the file name '{path.stem}'"),
    ]
    bad = [reason for ok, reason in checks if not ok]
    updated = meta["updated_at"]
    if not isinstance(updated, date):
        try:
            date.fromisoformat(str(updated))
        except ValueError:
            bad.append(f"updated_at '{updated}' is not an ISO date")
    if not body:
        bad.append("the document has no body")
    if bad:
        problems.extend(f"{path}:2: {reason}" for reason in bad)
        return None
    return Document(
        id=str(meta["id"]), title=str(meta["title"]), kind=meta["kind"], authority=meta["authority"],
        audience=meta["audience"], owner=str(meta["owner"]), updated_at=str(updated),
        supersedes=_as_tuple(meta.get("supersedes")), categories=_as_tuple(meta.get("categories")),
        requires=_as_tuple(meta.get("requires")), body=body, path=str(path),
    )


def read_jsonl(path: Path, required: tuple[str, ...], problems: list[str]) -> list[dict[str, Any]]:
    """Read a JSONL file; each bad line becomes ``file:line: reason``."""
    rows: list[dict[str, Any]] = []
    if not path.exists():
        problems.append(f"{path}:0: file not found")
        return rows
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: invalid JSON: {exc.msg}")
            continue
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


def load_playbook(path: Path, problems: list[str]) -> dict[str, Any]:
    """Read ``playbook.yaml`` and check the sections the agent relies on."""
    try:
        playbook = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path}:0: file not found")
        return {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
        problems.append(f"{path}:{line}: invalid YAML: {getattr(exc, 'problem', exc)}")
        return {}
    needed = ("categories", "sla_hours", "escalation_rules", "required_info", "authority_weights", "actions")
    for key in needed:
        if not isinstance(playbook, dict) or key not in playbook:
            problems.append(f"{path}:1: missing section '{key}'")
    return playbook if isinstance(playbook, dict) else {}


def load_company(root: Path) -> CompanyData:
    """Load and cross-check a data directory; raise ``DataError`` listing every problem."""
    problems: list[str] = []
    playbook = load_playbook(root / "playbook.yaml", problems)
    authorities = set(playbook.get("authority_weights", {}))
    categories = set(playbook.get("categories", {}))
    documents: dict[str, Document] = {}
    for path in sorted((root / "knowledge").glob("*.md")):
        doc = load_document(path, authorities, problems)
        if doc is not None:
            documents[doc.id] = doc
    for doc in documents.values():
        for old in doc.supersedes:
            if old not in documents:
                problems.append(f"{doc.path}:2: supersedes unknown document '{old}'")
    customer_rows = read_jsonl(root / "customers.jsonl", ("id", "name", "plan"), problems)
    for row in customer_rows:
        if row["plan"] not in PLANS:
            problems.append(f"{root / 'customers.jsonl'}:{row['_line']}: plan '{row['plan']}' is not free, pro or enterprise")
    customers = {str(r["id"]): r for r in customer_rows}
    tickets = read_jsonl(root / "tickets.jsonl", ("id", "subject", "body", "category"), problems)
    for row in tickets:
        if row["category"] not in categories:
            problems.append(f"{root / 'tickets.jsonl'}:{row['_line']}: unknown category '{row['category']}'")
    if problems:
        raise DataError(problems)
    return CompanyData(root=root, playbook=playbook, documents=documents, customers=customers, tickets=tickets)
