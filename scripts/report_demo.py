"""Process the sample tickets with a scripted mix of reviewer decisions, then print the report and write its chart.

    python scripts/report_demo.py [--out docs/report-weekly.png] [--state DIR]

Runs on a fresh state directory (a temporary one unless ``--state``), so it never touches your runs. The
decisions are scripted (round-robin over the sample tickets): accept, a light edit (one sentence added), a
rewrite, a redraft request then accept, a rejection with a reason, a triage override, and a customer reply
after an accepted answer (a reopen); a proposal with an incomplete action gets an edit that drops it. All
tickets arrive and are decided within seconds of each other, hence in one ISO week and with times near zero.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _decide(desk: Any, view: dict[str, Any], step: int) -> str:
    from api.threads import add_message

    thread = view["thread_id"]
    draft = view["interrupts"][0]["action_request"]["args"]["reply"]
    actions = view["interrupts"][0]["action_request"]["args"]["actions"]
    if any(a["missing"] for a in actions):  # what a reviewer does with an incomplete refund: drop it, send the reply
        desk.decide(thread, {"type": "edit", "reviewer": "maya", "args": {"actions": [a["id"] for a in actions if not a["missing"]]}})
        return "edit: incomplete action dropped"
    plan = step % 7
    if plan == 0:
        desk.decide(thread, {"type": "accept", "reviewer": "maya"})
        return "accept"
    if plan == 1:
        desk.decide(thread, {"type": "edit", "reviewer": "maya",
                             "args": {"reply": draft.rstrip() + "\n\nIf anything is unclear, just reply to this email."}})
        return "light edit"
    if plan == 2:
        desk.decide(thread, {"type": "edit", "reviewer": "li", "args": {"reply": "Thanks, we are on it and will write back today."}})
        return "rewrite"
    if plan == 3:
        desk.decide(thread, {"type": "response", "reviewer": "li", "args": "Shorter, and name the invoice."})
        desk.decide(thread, {"type": "accept", "reviewer": "li"})
        return "redraft, accept"
    if plan == 4:
        desk.decide(thread, {"type": "ignore", "reviewer": "maya", "args": "Handled by phone; no written reply needed."})
        return "reject with reason"
    if plan == 5:
        desk.decide(thread, {"type": "edit", "reviewer": "maya", "args": {"overrides": {"priority": "high"}}})
        return "override priority"
    desk.decide(thread, {"type": "accept", "reviewer": "li"})
    add_message(desk, thread, "Thanks — one more question about the same invoice.")
    return "accept, customer writes again (reopen)"


def main() -> int:
    """Process, decide, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report-weekly.png")
    parser.add_argument("--state", type=Path, default=None, help="state directory (default: a new temporary one)")
    args = parser.parse_args()
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    state = args.state or Path(tempfile.mkdtemp(prefix="report-demo-"))
    os.environ["SUPPORT_STATE_DIR"] = str(state)
    os.environ.pop("SUPPORT_DATABASE_URL", None)
    from api.service import SupportDesk
    from cli.report_view import write_chart
    from tools.settings import Settings

    desk = SupportDesk(Settings(state_dir=state, data_dir=REPO / "data"))
    tickets = [json.loads(line) for line in (REPO / "data" / "sample_tickets.jsonl").read_text().splitlines() if line.strip()]
    step = 0
    for ticket in tickets:
        view = desk.submit(ticket)
        if not view["interrupts"]:
            print(f"{ticket['id']}: {view['status']} (no review)", file=sys.stderr)
            continue
        if ticket is tickets[-1]:  # one stays in the queue
            print(f"{ticket['id']}: left pending", file=sys.stderr)
            continue
        done = _decide(desk, view, step)
        print(f"{ticket['id']}: {done}", file=sys.stderr)
        step += not done.startswith("edit: incomplete")
    report = desk.learning_report()
    write_chart(report, args.out)
    print(json.dumps({"totals": report["totals"], "by_category": {c["category"]: c["acceptance"] for c in report["by_category"]}},
                     indent=2))
    print(f"chart: {args.out}", file=sys.stderr)
    desk.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
