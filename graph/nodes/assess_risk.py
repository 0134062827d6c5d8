"""Assess risk: risk flags, the escalation recommendation and the proposed actions with their tiers.

Tiers come from ``graph.policy.tier_of`` (code floor + playbook); ticket text only ever
adds flags for the reviewer, it cannot remove a gate.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.nodes.triage import customer_facts, ticket_vector
from graph.packet import build_packet
from graph.policy import tier_of
from graph.state import State
from tools.action_args import fill_args
from tools.engine import Engine, ticket_text

CATEGORY_FLAGS = {"security": "security", "privacy_legal": "legal", "outage": "outage", "refund": "money"}
CONTRACT_CATEGORIES = {"refund", "billing", "cancellation", "outage", "privacy_legal"}
MONEY_ACTIONS = {"issue_refund", "issue_credit", "offer_compensation"}


def out_of_scope(engine: Engine, state: State) -> bool:
    """No relevant source and less like any labelled ticket than labelled tickets are to each other.

    The similarity floor is the workspace's own (1st percentile of nearest-neighbour similarity
    among its labelled tickets); without labelled tickets only the sources decide.
    """
    retrieval = state.get("retrieval", {})
    threshold = float(retrieval.get("threshold", 0.5))
    if float(retrieval.get("top_relevance", 1.0)) >= threshold / 2:
        return False
    floor = engine.corpus.scope_similarity
    if floor is None:
        return True
    return float((engine.corpus.history_vectors @ ticket_vector(state, engine)).max()) < floor


def risk_flags(engine: Engine, state: State, text: str) -> list[str]:
    """Every reason a reviewer should look twice."""
    triage, customer = state["triage"], state.get("customer", {})
    flags = []
    if CATEGORY_FLAGS.get(triage["category"]):
        flags.append(CATEGORY_FLAGS[triage["category"]])
    if any(a["name"] in MONEY_ACTIONS for a in triage.get("request_actions", [])) and "money" not in flags:
        flags.append("money")  # the customer asks for money (a request, not the words "credit card")
    checks = [
        (customer.get("vip"), "vip"),
        (customer.get("vip") and triage["sentiment"] == "negative", "vip_unhappy"),
        (triage["sla_at_risk"], "sla_at_risk"),
        (not triage["confident"], "low_triage_confidence"),
        (not state.get("retrieval", {}).get("confident", False), "low_retrieval_confidence"),
        (not state.get("draft", {}).get("answered", True), "no_source_answers"),
        (state.get("conflicts"), "source_conflict"),
        (state.get("draft", {}).get("missing_info"), "missing_information"),
        (triage.get("injection"), "prompt_injection_suspected"),
        (customer.get("contract_notes") and triage["category"] in CONTRACT_CATEGORIES, "contract_terms"),
        (customer.get("open_incidents"), "open_incident"),
        (not customer.get("known", False), "unknown_customer"),
        (state.get("draft", {}).get("llm_fallback"), "llm_fallback"),
    ]
    flags.extend(flag for condition, flag in checks if condition)
    if out_of_scope(engine, state):
        flags.append("out_of_scope")
    if triage.get("language_note"):
        flags.append(f"language:{triage['language']}")
    return flags


def escalation(engine: Engine, state: State, text: str) -> dict[str, Any]:
    """The first matching playbook rule is the recommendation; all matches are listed."""
    triage, customer = state["triage"], state.get("customer", {})
    facts = {"category": triage["category"], "vip": bool(customer.get("vip")), "sentiment": triage["sentiment"],
             "plan": customer.get("plan", engine.playbook.default_plan), "requests": [r["type"] for r in triage.get("requests", [])],
             "open_incident": bool(customer.get("open_incidents"))}
    rules = engine.playbook.escalations(facts, text)
    matched = [{"name": r["name"], "team": r["team"], "reason": r["reason"]} for r in rules]
    if not rules:
        return {"team": "none", "reason": "No escalation rule matched.", "needs": [], "rules": [], "matched": []}
    first = rules[0]  # playbook order: the first matching rule decides; the others are shown
    return {"team": first["team"], "reason": first["reason"], "needs": first.get("needs", []), "rule": first["name"],
            "rules": [r["name"] for r in rules], "matched": matched}


def proposed_actions(engine: Engine, state: State, flags: list[str], esc: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """Actions for this ticket, each with its tier from policy.

    Bookkeeping (tags, priority, owner), the reply, and what the customer *asks for* — the
    detected requests (``triage.request_actions``), never the category. An action whose required
    arguments are missing is proposed as ``incomplete``: it shows what is missing and cannot be
    applied until an edit supplies them (or drops it).
    """
    ticket, triage, draft = dict(state["ticket"]), state["triage"], state["draft"]
    category = triage["category"]
    record = customer_facts(engine, ticket)
    owner, owner_why = triage["owner"], f"Owner of the '{category}' queue."
    if "out_of_scope" in flags:  # no category fits: a person decides where it goes
        owner = str(engine.playbook.raw.get("out_of_scope_owner", "support-tier1"))
        owner_why = "No category or source fits this ticket: a person triages it."
    reply_args, reply_missing = fill_args("send_reply", ticket, record, text, known={
        "subject": draft["subject"], "body": draft["body"], "citations": draft["citations"]})
    plan: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
        ("add_internal_tag", {"tags": [f"category:{category}", f"priority:{triage['priority']}", *[f"risk:{f}" for f in flags]]},
         "Internal tags make the queue searchable.", {}),
        ("set_priority", {"priority": triage["priority"]},
         f"Playbook rules: {', '.join(triage['priority_rules']) or 'category default'}.", {}),
        ("assign_owner", {"owner": owner}, owner_why, {}),
        ("send_reply", reply_args, "Customer-facing reply drafted from cited sources."
         + (" No recipient: neither the ticket nor the customer record has an email address." if reply_missing else ""),
         {"missing": reply_missing, "required": ["to"]}),
    ]
    if "low_retrieval_confidence" in flags or not draft.get("answered", True):
        plan.append(("log_knowledge_gap", {"category": category, "query": ticket["subject"],
                                           "top_score": state.get("retrieval", {}).get("top_relevance", 0.0)},
                     "No confident source: the knowledge base may be missing an article.", {}))
    for recent in state.get("customer", {}).get("recent_tickets", []):
        if str(recent["subject"]).strip().lower() == str(ticket["subject"]).strip().lower() and recent["status"] == "open":
            plan.append(("link_duplicate", {"duplicate_of": recent["ticket_id"]}, "Same subject as an open ticket.", {}))
            break
    if esc["team"] != "none":
        plan.append(("create_escalation", {"team": esc["team"], "summary": ticket["subject"], "needs": esc["needs"]},
                     f"{esc['reason']} (rule {esc.get('rule', '')})", {}))
        plan.append(("notify_team", {"team": esc["team"], "message": f"Ticket {ticket['id']} needs {esc['team']}: {ticket['subject']}"},
                     "Internal heads-up to the escalation team.", {}))
    for wanted in triage.get("request_actions", []):
        evidence = " ".join(str(wanted["evidence"]).split())[:160]
        plan.append((wanted["name"], dict(wanted["args"]), f"Requested ({', '.join(wanted['requests'])}): \u201c{evidence}\u201d",
                     {"missing": wanted["missing"], "required": wanted["required"], "requests": wanted["requests"],
                      "confidence": round(float(wanted["confidence"]), 3)}))
    frozen = frozenset(flags)
    actions = []
    for number, (name, args, why, extra) in enumerate(plan, start=int(state.get("action_base") or 0) + 1):
        tier = tier_of(name, engine.playbook.actions, frozen)
        missing = list(extra.get("missing", []))
        actions.append({"id": f"a{number}-{name}", "name": name, "args": args, "tier": tier.label,
                        "needs_approval": tier.needs_approval, "why": why,
                        "status": "incomplete" if missing else "ready", **extra, "missing": missing})
    return actions


def assess_risk(state: State, runtime: Runtime[Context], engine: Engine) -> dict[str, Any]:
    """Decide flags, escalation and actions, and assemble the support packet."""
    text = ticket_text(dict(state["ticket"]))
    flags = risk_flags(engine, state, text)
    esc = escalation(engine, state, text)
    actions = proposed_actions(engine, state, flags, esc, text)
    update = {"risk_flags": flags, "escalation": esc, "proposed_actions": actions}
    return {**update, "packet": build_packet({**state, **update})}  # type: ignore[typeddict-item]
