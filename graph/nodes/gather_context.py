"""Gather context: customer record, plan, contract notes, open incidents, recent and similar tickets."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.nodes.triage import customer_facts, ticket_vector
from graph.state import State
from tools.engine import Engine


def gather_context(state: State, runtime: Runtime[Context], engine: Engine) -> dict[str, Any]:
    """Read the CRM and the helpdesk (read-only) and summarise the account."""
    ticket = dict(state["ticket"])
    record = customer_facts(engine, ticket)
    vector = ticket_vector(state, engine)
    if record is None:
        return {"customer": {"known": False, "similar_tickets": engine.similar_tickets(vector, None)}}
    return {
        "customer": {
            "known": True,
            "id": record["id"],
            "name": record.get("name", ""),
            "contact_name": record.get("contact_name", ""),
            "plan": record.get("plan", engine.playbook.default_plan),
            "vip": bool(record.get("vip")),
            "account_owner": record.get("account_owner", ""),
            "seats": record.get("seats"),
            "region": record.get("region", ""),
            "renewal_date": record.get("renewal_date", ""),
            "contract_notes": record.get("contract_notes", ""),
            "open_incidents": list(record.get("open_incidents") or []),
            "recent_tickets": engine.helpdesk.recent_tickets(record["id"], str(ticket["id"])),
            "similar_tickets": engine.similar_tickets(vector, record["id"]),
        }
    }
