"""The offline engine of one workspace: data, embedder, knowledge index, triage classifier, CRM, store.

A :class:`Corpus` is what a data directory yields — documents, playbook, index, classifier,
customers, ticket history — loaded once per directory (never at import time). The index and
the classifier are cached on disk and rebuilt only when the knowledge files or the labelled
tickets change (content hashes). An :class:`Engine` binds a corpus to one workspace's rows in
the store (helpdesk, ledger). :class:`tools.workspaces.Workspaces` hands engines to runs.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tools import classifier as classifier_module
from tools.actions import ActionRunner
from tools.classifier import TextClassifier
from tools.crm import FileCRM
from tools.data import CompanyData, load_company
from tools.embeddings import DIM, MODEL_ID, MiniLMEmbeddings, default_embeddings
from tools.helpdesk import EmbeddedHelpdesk
from tools.knowledge import KnowledgeBase
from tools.playbook import Playbook
from tools.requests import RequestDetector
from tools.retrain import load_active
from tools.settings import Settings, get_settings
from tools.store import Store

Progress = Callable[[str, int, int], None]
SCOPE_SAMPLE = 2000  # labelled tickets whose nearest neighbour sets the out-of-scope floor


class Classifier(Protocol):
    """What triage needs of a classifier (trained or zero-shot)."""

    @property
    def classes_(self) -> list[str]:
        """Labels in column order."""

    def predict_proba(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities."""


def ticket_text(ticket: dict[str, Any]) -> str:
    """The text the engine reads: subject and body."""
    return f"{ticket.get('subject', '')}\n{ticket.get('body', '')}".strip()


def embed_texts(embedder: MiniLMEmbeddings, texts: list[str]) -> np.ndarray:
    """Unit vectors of whole texts (long ones in windows, pooled)."""
    return np.asarray(embedder.embed_long(texts), dtype=np.float32)


@dataclass
class Corpus:
    """Everything loaded from one data directory."""

    data: CompanyData
    playbook: Playbook
    embedder: MiniLMEmbeddings
    kb: KnowledgeBase
    classifier: Classifier
    crm: FileCRM
    history_vectors: np.ndarray
    rebuilt: dict[str, bool]
    #: What the packet should say about this workspace's setup (generic playbook, zero-shot triage …).
    notes: list[str] = field(default_factory=list)
    #: What customers ask for (the playbook's request types), separately from the topic.
    requests: RequestDetector | None = None

    @cached_property
    def scope_similarity(self) -> float | None:
        """How close a labelled ticket is to its nearest labelled neighbour, 1st percentile (None without history).

        A new ticket less similar than that to every labelled ticket, with no relevant source either,
        is about something this workspace does not handle (``out_of_scope``).
        """
        history = self.history_vectors
        if history is None or len(history) < 20:
            return None
        # Up to SCOPE_SAMPLE tickets (all of them below that) against every labelled ticket, in
        # blocks: the full n × n product would take 10 GB at 50,000 labelled tickets.
        rows = np.arange(len(history))
        if len(rows) > SCOPE_SAMPLE:
            rows = np.sort(np.random.default_rng(0).choice(rows, SCOPE_SAMPLE, replace=False))
        nearest = np.empty(len(rows), dtype=np.float32)
        for start in range(0, len(rows), 512):
            block = rows[start : start + 512]
            sims = history[block] @ history.T
            sims[np.arange(len(block)), block] = -1.0
            nearest[start : start + 512] = sims.max(axis=1)
        return float(np.percentile(nearest, 1))

    @property
    def triage_mode(self) -> str:
        """``trained`` (labelled tickets) or ``zero-shot`` (category descriptions only)."""
        return str(getattr(self.classifier, "mode", "trained"))


@dataclass
class Engine:
    """Everything the nodes need for one workspace, loaded and ready."""

    workspace: str
    corpus: Corpus
    store: Store
    helpdesk: EmbeddedHelpdesk
    runner: ActionRunner

    @classmethod
    def bind(cls, corpus: Corpus, workspace: str, store: Store) -> Engine:
        """The engine of ``workspace`` on ``corpus``, writing its rows to ``store``."""
        return cls(workspace=workspace, corpus=corpus, store=store, helpdesk=EmbeddedHelpdesk(store, workspace),
                   runner=ActionRunner(store, workspace))

    @property
    def data(self) -> CompanyData:
        """The workspace's company data."""
        return self.corpus.data

    @property
    def playbook(self) -> Playbook:
        """The workspace's playbook."""
        return self.corpus.playbook

    @property
    def embedder(self) -> MiniLMEmbeddings:
        """The sentence embedder."""
        return self.corpus.embedder

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base."""
        return self.corpus.kb

    @property
    def classifier(self) -> Classifier:
        """The triage classifier (trained or zero-shot)."""
        return self.corpus.classifier

    @property
    def crm(self) -> FileCRM:
        """The workspace's customers."""
        return self.corpus.crm

    @property
    def rebuilt(self) -> dict[str, bool]:
        """Which caches were rebuilt when the corpus was loaded."""
        return self.corpus.rebuilt

    def embed(self, text: str) -> np.ndarray:
        """One unit vector for one text of any length."""
        vector: np.ndarray = embed_texts(self.corpus.embedder, [text])[0]
        return vector

    def similar_tickets(self, vector: np.ndarray, customer_id: str | None, limit: int = 3) -> list[dict[str, Any]]:
        """Resolved historical tickets closest to ``vector`` (the customer's own first)."""
        history, tickets = self.corpus.history_vectors, self.corpus.data.tickets
        if not len(history):
            return []
        scores = history @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-scores)[: limit * 4]
        picked = sorted(order, key=lambda i: (tickets[i].get("customer_id") != customer_id, -scores[i]))
        return [{"id": tickets[i]["id"], "subject": tickets[i]["subject"], "category": tickets[i]["category"],
                 "resolution": tickets[i].get("resolution", ""), "similarity": round(float(scores[i]), 3)}
                for i in picked[:limit]]


