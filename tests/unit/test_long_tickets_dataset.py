"""The long-ticket retrieval set is well formed: valid lines, long tickets, gold ids that exist, the internal share, README counts."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "long_tickets"
KEYS = {"id", "subject", "query", "gold", "gold_audience", "words"}


def _documents() -> dict[str, Path]:
    return {p.stem: p for p in (ROOT / "knowledge").rglob("*") if p.is_file() and not p.name.startswith(".")}


def _front_matter(text: str) -> dict[str, str]:
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    return yaml.safe_load(match.group(1)) if match else {}


def _title(path: Path, text: str) -> str:
    meta = _front_matter(text)
    if meta.get("title"):
        return str(meta["title"])
    if path.suffix == ".html":
        found = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.S)
        return found.group(1).strip() if found else ""
    first = text.strip().splitlines()[0]
    return first.lstrip("#").strip()


def _is_internal(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    if _front_matter(text).get("audience") == "internal":
        return True
    return _title(path, text).startswith("Internal:") or "runbooks" in path.relative_to(ROOT / "knowledge").parts[:-1]


@pytest.fixture(scope="module")
def queries() -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate((ROOT / "queries.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        assert set(row) == KEYS, f"line {number}: keys {sorted(row)}"
        rows.append(row)
    return rows


def test_every_line_is_a_complete_ticket(queries: list[dict[str, Any]]) -> None:
    ids = [row["id"] for row in queries]
    assert len(ids) == len(set(ids))
    for row in queries:
        query = str(row["query"])
        assert query.startswith(f"{row['subject']}\n\n"), row["id"]
        assert isinstance(row["gold"], list) and len(row["gold"]) == 1, row["id"]
        assert row["gold_audience"] in {"customer", "internal"}, row["id"]
        assert row["words"] == len(query.split()), row["id"]
        assert 300 <= row["words"] <= 900, row["id"]


def test_gold_documents_exist_and_audience_matches(queries: list[dict[str, Any]]) -> None:
    documents = _documents()
    for row in queries:
        (gold,) = row["gold"]
        assert gold in documents, f"{row['id']}: unknown gold {gold}"
        expected = "internal" if _is_internal(documents[gold]) else "customer"
        assert row["gold_audience"] == expected, row["id"]


def test_share_of_internal_gold(queries: list[dict[str, Any]]) -> None:
    share = sum(row["gold_audience"] == "internal" for row in queries) / len(queries)
    assert 0.35 <= share <= 0.45


def test_knowledge_base_shape() -> None:
    documents = _documents()
    assert 36 <= len(documents) <= 44
    files = [p for p in (ROOT / "knowledge").rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(files) == len(documents), "two documents share a file name stem"
    for stem, path in documents.items():
        meta = _front_matter(path.read_text(encoding="utf-8"))
        if meta:
            assert meta["id"] == stem
            assert meta["audience"] in {"customer", "internal"}
    playbook = yaml.safe_load((ROOT / "playbook.yaml").read_text(encoding="utf-8"))
    assert set(playbook["sla_hours"]) == {"basic", "plus", "business"}
    assert 6 <= len(playbook["categories"]) <= 9


def test_readme_counts_match(queries: list[dict[str, Any]]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documents = _documents()
    internal = sum(_is_internal(p) for p in documents.values())
    row = f"| documents | {len(documents) - internal} | {internal} | {len(documents)} |"
    assert row in readme
    assert f"holds **{len(queries)}** tickets" in readme
    words = [r["words"] for r in queries]
    assert f"min **{min(words)}**, median **{statistics.median(words):g}**, max **{max(words)}**" in readme
    gold_internal = sum(r["gold_audience"] == "internal" for r in queries)
    assert f"**{gold_internal} of {len(queries)} ({round(100 * gold_internal / len(queries))} %)**" in readme
