"""``support-agent retrain``: learn triage from reviewer corrections, switch only when not worse.

Corrections come from the reviewers' category overrides recorded with their decisions (``overrides.category``
of the feedback rows, ``api.feedback``) and, optionally, a JSONL file (``{"subject", "body", "category"}``
or ``{"text", "category"}``) — e.g. an export of tickets a team re-labelled. The eval set is the workspace's
``eval.jsonl`` next to its data, else, for the bundled sample company, ``evals/datasets/sample_eval.jsonl``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from api.service import SupportDesk
from tools import schema as t
from tools.engine import data_key, embed_texts, ticket_text
from tools.retrain import RetrainResult, retrain

REPO = Path(__file__).resolve().parent.parent
SAMPLE_EVAL = REPO / "evals" / "datasets" / "sample_eval.jsonl"


def stored_corrections(desk: SupportDesk, workspace: str) -> list[tuple[str, str]]:
    """(ticket text, category a reviewer set) for the workspace's overridden tickets."""
    f, k = t.feedback.c, t.tickets.c
    out = []
    for row in desk.store.query(select(f.ticket_id, f.detail).where(f.workspace == workspace)):
        detail = json.loads(str(row["detail"] or "{}"))
        override = ((detail.get("overrides") or {}) if isinstance(detail, dict) else {}).get("category")
        category = override.get("to") if isinstance(override, dict) else override
        ticket = desk.store.query(select(k.subject, k.body).where(k.workspace == workspace, k.ticket_id == row["ticket_id"]))
        if category and ticket:
            out.append((ticket_text({"subject": ticket[0]["subject"], "body": ticket[0]["body"]}), str(category)))
    return out


def read_labelled(path: Path) -> list[tuple[str, str]]:
    """(text, category) pairs from JSONL: ``{"text"|"subject"+"body", "category"}`` or the eval set's format."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if "ticket" in row and "expected" in row:  # evals/datasets format
            pairs.append((ticket_text(row["ticket"]), str(row["expected"]["category"])))
        elif "category" in row and ("text" in row or "body" in row):
            pairs.append((str(row.get("text") or ticket_text(row)), str(row["category"])))
        else:
            raise ValueError(f"{path}:{number}: expected {{'text' or 'subject'+'body', 'category'}}")
    return pairs


def eval_set_of(data_dir: Path) -> Path | None:
    """The workspace's eval set, if it has one."""
    own = data_dir / "eval.jsonl"
    if own.exists():
        return own
    return SAMPLE_EVAL if data_dir.resolve() == (REPO / "data").resolve() and SAMPLE_EVAL.exists() else None


def retrain_workspace(desk: SupportDesk, workspace: str, extra: list[tuple[str, str]] | None = None,
                      eval_path: Path | None = None, dry_run: bool = False) -> RetrainResult:
    """Retrain ``workspace``'s triage on its corrections; the engine reloads when the new model is switched in."""
    engine = desk.engine_of(workspace)
    data = engine.data
    corrections = stored_corrections(desk, workspace) + list(extra or [])
    known = set(engine.playbook.categories)
    unknown = sorted({label for _, label in corrections} - known)
    if unknown:
        raise ValueError(f"categories not in the playbook: {', '.join(unknown)}")
    path = eval_path or eval_set_of(Path(data.root))
    eval_pairs = read_labelled(path) if path else []
    embed = engine.embedder
    texts = [ticket_text(x) for x in data.tickets]
    result = retrain(engine.classifier, texts, [x["category"] for x in data.tickets], engine.corpus.history_vectors,
                     corrections, embed_texts(embed, [c for c, _ in corrections]) if corrections else engine.corpus.history_vectors[:0],
                     eval_pairs, embed_texts(embed, [c for c, _ in eval_pairs]) if eval_pairs else engine.corpus.history_vectors[:0],
                     desk.settings.index_dir / data_key(Path(data.root)), data.training_hash(), dry_run)
    if result.switched:
        desk.workspaces.forget(workspace)
    return result


def summary(result: RetrainResult) -> dict[str, Any]:
    """The result as JSON."""
    return result.as_dict()
