"""Workspaces: one company each — its data directory, its index and models, its rows in the store.

``Workspaces`` resolves a workspace id to its data directory (``default`` is
``SUPPORT_DATA_DIR``; others are registered with ``support-agent workspace create``) and builds
engines lazily, keeping at most ``max_engines`` of them (least recently used is dropped).
The heavy part of an engine (documents, index, classifier) is loaded once per data
directory; the per-workspace part (helpdesk, ledger) is bound to the workspace's rows.
Nothing here is created at import time.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from tools import schema as t
from tools.engine import Corpus, Engine, Progress, load_corpus
from tools.settings import Settings
from tools.store import Store, insert_for, now

DEFAULT = "default"
#: Workspace ids: lower-case letters, digits, ``-`` and ``_``; they appear in URLs, keys and paths.
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class UnknownWorkspace(LookupError):
    """No workspace with this id is registered."""


@dataclass(frozen=True)
class WorkspaceInfo:
    """A registered workspace."""

    id: str
    data_dir: Path
    created_at: str


def check_id(workspace: str) -> str:
    """Return ``workspace`` if it is a valid id, else raise ValueError with the rule."""
    if not ID_PATTERN.fullmatch(workspace):
        raise ValueError(f"workspace id '{workspace}' must be 1-64 lower-case letters, digits, '-' or '_' "
                         "(starting with a letter or digit)")
    return workspace


class Workspaces:
    """The workspaces of one deployment (one store) and a bounded cache of their engines."""

    def __init__(self, settings: Settings, store: Store) -> None:
        """Serve the workspaces registered in ``store``; ``default`` reads ``settings.data_dir``."""
        self.settings, self.store = settings, store
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._corpora: OrderedDict[Path, Corpus] = OrderedDict()
        self._lock = threading.RLock()
        self._building: dict[Path, threading.Lock] = {}

    def info(self, workspace: str) -> WorkspaceInfo:
        """The registered workspace ``workspace``; raise :class:`UnknownWorkspace` if there is none."""
        if workspace == DEFAULT:
            return WorkspaceInfo(DEFAULT, self.settings.data_dir, "")
        rows = self.store.query(select(t.workspaces).where(t.workspaces.c.workspace_id == workspace))
        if not rows:
            raise UnknownWorkspace(f"unknown workspace '{workspace}': create it with "
                                   f"`support-agent workspace create {workspace} --data DIR`")
        return WorkspaceInfo(str(rows[0]["workspace_id"]), Path(str(rows[0]["data_dir"])), str(rows[0]["created_at"]))

    def list(self) -> list[WorkspaceInfo]:
        """Every workspace, ``default`` first."""
        rows = self.store.query(select(t.workspaces).order_by(t.workspaces.c.workspace_id))
        return [self.info(DEFAULT)] + [WorkspaceInfo(str(r["workspace_id"]), Path(str(r["data_dir"])), str(r["created_at"]))
                                       for r in rows if r["workspace_id"] != DEFAULT]

    def create(self, workspace: str, data_dir: Path) -> WorkspaceInfo:
        """Register ``workspace`` reading ``data_dir`` (re-registering moves it to the new folder)."""
        check_id(workspace)
        if workspace == DEFAULT:
            raise ValueError("'default' is SUPPORT_DATA_DIR; set that variable instead")
        path = data_dir.expanduser().resolve()
        with self.store.transaction(lock=f"workspace:{workspace}") as tx:
            row = insert_for(tx, t.workspaces).values(workspace_id=workspace, data_dir=str(path), created_at=now())
            tx.execute(row.on_conflict_do_update(index_elements=["workspace_id"], set_={"data_dir": row.excluded.data_dir}))
        self.forget(workspace)
        return self.info(workspace)

    def exists(self, workspace: str) -> bool:
        """Whether ``workspace`` is registered (``default`` always is)."""
        try:
            self.info(workspace)
        except UnknownWorkspace:
            return False
        return True

    def get(self, workspace: str, progress: Progress | None = None) -> Engine:
        """The engine of ``workspace``, built on first use and kept in the bounded cache."""
        with self._lock:
            engine = self._engines.get(workspace)
            if engine is not None:
                self._engines.move_to_end(workspace)
                return engine
        info = self.info(workspace)
        corpus = self._corpus(info.data_dir, progress)
        engine = Engine.bind(corpus, workspace, self.store)
        with self._lock:
            self._engines[workspace] = engine
            self._engines.move_to_end(workspace)
            while len(self._engines) > self.settings.max_engines:
                self._engines.popitem(last=False)
            live = {e.corpus.data.root.resolve() for e in self._engines.values()}
            for path in [p for p in self._corpora if p not in live]:
                del self._corpora[path]
        return engine

    def forget(self, workspace: str) -> None:
        """Drop a cached engine (after its data changed); the next :meth:`get` reloads it."""
        with self._lock:
            engine = self._engines.pop(workspace, None)
            if engine is not None:
                self._corpora.pop(engine.corpus.data.root.resolve(), None)

    def _corpus(self, data_dir: Path, progress: Progress | None) -> Corpus:
        key = data_dir.resolve()
        with self._lock:
            if key in self._corpora:
                return self._corpora[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:  # two requests for a cold workspace build it once
            with self._lock:
                if key in self._corpora:
                    return self._corpora[key]
            corpus = load_corpus(self.settings, key, progress)
            with self._lock:
                self._corpora[key] = corpus
            return corpus
