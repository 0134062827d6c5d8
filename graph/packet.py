"""The support packet (what a reviewer reads) and its Markdown rendering."""

from __future__ import annotations

from typing import Any

from graph.state import State


def build_packet(state: State) -> dict[str, Any]:
    """Assemble the packet from the state."""
    ticket, triage, customer = dict(state["ticket"]), state["triage"], state.get("customer", {})
    draft = state.get("draft", {})
    who = customer.get("name") or ticket.get("email") or "an unknown customer"
    llm = {} if "llm_usage" not in draft else {"llm": {
        **{k: v for k, v in draft["llm_usage"].items() if k != "calls"}, "analysis": draft.get("llm_analysis"),
        "fallback": draft.get("llm_fallback", False), "fallback_reason": draft.get("llm_fallback_reason", ""),
        "category_source": triage.get("category_source", "classifier")}}
    sources = state.get("sources", [])
    return {
        "ticket_id": ticket["id"],
        "workspace": state.get("workspace", "default"),
        "summary": f"{triage['category'].replace('_', ' ').title()} request from {who} "
                   f"({customer.get('plan', 'unknown plan')}): {ticket['subject']}",
        "customer": customer,
        "category": triage["category"],
        "category_confidence": triage["confidence"],
        "triage_mode": triage.get("mode", "trained"),
        "setup_notes": triage.get("setup_notes", []),
        "priority": triage["priority"],
        "sla_hours": triage["sla_hours"],
        "sla_at_risk": triage["sla_at_risk"],
        "sentiment": triage["sentiment"],
        "sources": [s for s in sources if s["audience"] == "customer"],
        "reviewer_sources": [s for s in sources if s["audience"] != "customer"],
        "conflicts": state.get("conflicts", []),
        "risk_flags": state.get("risk_flags", []),
        "escalation": state.get("escalation", {}),
        "suggested_owner": triage["owner"],
        "draft_reply": draft.get("body", ""),
        "citations": draft.get("citations", []),
        "missing_information": [m["label"] for m in draft.get("missing_info", [])],
        "proposed_actions": state.get("proposed_actions", []),
        **llm,  # only in llm mode: model calls, tokens, latency, the analysis and any fallback
    }


def packet_markdown(packet: dict[str, Any]) -> str:
    """Render a packet as Markdown (interrupt description, CLI, reviewer page)."""
    c = packet.get("customer", {})
    lines = [
        f"## Ticket {packet['ticket_id']} — {packet['summary']}",
        f"**Category** {packet['category']} ({packet['category_confidence']:.0%}) · **Priority** {packet['priority']} · "
        f"**SLA** {packet['sla_hours']:g} h{' ⚠ at risk' if packet['sla_at_risk'] else ''} · "
        f"**Sentiment** {packet['sentiment']} · **Owner** {packet['suggested_owner']}",
    ]
    if packet.get("triage_mode") == "zero-shot":
        lines.append("**Triage** zero-shot from the category descriptions (no labelled tickets): check the category")
    lines.extend(f"**Setup** {note}" for note in packet.get("setup_notes", [])
                 if not note.startswith("No labelled tickets"))
    if c.get("known"):
        lines.append(f"**Customer** {c['name']} · plan {c['plan']}{' · VIP' if c.get('vip') else ''} · "
                     f"account owner {c.get('account_owner') or '—'}")
        if c.get("contract_notes"):
            lines.append(f"**Contract notes** {c['contract_notes']}")
        if c.get("open_incidents"):
            lines.append(f"**Open incidents** {', '.join(c['open_incidents'])}")
    else:
        lines.append("**Customer** not found in the CRM")
    lines.append(f"**Risk flags** {', '.join(packet['risk_flags']) or 'none'}")
    if packet.get("llm"):
        m = packet["llm"]
        lines.append(f"**Model** {m['model_calls']} calls · {m['input_tokens']}+{m['output_tokens']} tokens · {m['latency_ms']} ms"
                     + (f" · ⚠ fallback: {m['fallback_reason']}" if m["fallback"] else ""))
        if m.get("analysis"):
            lines.append(f"**Model summary** {m['analysis']['summary']}")
    esc = packet.get("escalation", {})
    lines.append(f"**Escalation** {esc.get('team', 'none')} — {esc.get('reason', '')}")
    lines.append("\n### Sources for the reply (customer-facing)")
    lines.extend(_source_line(s) for s in packet["sources"])
    if not packet["sources"]:
        lines.append("- none found")
    if packet.get("reviewer_sources"):
        lines.append("\n### Internal procedures (for the reviewer, never quoted to the customer)")
        lines.extend(_source_line(s) for s in packet["reviewer_sources"])
    for conflict in packet.get("conflicts", []):
        lines.append(f"- ⚠ conflict: {conflict['reason']} (`{conflict['superseded']}` → `{conflict['current']}`)")
    if packet["missing_information"]:
        lines.append(f"\n**Missing information** {', '.join(packet['missing_information'])}")
    lines.append("\n### Draft reply\n")
    lines.append("\n".join(f"> {line}" if line else ">" for line in packet["draft_reply"].splitlines()))
    lines.append("\n### Proposed actions")
    for a in packet["proposed_actions"]:
        gate = "needs approval" if a["needs_approval"] else "automatic"
        lines.append(f"- `{a['id']}` **{a['name']}** [{a['tier']}, {gate}] — {a['why']}")
    return "\n".join(lines)


def _source_line(s: dict[str, Any]) -> str:
    note = f" (replaces outdated {s['replaces']})" if s.get("replaces") else ""
    section = f" › {s['section']}" if s.get("section") else ""
    updated = f"updated {s['updated_at']}" if s.get("updated_at_known", True) else "date unknown"
    return f"- `{s['id']}` {s['title']}{section} — {s['authority']}, {s['kind']}, {updated}, score {s['score']:.2f}{note}"
