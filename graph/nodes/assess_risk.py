"""Assess risk: risk flags, the escalation recommendation and the proposed actions with their tiers.

Tiers come from ``graph.policy.tier_of`` (code floor + playbook); ticket text only ever
adds flags for the reviewer, it cannot remove a gate.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.packet import build_packet
from graph.policy import tier_of
from graph.state import State
from tools.engine import Engine, ticket_text

MONEY_WORDS = re.compile(
    r"\b(refund|credit|chargeback|money back|compensat|reimburs|overcharg"
    r"|(?:charged|billed) (?:twice|double)|double[- ](?:charged|billed)|duplicate (?:charge|payment))",
    re.I,
)
AMOUNT = re.compile(r"(?:[$€£]\s?(\d[\d,]*(?:\.\d{2})?)|(\d[\d,]*(?:\.\d{2})?)\s?(?:USD|EUR|GBP|dollars|euros))", re.I)
INVOICE = re.compile(r"\bINV[-_ ]?\d{4,}\b", re.I)
CATEGORY_FLAGS = {"security": "security", "privacy_legal": "legal", "outage": "outage", "refund": "money"}
CONTRACT_CATEGORIES = {"refund", "billing", "cancellation", "outage", "privacy_legal"}
CATEGORY_ACTIONS = {
    "security": ("security_change", "Secure the affected account (sign out sessions, reset credentials) after review."),
    "privacy_legal": ("legal_statement", "The reply makes a privacy/legal statement on behalf of the company."),
    "cancellation": ("close_account", "The customer asks to cancel or close the account."),
    "permissions": ("change_permissions", "The customer asks for a role, seat or ownership change."),
}


def risk_flags(state: State, text: str) -> list[str]:
    """Every reason a reviewer should look twice."""
    triage, customer = state["triage"], state.get("customer", {})
    flags = []
    if CATEGORY_FLAGS.get(triage["category"]):
        flags.append(CATEGORY_FLAGS[triage["category"]])
    if MONEY_WORDS.search(text) and "money" not in flags:
        flags.append("money")
    checks = [
        (customer.get("vip"), "vip"),
        (customer.get("vip") and triage["sentiment"] == "negative", "vip_unhappy"),
        (triage["sla_at_risk"], "sla_at_risk"),
        (not triage["confident"], "low_triage_confidence"),
        (not state.get("retrieval", {}).get("confident", False), "low_retrieval_confidence"),
        (state.get("conflicts"), "source_conflict"),
        (state.get("draft", {}).get("missing_info"), "missing_information"),
        (triage.get("injection"), "prompt_injection_suspected"),
        (customer.get("contract_notes") and triage["category"] in CONTRACT_CATEGORIES, "contract_terms"),
        (customer.get("open_incidents"), "open_incident"),
        (not customer.get("known", False), "unknown_customer"),
        (state.get("draft", {}).get("llm_fallback"), "llm_fallback"),
    ]
    flags.extend(flag for condition, flag in checks if condition)
    if triage.get("language_note"):
        flags.append(f"language:{triage['language']}")
    return flags


def escalation(engine: Engine, state: State, text: str) -> dict[str, Any]:
    """The first matching playbook rule is the recommendation; all matches are listed."""
    triage, customer = state["triage"], state.get("customer", {})
    facts = {"category": triage["category"], "vip": bool(customer.get("vip")), "sentiment": triage["sentiment"],
             "plan": customer.get("plan", engine.playbook.default_plan)}
    rules = engine.playbook.escalations(facts, text)
    if not rules:
        return {"team": "none", "reason": "No escalation rule matched.", "needs": [], "rules": []}
    first = rules[0]
    return {"team": first["team"], "reason": first["reason"], "needs": first.get("needs", []),
            "rules": [r["name"] for r in rules]}


def proposed_actions(engine: Engine, state: State, flags: list[str], esc: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """Actions for this ticket, each with its tier from policy."""
    ticket, triage, draft = dict(state["ticket"]), state["triage"], state["draft"]
    category = triage["category"]
    plan: list[tuple[str, dict[str, Any], str]] = [
        ("add_internal_tag", {"tags": [f"category:{category}", f"priority:{triage['priority']}", *[f"risk:{f}" for f in flags]]},
         "Internal tags make the queue searchable."),
        ("set_priority", {"priority": triage["priority"]}, f"Playbook rules: {', '.join(triage['priority_rules']) or 'category default'}."),
        ("assign_owner", {"owner": triage["owner"]}, f"Owner of the '{category}' queue."),
        ("send_reply", {"to": ticket.get("email", ""), "subject": draft["subject"], "body": draft["body"],
                        "citations": draft["citations"]}, "Customer-facing reply drafted from cited sources."),
    ]
    if "low_retrieval_confidence" in flags:
        plan.append(("log_knowledge_gap", {"category": category, "query": ticket["subject"],
                                           "top_score": state.get("retrieval", {}).get("top_relevance", 0.0)},
                     "No confident source: the knowledge base may be missing an article."))
    for recent in state.get("customer", {}).get("recent_tickets", []):
        if str(recent["subject"]).strip().lower() == str(ticket["subject"]).strip().lower() and recent["status"] == "open":
            plan.append(("link_duplicate", {"duplicate_of": recent["ticket_id"]}, "Same subject as an open ticket."))
            break
    if esc["team"] != "none":
        plan.append(("create_escalation", {"team": esc["team"], "summary": ticket["subject"], "needs": esc["needs"]}, esc["reason"]))
        plan.append(("notify_team", {"team": esc["team"], "message": f"Ticket {ticket['id']} needs {esc['team']}: {ticket['subject']}"},
                     "Internal heads-up to the escalation team."))
    if category == "refund" or ("money" in flags and category == "billing"):
        amount = AMOUNT.search(text)
        invoice = INVOICE.search(text)
        name = "issue_credit" if re.search(r"\bcredit", text, re.I) and not re.search(r"\brefund", text, re.I) else "issue_refund"
        plan.append((name, {"invoice": invoice.group(0) if invoice else None,
                            "amount": (amount.group(1) or amount.group(2)) if amount else None,
                            "reason": ticket["subject"]}, "The customer asks for money back; billing decides."))
    if category in CATEGORY_ACTIONS:
        name, why = CATEGORY_ACTIONS[category]
        plan.append((name, {"request": ticket["subject"]}, why))
    frozen = frozenset(flags)
    actions = []
    for number, (name, args, why) in enumerate(plan, start=1):
        tier = tier_of(name, engine.playbook.actions, frozen)
        actions.append({"id": f"a{number}-{name}", "name": name, "args": args, "tier": tier.label,
                        "needs_approval": tier.needs_approval, "why": why})
    return actions


def assess_risk(state: State, runtime: Runtime[Context], engine: Engine) -> dict[str, Any]:
    """Decide flags, escalation and actions, and assemble the support packet."""
    text = ticket_text(dict(state["ticket"]))
    flags = risk_flags(state, text)
    esc = escalation(engine, state, text)
    actions = proposed_actions(engine, state, flags, esc, text)
    update = {"risk_flags": flags, "escalation": esc, "proposed_actions": actions}
    return {**update, "packet": build_packet({**state, **update})}  # type: ignore[typeddict-item]
