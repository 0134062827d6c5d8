"""The support packet (what a reviewer reads) and its Markdown rendering, where every text is data.

Customer-supplied text (subject, message, names, notes) and even our own strings are
escaped on the way into Markdown: line breaks inside a field become ``⏎``, Markdown and
HTML punctuation is backslash-escaped, control and bidi characters are replaced. So no
ticket can forge a section, a flag or a tier in what the reviewer reads.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from graph.packet_schema import RiskFlag, SupportPacket, TicketMessage, band_of, severity_of
from graph.state import State

MESSAGE_SHOWN = 4_000
SUBJECT_MAX = 200
_BREAKS = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_INLINE = re.compile(r"([\\`*_{}\[\]<>#|~&!])")
_LEADING = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))([.)]?)")
_TAG = re.compile(r"<[^<>]{0,500}>")
_SUBJECT_DROP = re.compile(r"[<>`*#|\[\]{}\u200b-\u200d\u2060\ufeff]")


def md_inline(value: Any) -> str:
    """``value`` as one line of literal Markdown text: no line breaks, markup or control characters survive."""
    text = _CONTROLS.sub("\ufffd", _BREAKS.sub(" ⏎ ", str(value)).replace("\t", " "))
    return _INLINE.sub(r"\\\1", text)


def md_quote(value: Any, limit: int | None = None) -> str:
    """``value`` as a Markdown block quote of literal text (each line escaped), cut to ``limit`` characters."""
    text = str(value)
    cut = limit is not None and len(text) > limit
    lines = [_LEADING.sub(_escape_marker, md_inline(line)) for line in (text[:limit] if cut else text).splitlines()]
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in lines) or ">"
    return quoted + (f"\n\n_… {len(text) - (limit or 0):,} more characters not shown (the full text is in the ticket)_" if cut else "")


def _escape_marker(m: re.Match[str]) -> str:
    r"""``- x`` → ``\- x``, ``1. x`` → ``1\. x``: a quoted line never starts a list or a heading underline."""
    return f"{m[1]}{m[2]}\\{m[3]}" if m[3] else f"{m[1]}\\{m[2]}"


def _code(value: Any) -> str:
    return "`" + _CONTROLS.sub("\ufffd", _BREAKS.sub(" ", str(value))).replace("`", "'") + "`"


def sanitize_subject(text: str) -> str:
    """A plain-text email subject: no HTML tags or markup, no control characters, whitespace collapsed, ≤ 200 chars."""
    clean = unicodedata.normalize("NFKC", html.unescape(str(text)))
    clean = _SUBJECT_DROP.sub("", _TAG.sub(" ", clean))
    clean = " ".join(_CONTROLS.sub(" ", _BREAKS.sub(" ", clean)).split())
    clean = re.sub(r"^(?:re\s*:\s*)+", "Re: ", clean, flags=re.I).strip()
    if len(clean) > SUBJECT_MAX:
        clean = clean[: SUBJECT_MAX - 1].rsplit(" ", 1)[0].rstrip() + "…"
    return clean


def build_packet(state: State) -> dict[str, Any]:
    """Assemble the packet from the state: a :class:`SupportPacket`, stored as plain JSON."""
    ticket, triage, customer = dict(state["ticket"]), state["triage"], state.get("customer", {})
    draft = state.get("draft", {})
    who = customer.get("name") or ticket.get("email") or "an unknown customer"
    llm = None if "llm_usage" not in draft else {
        **{k: v for k, v in draft["llm_usage"].items() if k != "calls"}, "analysis": draft.get("llm_analysis"),
        "fallback": draft.get("llm_fallback", False), "fallback_reason": draft.get("llm_fallback_reason", ""),
        "category_source": triage.get("category_source", "classifier")}
    sources = state.get("sources", [])
    outdated = {c["superseded"] for c in state.get("conflicts", [])}
    flags = state.get("risk_flags", [])
    actions = state.get("proposed_actions", [])
    reply_to = next((a["args"].get("to") for a in actions if a["name"] == "send_reply"), None)
    packet = SupportPacket(
        ticket_id=ticket["id"],
        workspace=state.get("workspace", "default"),
        summary=f"{triage['category'].replace('_', ' ').title()} request from {who} "
                f"({customer.get('plan', 'unknown plan')}): {ticket['subject']}",
        ticket=TicketMessage(id=ticket["id"], subject=str(ticket.get("subject", "")), body=str(ticket.get("body", "")),
                             sender=str(ticket.get("email") or reply_to or customer.get("contact_email") or ""),
                             customer_id=ticket.get("customer_id") or customer.get("id"),
                             channel=str(ticket.get("channel") or "email"),
                             received_at=datetime.now(UTC).isoformat(timespec="seconds")),
        message=str(ticket.get("body", "")),
        customer=customer,
        category=triage["category"],
        category_confidence=triage["confidence"],
        confidence_band=band_of(float(triage["confidence"])),
        category_alternatives=triage.get("alternatives", []),
        triage_mode=triage.get("mode", "trained"),
        model_version=str(triage.get("model_version", "base")),
        setup_notes=triage.get("setup_notes", []),
        priority=triage["priority"],
        sla_hours=triage["sla_hours"],
        sla_at_risk=triage["sla_at_risk"],
        sentiment=triage["sentiment"],
        requests=[{"type": r["type"], "confidence": r["confidence"], "evidence": r["evidence"], "action": r["action"]}
                  for r in triage.get("requests", [])],
        language=triage.get("language", "en"),
        language_note=triage.get("language_note", ""),
        sources=[{**s, "badge": _badge(s, outdated)} for s in sources if s["audience"] == "customer"],
        reviewer_sources=[{**s, "badge": _badge(s, outdated)} for s in sources if s["audience"] != "customer"],
        conflicts=state.get("conflicts", []),
        risk_flags=flags,
        flags=[RiskFlag(name=f, severity=severity_of(f)) for f in flags],
        injection_phrase=triage.get("injection"),
        escalation=state.get("escalation", {}),
        suggested_owner=triage["owner"],
        draft_reply=draft.get("body", ""),
        draft_subject=draft.get("subject", ""),
        citations=draft.get("citations", []),
        missing_information=[m["label"] for m in draft.get("missing_info", [])],
        proposed_actions=actions,
        llm=llm,  # only in llm mode: model calls, tokens, latency, the analysis and any fallback
        messages=state.get("messages", []),
        changes=_changes(state.get("previous") or {}, [m["label"] for m in draft.get("missing_info", [])], flags),
    )
    return packet.model_dump(mode="json", exclude={"llm"} if packet.llm is None else None)  # "llm" only in llm mode


def _changes(previous: dict[str, Any], missing: list[str], flags: list[str]) -> dict[str, Any] | None:
    """What changed since the previous round's packet, if there was one."""
    if not previous:
        return None
    before_missing, before_flags = list(previous.get("missing", [])), list(previous.get("flags", []))
    return {"round": int(previous.get("round", 2)), "previous_draft": str(previous.get("draft", "")),
            "missing_resolved": [m for m in before_missing if m not in missing],
            "missing_added": [m for m in missing if m not in before_missing],
            "flags_added": [f for f in flags if f not in before_flags], "flags_removed": [f for f in before_flags if f not in flags]}


