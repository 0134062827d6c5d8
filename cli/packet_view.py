"""A run as a reviewer reads it in a terminal: the packet, the reply actually sent, decisions and ledger.

Rendered from the packet's keys (:func:`graph.packet.build_packet`), read with ``.get`` so new
keys never break it, not from its Markdown. After a decision the reply shown is the one in the
ledger's ``send_reply`` entry, i.e. the reviewer's edited text when they edited it.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from cli.render import SENTIMENT_STYLE, clean, flags_text, priority_text, status_text, styled, tier_text

MESSAGE_SHOWN = 4_000
DECISION_WORDS = {"accept": "accepted", "edit": "edited", "response": "asked for a redraft", "ignore": "rejected",
                  "superseded": "superseded by a customer message", "expired": "expired (approval deadline passed)"}
HINT = "(or --edit FILE | --respond TEXT | --reject)"


def _heading(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _block(text: Any, limit: int | None = None) -> Padding:
    body = str(text or "")
    more = len(body) - limit if limit is not None and len(body) > limit else 0
    shown = Text(clean(body[:limit] if more else body, one_line=False) or "(empty)")
    if more:
        shown.append(f"\n… {more:,} more characters not shown (the full text is in the ticket)", style="dim italic")
    return Padding(shown, (0, 0, 0, 2))


def _facts(packet: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    confidence = packet.get("category_confidence")
    category = styled(packet.get("category", "?"))
    if isinstance(confidence, int | float):
        category.append(f" ({confidence:.0%})", style="dim")
    sla = Text(f"{packet['sla_hours']:g} h target" if isinstance(packet.get("sla_hours"), int | float) else "?")
    if packet.get("sla_at_risk"):
        sla.append("  ⚠ at risk", style="bold red")
    rows: list[tuple[str, Text]] = [
        ("Category", category), ("Priority", priority_text(packet.get("priority", "?"))), ("SLA", sla),
        ("Sentiment", styled(packet.get("sentiment", "?"), SENTIMENT_STYLE.get(str(packet.get("sentiment")), ""))),
        ("Owner", styled(packet.get("suggested_owner", "?"))),
    ]
    c = packet.get("customer") or {}
    if c.get("known"):
        who = f"{c.get('name')} · plan {c.get('plan')}{' · VIP' if c.get('vip') else ''} · account owner {c.get('account_owner') or '—'}"
        rows.append(("Customer", styled(who)))
        if c.get("contract_notes"):
            rows.append(("Contract notes", styled(c["contract_notes"])))
        if c.get("open_incidents"):
            rows.append(("Open incidents", styled(", ".join(map(str, c["open_incidents"])), "yellow")))
    else:
        rows.append(("Customer", styled("not found in the CRM", "yellow")))
    rows.append(("Risk flags", flags_text(list(packet.get("risk_flags") or []))))
    if packet.get("language_note"):
        rows.append(("Language", styled(f"⚠ {clean(packet['language_note'])}", "yellow")))
    if packet.get("triage_mode") == "zero-shot":
        rows.append(("Triage", styled("zero-shot from the category descriptions (no labelled tickets): check the category", "yellow")))
    rows += [("Setup", styled(note)) for note in packet.get("setup_notes") or [] if not str(note).startswith("No labelled tickets")]
    if packet.get("llm"):
        m = packet["llm"]
        model = f"{m.get('model_calls')} calls · {m.get('input_tokens')}+{m.get('output_tokens')} tokens · {m.get('latency_ms')} ms"
        rows.append(("Model", styled(model + (f" · ⚠ fallback: {clean(m.get('fallback_reason'))}" if m.get("fallback") else ""))))
    if packet.get("requests"):
        rows.append(("Requests", styled("; ".join(f"{r.get('type')} ({r.get('confidence', 0):.0%})" for r in packet["requests"]))))
    esc = packet.get("escalation") or {}
    rows.append(("Escalation", styled(f"{esc.get('team', 'none')} — {esc.get('reason', '')}".rstrip(" —"))))
    others = (esc.get("matched") or [])[1:]
    if others:
        rows.append(("Other matching rules", styled("; ".join(f"{m.get('name')} → {m.get('team')}" for m in others))))
    if packet.get("missing_information"):
        rows.append(("Missing information", styled(", ".join(map(str, packet["missing_information"])), "yellow")))
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def _sources(sources: list[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 2, 0, 0))
    for name in ("source", "title", "authority", "kind", "updated", "score"):
        table.add_column(name, justify="right" if name == "score" else "left", header_style="bold dim")
    for s in sources:
        title = f"{s.get('title', '')}{' › ' + str(s['section']) if s.get('section') else ''}"
        if s.get("replaces"):
            title += f" (replaces outdated {s['replaces']})"
        updated = str(s.get("updated_at", "")) if s.get("updated_at_known", True) else "unknown"
        score = s.get("score")
        table.add_row(styled(s.get("id", ""), "cyan"), styled(title), styled(s.get("authority", "")), styled(s.get("kind", "")),
                      styled(updated), Text(f"{score:.2f}" if isinstance(score, int | float) else ""))
    return table


def _actions(actions: list[dict[str, Any]], applied: set[str]) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 2, 0, 0))
    for name in ("id", "action", "tier", "gate", "details"):
        table.add_column(name, header_style="bold dim", no_wrap=name != "details")
    for a in actions:
        args = a.get("args") or {}
        detail = Text(clean(a.get("why", "")))
        shown = [f"{key} {clean(args[key])}" for key in ("to", "invoice", "amount") if args.get(key) not in (None, "")]
        if shown:
            detail.append(f" ({'; '.join(shown)})")
        if a.get("missing"):
            detail.append(f" ⚠ incomplete — missing {', '.join(map(clean, a['missing']))}: edit to supply, or drop it", style="bold red")
        gate = Text("needs approval", style="yellow") if a.get("needs_approval") else Text("automatic", style="dim")
        if a.get("id") in applied:
            gate = Text("applied ✓", style="green")
        table.add_row(styled(a.get("id", ""), "cyan"), styled(a.get("name", ""), "bold"), tier_text(a.get("tier", "")), gate, detail)
    return table


def packet_renderable(packet: dict[str, Any], sent: dict[str, Any] | None = None, applied: set[str] | frozenset[str] = frozenset(),
                      reply_note: str = "") -> Group:
    """The packet: facts, message, sources, the reply (``sent`` when one was sent) and the proposed actions."""
    parts: list[Any] = [Text(f"Ticket {clean(packet.get('ticket_id', '?'))} — {clean(packet.get('summary', ''))}", style="bold"),
                        _facts(packet)]
    if "message" in packet:
        parts += [_heading("Customer message"), _block(packet["message"], MESSAGE_SHOWN)]
    parts.append(_heading("Sources for the reply (customer-facing)"))
    parts.append(Padding(_sources(packet["sources"]), (0, 0, 0, 2)) if packet.get("sources") else Text("  none found", style="yellow"))
    if packet.get("reviewer_sources"):
        parts.append(_heading("Internal sources: procedures, runbooks, past tickets (for the reviewer, never quoted to the customer)"))
        parts.append(Padding(_sources(packet["reviewer_sources"]), (0, 0, 0, 2)))
    for conflict in packet.get("conflicts") or []:
        parts.append(styled(f"  ⚠ conflict: {clean(conflict.get('reason'))} ({conflict.get('superseded')} → {conflict.get('current')})",
                            "yellow"))
    if sent is not None:
        parts += [_heading(f"Reply sent to {clean(sent.get('to') or 'the customer')}{reply_note}"), _block(sent.get("body"))]
    else:
        parts += [_heading(f"Draft reply{reply_note}"), _block(packet.get("draft_reply"))]
    parts += [_heading("Proposed actions"), Padding(_actions(list(packet.get("proposed_actions") or []), set(applied)), (0, 0, 0, 2))]
    return Group(*parts)


def _decisions(decisions: list[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 2, 0, 0))
    for name in ("when", "reviewer", "decision", "comment / changes"):
        table.add_column(name, header_style="bold dim", no_wrap=name != "comment / changes")
    for d in decisions:
        changes = d.get("changes") or {}
        notes = [f"comment: {clean(d['comment'])}"] if d.get("comment") else []
        notes += ["reply edited"] if changes.get("reply_edited") else []
        notes += [f"dropped {', '.join(changes['dropped'])}"] if changes.get("dropped") else []
        notes += [f"arguments edited: {', '.join(changes['args_edited'])}"] if changes.get("args_edited") else []
        notes += [f"rejected {', '.join(changes['rejected'])}"] if changes.get("rejected") else []
        if changes.get("recipient_changed"):
            moved = changes["recipient_changed"]
            notes.append(f"recipient {clean(moved.get('from'))} → {clean(moved.get('to'))}")
        kind = str(d.get("type", "?"))
        table.add_row(styled(d.get("at", "")), styled(d.get("reviewer", "")),
                      styled(DECISION_WORDS.get(kind, kind), "red" if kind == "ignore" else "bold"), styled("; ".join(notes) or "—"))
    return table


def _ledger(rows: list[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 2, 0, 0))
    for name in ("applied at", "id", "action", "tier", "result"):
        table.add_column(name, header_style="bold dim", no_wrap=name != "result")
    for row in rows:
        table.add_row(styled(row.get("applied_at", "")), styled(row.get("action_id", ""), "cyan"), styled(row.get("action", "")),
                      tier_text(row.get("tier", "")), styled(_result(row.get("result"))))
    return table


def _result(raw: Any) -> str:
    """A ledger result as ``key value; …`` (lists joined by commas) instead of raw JSON."""
    try:
        result = json.loads(str(raw))
    except (TypeError, json.JSONDecodeError):
        return str(raw or "")
    if not isinstance(result, dict):
        return str(result)
    return "; ".join(f"{k} {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in result.items())


def sent_reply(ledger: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The reply actually sent to the customer: the arguments of the ledger's ``send_reply`` entry (None if none)."""
    for row in ledger:
        if row.get("action") == "send_reply":
            try:
                args = json.loads(str(row.get("args") or "{}"))
            except json.JSONDecodeError:
                args = {}
            return args if isinstance(args, dict) else {}
    return None


