"""Schema of an evaluation example (``sample_eval.jsonl``): a pydantic model and its JSON Schema.

``python -m evals.datasets.schema`` rewrites ``sample_eval.schema.json`` from the model and
validates every line of ``sample_eval.jsonl`` against it (also done by the runner on load).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

HERE = Path(__file__).resolve().parent
DATASET = HERE / "sample_eval.jsonl"
SCHEMA_FILE = HERE / "sample_eval.schema.json"

Category = Literal["billing", "refund", "account_access", "permissions", "bug", "outage", "how_to", "integrations",
                   "security", "privacy_legal", "cancellation", "feature_request"]
Priority = Literal["low", "normal", "high", "urgent"]
Team = Literal["none", "billing", "security", "legal", "engineering", "success"]
MissingLabel = Literal["invoice number", "reason for the refund", "workspace URL", "account email", "steps to reproduce"]


class Ticket(BaseModel):
    """The ticket as the agent receives it."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^E-\d{3}$")
    customer_id: str = Field(pattern=r"^cus_\d{3}$")
    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)


class Expected(BaseModel):
    """What a support lead expects in the packet."""

    model_config = ConfigDict(extra="forbid")
    category: Category
    priority: Priority
    escalation: Team
    sentiment: Literal["negative", "neutral"] = Field(description="The tone a lead reads; input to priority rules.")
    required_risk_flags: list[str] = Field(description="Flags the packet must carry (money, security, legal, vip, ...).")
    must_cite: list[str] = Field(description="Sources the reply should cite (a reply about refunds cites the refund policy).")
    must_not_cite: list[str] = Field(description="Superseded or internal sources the reply must never cite.")
    must_gate: list[str] = Field(description="Actions that, when proposed, must stop at human approval.")
    missing_information: list[MissingLabel] = Field(description="Required information the ticket does not give.")


class EvalExample(BaseModel):
    """One line of the dataset."""

    model_config = ConfigDict(extra="forbid")
    ticket: Ticket
    expected: Expected
    tags: list[str] = Field(default_factory=list, description="e.g. prompt_injection, vip, superseded_trap.")
    note: str = ""


def load(path: Path = DATASET) -> list[EvalExample]:
    """Parse and validate a dataset file; raise ``ValueError`` naming the first bad line."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            examples.append(EvalExample.model_validate_json(line))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from exc
    ids = [e.ticket.id for e in examples]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: duplicate ticket ids")
    return examples


def main() -> int:
    """Write the JSON Schema file and validate the dataset."""
    SCHEMA_FILE.write_text(json.dumps(EvalExample.model_json_schema(), indent=2) + "\n", encoding="utf-8")
    examples = load()
    print(f"{SCHEMA_FILE.name} written; {len(examples)} examples valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