def _badge(source: dict[str, Any], outdated: set[str]) -> str:
    """The authority badge a reviewer sees: official · internal · runbook · past ticket · outdated."""
    if source["id"] in outdated:
        return "outdated"
    kinds = {str(source.get("kind", "")), str(source.get("authority", ""))}
    if "runbook" in kinds:
        return "runbook"
    if "past_ticket" in kinds:
        return "past ticket"
    return "official" if source.get("audience") == "customer" else "internal"


def packet_markdown(packet: dict[str, Any]) -> str:
    """Render a packet as Markdown (interrupt description, CLI, reviewer page); all field text is escaped."""
    e, c = md_inline, packet.get("customer", {})
    lines = [
        f"## Ticket {e(packet['ticket_id'])} — {e(packet['summary'])}",
        f"**Category** {e(packet['category'])} ({packet['category_confidence']:.0%}) · **Priority** {e(packet['priority'])} · "
        f"**SLA** {packet['sla_hours']:g} h{' ⚠ at risk' if packet['sla_at_risk'] else ''} · "
        f"**Sentiment** {e(packet['sentiment'])} · **Owner** {e(packet['suggested_owner'])}",
    ]
    if packet.get("language_note"):
        lines.append(f"**Language** ⚠ {e(packet['language_note'])}")
    if packet.get("triage_mode") == "zero-shot":
        lines.append("**Triage** zero-shot from the category descriptions (no labelled tickets): check the category")
    lines.extend(f"**Setup** {e(note)}" for note in packet.get("setup_notes", [])
                 if not str(note).startswith("No labelled tickets"))
    if c.get("known"):
        lines.append(f"**Customer** {e(c['name'])} · plan {e(c['plan'])}{' · VIP' if c.get('vip') else ''} · "
                     f"account owner {e(c.get('account_owner') or '—')}")
        if c.get("contract_notes"):
            lines.append(f"**Contract notes** {e(c['contract_notes'])}")
        if c.get("open_incidents"):
            lines.append(f"**Open incidents** {', '.join(e(i) for i in c['open_incidents'])}")
    else:
        lines.append("**Customer** not found in the CRM")
    lines.append(f"**Risk flags** {', '.join(e(f) for f in packet['risk_flags']) or 'none'}")
    if packet.get("llm"):
        m = packet["llm"]
        lines.append(f"**Model** {m['model_calls']} calls · {m['input_tokens']}+{m['output_tokens']} tokens · {m['latency_ms']} ms"
                     + (f" · ⚠ fallback: {e(m['fallback_reason'])}" if m["fallback"] else ""))
        if m.get("analysis"):
            lines.append(f"**Model summary** {e(m['analysis']['summary'])}")
    if packet.get("requests"):
        lines.append("**Requests** " + "; ".join(f"{e(r['type'])} ({r['confidence']:.0%})" for r in packet["requests"]))
    esc = packet.get("escalation", {})
    lines.append(f"**Escalation** {e(esc.get('team', 'none'))} — {e(esc.get('reason', ''))}")
    others = [m for m in esc.get("matched", [])[1:]]
    if others:
        lines.append("**Other matching rules** " + "; ".join(f"{e(m['name'])} → {e(m['team'])}" for m in others))
    changes = packet.get("changes")
    if changes:
        lines.append(f"**Updated** after the customer's reply (packet {changes['round']}): "
                     f"answered {', '.join(e(m) for m in changes['missing_resolved']) or 'nothing asked'}; "
                     f"new flags {', '.join(e(f) for f in changes['flags_added']) or 'none'}")
    thread = packet.get("messages") or []
    if len(thread) > 1:
        lines.append("\n### Thread\n")
        for item in thread:
            lines.append(f"**{e(item['author'])}** {e(item.get('at') or '')}\n")
            lines.append(md_quote(item["body"], MESSAGE_SHOWN) + "\n")
    elif "message" in packet:
        lines.append("\n### Customer message\n")
        lines.append(md_quote(packet["message"], MESSAGE_SHOWN))
    lines.append("\n### Sources for the reply (customer-facing)")
    lines.extend(_source_line(s) for s in packet["sources"])
    if not packet["sources"]:
        lines.append("- none found")
    if packet.get("reviewer_sources"):
        lines.append("\n### Internal sources: procedures, runbooks, past tickets (for the reviewer, never quoted to the customer)")
        lines.extend(_source_line(s) for s in packet["reviewer_sources"])
    for conflict in packet.get("conflicts", []):
        lines.append(f"- ⚠ conflict: {e(conflict['reason'])} ({_code(conflict['superseded'])} → {_code(conflict['current'])})")
    if packet["missing_information"]:
        lines.append(f"\n**Missing information** {', '.join(e(m) for m in packet['missing_information'])}")
    lines.append("\n### Draft reply\n")
    lines.append(md_quote(packet["draft_reply"]))
    lines.append("\n### Proposed actions")
    lines.extend(_action_line(a) for a in packet["proposed_actions"])
    return "\n".join(lines)


def _action_line(a: dict[str, Any]) -> str:
    gate = "needs approval" if a["needs_approval"] else "automatic"
    args = a.get("args") or {}
    shown = [f"{key} {md_inline(args[key])}" for key in ("to", "invoice", "amount") if args.get(key) not in (None, "")]
    detail = f" ({'; '.join(shown)})" if shown else ""
    if a.get("missing"):
        detail += f" ⚠ incomplete — missing {', '.join(md_inline(m) for m in a['missing'])}: edit to supply, or drop it"
    return f"- {_code(a['id'])} **{md_inline(a['name'])}** [{md_inline(a['tier'])}, {gate}] — {md_inline(a['why'])}{detail}"


def _source_line(s: dict[str, Any]) -> str:
    e = md_inline
    note = f" (replaces outdated {e(s['replaces'])})" if s.get("replaces") else ""
    section = f" › {e(s['section'])}" if s.get("section") else ""
    updated = f"updated {e(s['updated_at'])}" if s.get("updated_at_known", True) else "date unknown"
    return f"- {_code(s['id'])} {e(s['title'])}{section} — {e(s['authority'])}, {e(s['kind'])}, {updated}, score {s['score']:.2f}{note}"