def print_view(console: Console, view: dict[str, Any], command: str = "support-agent") -> None:
    """Print a run: packet (with the reply actually sent), status, pending approvals, decisions and ledger."""
    ledger, decisions = list(view.get("ledger") or []), list(view.get("decisions") or [])
    sent = sent_reply(ledger)
    edits = [d for d in decisions if (d.get("changes") or {}).get("reply_edited")]
    note = f" (edited by {clean(edits[-1].get('reviewer'))})" if sent is not None and edits else ""
    if view.get("packet"):
        console.print(packet_renderable(view["packet"], sent, {str(r.get("action_id")) for r in ledger}, note))
    status = Text("\nStatus: ", style="bold")
    status.append_text(status_text(view.get("status", "unknown")))
    if view.get("archived"):
        status.append(" (archived: checkpoints dropped by retention)", style="dim")
    console.print(status)
    thread = clean(view.get("thread_id", "?"))
    for item in view.get("interrupts") or []:
        console.print(Text(f"Pending approval {clean(item.get('id'))} — resume with:\n  {command} review {thread} --accept   {HINT}"))
    if decisions:
        console.print(_heading("Decisions"))
        console.print(Padding(_decisions(decisions), (0, 0, 0, 2)))
    if ledger:
        console.print(_heading("Ledger (actions applied, each once)"))
        console.print(Padding(_ledger(ledger), (0, 0, 0, 2)))
    failed = [r for r in view.get("outbox") or [] if r.get("status") in ("pending", "failed")]
    for row in failed:
        console.print(styled(f"  ⚠ {row.get('action_id')} {row.get('status')}: {row.get('last_error') or 'not applied yet'}", "yellow"))
