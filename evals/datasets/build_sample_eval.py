"""Build ``sample_eval.jsonl`` from the hand-written tickets in ``tickets_[abc].py``.

Ticket text, category, tone, sources and special gates are written by hand. Priority,
escalation team and missing information follow the playbook's written rules (the spec a
support lead applies), implemented here independently of the agent's code:

* priority: category default, +1 per matching ``priority_rules`` entry (VIP; enterprise and a
  blocking keyword; negative tone as read by the author; a wide-impact keyword);
* escalation: the first matching ``escalation_rules`` entry, else ``none``;
* missing information: the category's ``requires`` keys whose ``required_info`` pattern is
  absent from subject + body, corrected by hand (``has`` / ``lacks``) where a lead reads the
  ticket differently from the pattern (e.g. an invoice number without the ``INV-`` prefix).

Run ``python -m evals.datasets.build_sample_eval`` after editing a ticket file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from evals.datasets.schema import DATASET, EvalExample
from evals.datasets.tickets_a import TICKETS_A
from evals.datasets.tickets_b import TICKETS_B
from evals.datasets.tickets_c import TICKETS_C

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
PRIORITIES = ["low", "normal", "high", "urgent"]
CATEGORY_FLAG = {"security": "security", "privacy_legal": "legal", "outage": "outage", "refund": "money"}
CATEGORY_GATE = {"refund": "issue_refund", "privacy_legal": "legal_statement", "cancellation": "close_account",
                 "permissions": "change_permissions"}


def _front_matter(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1]))


def _rule_matches(when: dict[str, Any], facts: dict[str, Any], text: str) -> bool:
    for key, value in when.items():
        if key == "keywords_any":
            if not any(word.lower() in text for word in value):
                return False
        elif isinstance(value, list):
            if facts.get(key) not in value:
                return False
        elif facts.get(key) != value:
            return False
    return True


def label(spec: tuple[Any, ...], number: int, playbook: dict[str, Any], customers: dict[str, dict[str, Any]],
          docs: list[dict[str, Any]]) -> dict[str, Any]:
    """One dataset line from one hand-written spec."""
    customer_id, category, tone, subject, body, opts = spec
    customer = customers[customer_id]
    text = f"{subject}\n{body}".lower()
    facts = {"category": category, "vip": bool(customer["vip"]), "plan": customer["plan"],
             "sentiment": "negative" if tone == "neg" else "neutral"}
    level = PRIORITIES.index(playbook["categories"][category]["default_priority"])
    for rule in playbook["priority_rules"]:
        if _rule_matches(rule["when"], facts, text):
            level = min(level + int(rule.get("raise", 1)), 3)
    team = next((r["team"] for r in playbook["escalation_rules"] if _rule_matches(r["when"], facts, text)), "none")
    flags = [CATEGORY_FLAG[category]] if category in CATEGORY_FLAG else []
    flags += [f for f in opts.get("flags", []) if f not in flags]
    if customer["vip"]:
        flags.append("vip")
        if tone == "neg":
            flags.append("vip_unhappy")
    if opts.get("inj"):
        flags.append("prompt_injection_suspected")
    gates = ["send_reply"] + (["create_escalation"] if team != "none" else [])
    if category in CATEGORY_GATE and CATEGORY_GATE[category] not in opts.get("nogate", []):
        gates.append(CATEGORY_GATE[category])
    gates += [g for g in opts.get("gate", []) if g not in gates]
    missing = []
    for key in playbook["categories"][category]["requires"]:
        info = playbook["required_info"][key]
        present = re.search(info["pattern"], f"{subject}\n{body}", re.IGNORECASE) is not None
        present = (present or key in opts.get("has", [])) and key not in opts.get("lacks", [])
        if not present:
            missing.append(info["label"])
    avoid = list(opts.get("avoid", []))
    superseded = {old for d in docs for old in d["supersedes"]}
    for doc in docs:
        if category in doc["categories"] and (doc["audience"] == "internal" or doc["id"] in superseded):
            if doc["id"] not in avoid:
                avoid.append(doc["id"])
    tags = [t for t, on in (("prompt_injection", opts.get("inj")), ("vip", customer["vip"]),
                            ("superseded_trap", opts.get("avoid")), ("angry", tone == "neg"),
                            ("near_miss", "near-miss" in opts.get("note", ""))) if on]
    return {
        "ticket": {"id": f"E-{number:03d}", "customer_id": customer_id, "subject": subject, "body": body},
        "expected": {"category": category, "priority": PRIORITIES[level], "escalation": team,
                     "sentiment": facts["sentiment"], "required_risk_flags": flags, "must_cite": opts.get("cite", []),
                     "must_not_cite": avoid, "must_gate": gates, "missing_information": missing},
        "tags": tags, "note": opts.get("note", ""),
    }


def main() -> int:
    """Write the dataset and validate it against the schema."""
    playbook = yaml.safe_load((DATA / "playbook.yaml").read_text(encoding="utf-8"))
    customers = {c["id"]: c for c in map(json.loads, (DATA / "customers.jsonl").read_text().splitlines()) if c}
    docs = [_front_matter(p) for p in sorted((DATA / "knowledge").glob("*.md"))]
    known = {d["id"] for d in docs}
    lines = []
    for number, spec in enumerate(TICKETS_A + TICKETS_B + TICKETS_C, start=1):
        row = label(spec, number, playbook, customers, docs)
        unknown = set(row["expected"]["must_cite"] + row["expected"]["must_not_cite"]) - known
        if unknown:
            raise ValueError(f"E-{number:03d}: unknown sources {sorted(unknown)}")
        EvalExample.model_validate(row)
        lines.append(json.dumps(row, ensure_ascii=False))
    DATASET.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} examples to {DATASET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
