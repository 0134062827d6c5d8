"""The offline engine: data, embedder, FAISS knowledge base, triage classifier, CRM, store.

Built once per process and data directory by :func:`get_engine` (never at import time).
The index and the classifier are cached on disk and rebuilt only when the knowledge files
or the labeled tickets change (content hashes).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools import classifier as classifier_module
from tools.actions import ActionRunner
from tools.classifier import TextClassifier
from tools.crm import FileCRM
from tools.data import CompanyData, load_company
from tools.embeddings import MODEL_ID, MiniLMEmbeddings, default_embeddings
from tools.helpdesk import EmbeddedHelpdesk
from tools.knowledge import KnowledgeBase
from tools.playbook import Playbook
from tools.settings import Settings, get_settings
from tools.store import AnyStore, Store

Progress = Callable[[str, int, int], None]


def ticket_text(ticket: dict[str, Any]) -> str:
    """The text the engine reads: subject and body."""
    return f"{ticket.get('subject', '')}\n{ticket.get('body', '')}".strip()


@dataclass
class Engine:
    """Everything the nodes need, loaded and ready."""

    data: CompanyData
    playbook: Playbook
    embedder: MiniLMEmbeddings
    kb: KnowledgeBase
    classifier: TextClassifier
    crm: FileCRM
    store: AnyStore
    helpdesk: EmbeddedHelpdesk
    runner: ActionRunner
    history_vectors: np.ndarray
    rebuilt: dict[str, bool]

    def use_store(self, store: AnyStore) -> None:
        """Point the helpdesk and the action ledger at another store (PostgreSQL deployments)."""
        self.store = store
        self.helpdesk = EmbeddedHelpdesk(store)
        self.runner = ActionRunner(store)

    def embed(self, text: str) -> np.ndarray:
        """One unit vector for one text."""
        return np.asarray(self.embedder.embed_array([text])[0])

    def similar_tickets(self, vector: np.ndarray, customer_id: str | None, limit: int = 3) -> list[dict[str, Any]]:
        """Resolved historical tickets closest to ``vector`` (the customer's own first)."""
        scores = self.history_vectors @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-scores)[: limit * 4]
        picked = sorted(order, key=lambda i: (self.data.tickets[i].get("customer_id") != customer_id, -scores[i]))
        out = []
        for i in picked[:limit]:
            t = self.data.tickets[i]
            out.append({"id": t["id"], "subject": t["subject"], "category": t["category"],
                        "resolution": t.get("resolution", ""), "similarity": round(float(scores[i]), 3)})
        return out


def _train_classifier(data: CompanyData, embedder: MiniLMEmbeddings, index_dir: Path,
                      progress: Progress | None) -> tuple[TextClassifier, np.ndarray, bool]:
    texts = [ticket_text(t) for t in data.tickets]
    labels = [t["category"] for t in data.tickets]
    model_file, vec_file, meta_file = index_dir / "classifier.pkl", index_dir / "history.npy", index_dir / "classifier.json"
    # The classifier's own code is part of the key: a changed model class retrains.
    code = hashlib.sha256(Path(classifier_module.__file__ or "").read_bytes()).hexdigest()
    expected = {"training_hash": data.training_hash(), "model": MODEL_ID, "classifier_code": code}
    if meta_file.exists() and json.loads(meta_file.read_text()) == expected and model_file.exists():
        return TextClassifier.load(model_file), np.load(vec_file), False
    if progress:
        progress("embed tickets", 0, len(texts))
    vectors = embedder.embed_array(texts)
    if progress:
        progress("embed tickets", len(texts), len(texts))
        progress("train classifier", 0, 1)
    classifier = TextClassifier(seed=0).fit(texts, labels, vectors)
    index_dir.mkdir(parents=True, exist_ok=True)
    classifier.save(model_file)
    np.save(vec_file, vectors)
    meta_file.write_text(json.dumps(expected))
    if progress:
        progress("train classifier", 1, 1)
    return classifier, vectors, True


def build_engine(settings: Settings, progress: Progress | None = None) -> Engine:
    """Load the data directory and build or load the index and the classifier."""
    data = load_company(settings.data_dir)
    embedder = default_embeddings()
    index_dir = settings.index_dir / _data_key(settings.data_dir)
    kb = KnowledgeBase(data, embedder, index_dir)
    rebuilt_index = kb.load_or_build(lambda done, total: progress("index knowledge", done, total) if progress else None)
    classifier, history, rebuilt_model = _train_classifier(data, embedder, index_dir, progress)
    store = Store(settings.sqlite_path)
    return Engine(
        data=data, playbook=Playbook(data.playbook), embedder=embedder, kb=kb, classifier=classifier,
        crm=FileCRM(data.customers), store=store, helpdesk=EmbeddedHelpdesk(store), runner=ActionRunner(store),
        history_vectors=history, rebuilt={"index": rebuilt_index, "classifier": rebuilt_model},
    )


def _data_key(data_dir: Path) -> str:
    return hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:10]  # noqa: S324 - a folder name, not security


_ENGINES: dict[tuple[str, str], Engine] = {}
_ACTIVE: list[Engine] = []
_LOCK = threading.Lock()


def get_engine(settings: Settings | None = None) -> Engine:
    """The engine for ``settings``; without settings, the one last opened in this process (else from env).

    Nodes call ``get_engine()``: they use the engine of the service (CLI, API, evals) that
    opened one, so a service configured with explicit settings and its graph agree.
    """
    with _LOCK:
        if settings is None and _ACTIVE:
            return _ACTIVE[-1]
        settings = settings or get_settings()
        key = (str(settings.data_dir.resolve()), str(settings.state_dir.resolve()))
        if key not in _ENGINES:
            _ENGINES[key] = build_engine(settings)
        _ACTIVE[:] = [_ENGINES[key]]
        return _ENGINES[key]


def reset_engines() -> None:
    """Forget cached engines (after the data directory changed)."""
    with _LOCK:
        _ENGINES.clear()
        _ACTIVE.clear()
