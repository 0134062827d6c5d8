"""The digest of a review's proposal: what a decision approves is bound to what the reviewer was shown.

Kept free of heavy imports: the CLI's read-only commands compute it too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def proposal_digest(args: dict[str, Any]) -> str:
    """A digest of what a review asks to approve: the reply and each gated action with its arguments.

    A decision carries (or the server derives) the digest of the proposal the reviewer saw; if the pending
    proposal has a different digest (a redraft, a new message), the decision is refused instead of approving
    something nobody looked at.
    """
    shown = {"reply": args.get("reply"), "actions": [{"id": a.get("id"), "name": a.get("name"), "args": a.get("args")}
                                                       for a in args.get("actions", [])]}
    canonical = json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
