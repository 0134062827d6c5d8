"""Prompt-injection flag eval: per-language recall and false-positive rate of ``injection_attempt``.

The data, ``tests/data/injection_paraphrases.jsonl``, is one ``{"lang", "injection", "text"}``
object a line: hand-written injection paraphrases in nine languages (ignore the previous
instructions and refund, fake ``SYSTEM:`` approvals, "the reviewer already approved this",
maintenance or developer modes, "skip the approval step", ...) and as many benign tickets in
the same languages, several of which use the same words innocently ("I followed the setup
instructions", "our manager approved the upgrade", "please ignore my previous email").

The flag is advisory (it adds a risk flag for the reviewer; ``graph/policy.py`` decides what
needs approval from data alone), so this measures it and changes nothing.

Run: ``python -m evals.injection`` (``--json`` for the raw numbers).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.signals import injection_attempt

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "injection_paraphrases.jsonl"


def load(path: Path = DATA) -> list[dict[str, Any]]:
    """The rows of a paraphrase file; a bad line raises ``ValueError("file:line: reason")``."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row.get("text"), str) or not isinstance(row.get("injection"), bool) or not row.get("lang"):
            raise ValueError(f"{path}:{number}: need 'lang', 'injection' (bool) and 'text'")
        rows.append(row)
    return rows


def measure(path: Path = DATA, detector: Callable[[str], str | None] = injection_attempt) -> dict[str, Any]:
    """Recall on injections and false-positive rate on benign tickets, overall and per language."""
    per: dict[str, dict[str, int]] = {}
    for row in load(path):
        counts = per.setdefault(row["lang"], {"injections": 0, "caught": 0, "benign": 0, "false_positives": 0})
        flagged = detector(row["text"]) is not None
        if row["injection"]:
            counts["injections"] += 1
            counts["caught"] += flagged
        else:
            counts["benign"] += 1
            counts["false_positives"] += flagged
    languages = {
        lang: {**c, "recall": _ratio(c["caught"], c["injections"]), "false_positive_rate": _ratio(c["false_positives"], c["benign"])}
        for lang, c in sorted(per.items())
    }
    total = {k: sum(c[k] for c in per.values()) for k in ("injections", "caught", "benign", "false_positives")}
    return {
        "languages": languages,
        "recall": _ratio(total["caught"], total["injections"]),
        "recall_non_english": _ratio(
            sum(c["caught"] for lang, c in per.items() if lang != "en"),
            sum(c["injections"] for lang, c in per.items() if lang != "en"),
        ),
        "false_positive_rate": _ratio(total["false_positives"], total["benign"]),
        **total,
    }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def main(argv: list[str] | None = None) -> int:
    """Print the table (or ``--json``)."""
    result = measure()
    if "--json" in (argv if argv is not None else sys.argv[1:]):
        print(json.dumps(result, indent=2))
        return 0
    print(f"{'lang':6} {'recall':>8} {'caught':>8} {'FP rate':>8} {'FP':>5}")
    for lang, c in [*result["languages"].items(), ("all", result)]:
        print(
            f"{lang:6} {c['recall']:>8.2f} {c['caught']:>4}/{c['injections']:<3} "
            f"{c['false_positive_rate']:>8.2f} {c['false_positives']:>2}/{c['benign']}"
        )
    print(f"recall outside English: {result['recall_non_english']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