def _trainable(labels: list[str]) -> bool:
    counts = Counter(labels)
    return len(counts) >= 2 and min(counts.values()) >= 2


def _train_classifier(data: CompanyData, embedder: MiniLMEmbeddings, index_dir: Path,
                      progress: Progress | None) -> tuple[Classifier, np.ndarray, bool]:
    texts = [ticket_text(t) for t in data.tickets]
    labels = [t["category"] for t in data.tickets]
    if not _trainable(labels):
        from tools.zeroshot import ZeroShotClassifier

        zero_shot = ZeroShotClassifier.from_playbook(data.playbook["categories"], lambda xs: embed_texts(embedder, xs))
        vectors = embed_texts(embedder, texts) if texts else np.zeros((0, DIM), dtype=np.float32)
        return zero_shot, vectors, False
    model_file, vec_file, meta_file = index_dir / "classifier.pkl", index_dir / "history.npy", index_dir / "classifier.json"
    # The classifier's own code is part of the key: a changed model class retrains.
    code = hashlib.sha256(Path(classifier_module.__file__ or "").read_bytes()).hexdigest()
    expected = {"training_hash": data.training_hash(), "model": MODEL_ID, "classifier_code": code,
                "pooling": "long"}
    if meta_file.exists() and json.loads(meta_file.read_text()) == expected and model_file.exists():
        # A model retrained on reviewer corrections (`support-agent retrain`) wins when it was trained on this data.
        return load_active(index_dir, expected["training_hash"]) or TextClassifier.load(model_file), np.load(vec_file), False
    if progress:
        progress("embed tickets", 0, len(texts))
    vectors = embed_texts(embedder, texts)
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


def setup_notes(data: CompanyData, triage_mode: str) -> list[str]:
    """What a reviewer should know about how this workspace is set up."""
    notes = []
    if data.playbook_source == "generic":
        notes.append("No playbook.yaml in this workspace: the built-in generic support playbook is used.")
    if triage_mode == "zero-shot":
        notes.append("No labelled tickets: the category is a zero-shot guess from the category descriptions.")
    if not data.customers:
        notes.append("No customers.jsonl: customer context is empty.")
    return notes


def load_corpus(settings: Settings, data_dir: Path, progress: Progress | None = None) -> Corpus:
    """Load a data directory and build or load its index and classifier."""
    data = load_company(data_dir)
    embedder = default_embeddings()
    index_dir = settings.index_dir / data_key(data_dir)
    kb = KnowledgeBase(data, embedder, index_dir)
    rebuilt_index = kb.load_or_build(progress)
    classifier, history, rebuilt_model = _train_classifier(data, embedder, index_dir, progress)
    mode = str(getattr(classifier, "mode", "trained"))
    _warm_signals()
    playbook = Playbook(data.playbook)
    requests = RequestDetector.for_embedder(playbook, embedder)  # embeds the playbook's example phrases (cached)
    if progress:
        progress("request types", 1, 1)
    return Corpus(data=data, playbook=playbook, embedder=embedder, kb=kb, classifier=classifier, requests=requests,
                  crm=FileCRM(data.customers), history_vectors=history,
                  rebuilt={"index": rebuilt_index, "classifier": rebuilt_model}, notes=setup_notes(data, mode))


def data_key(data_dir: Path) -> str:
    """The index folder name of a data directory."""
    return hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:10]  # noqa: S324 - a folder name, not security


_ENGINES: dict[tuple[str, str], Engine] = {}
_LOCK = threading.Lock()


def _warm_signals() -> None:
    """Load the sentiment and language models now, so the first ticket does not pay for them."""
    from tools.language import detect_language
    from tools.sentiment import SentimentModel

    SentimentModel.load()
    detect_language("warm up the language model with a short sentence")


def get_engine(settings: Settings | None = None) -> Engine:
    """The default workspace's engine for ``settings`` (scripts and benchmarks; runs use ``Workspaces``)."""
    settings = settings or get_settings()
    key = (str(settings.data_dir.resolve()), str(settings.state_dir.resolve()))
    with _LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = Engine.bind(load_corpus(settings, settings.data_dir), "default", Store.from_settings(settings))
        return _ENGINES[key]
