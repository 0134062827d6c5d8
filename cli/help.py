"""Help text of ``support-agent``: an example for every subcommand, help for every positional, one-line errors."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from cli.common import EXIT_USAGE

#: Help of the positional arguments, by name (every subcommand uses these names).
POSITIONALS = {
    "file": "ticket file: JSON for process ('-' reads stdin), JSON Lines (one ticket per line) for batch",
    "thread": "ticket id (or thread id) of the run, as shown by `support-agent reviews`",
    "query": "the question to search the knowledge base for",
    "key_id": "the key's id (first column of `keys list`) or the whole sda_… key",
    "name": "workspace id: 1-64 lower-case letters, digits, '-' or '_'",
    "path": "a file or folder of the export (Markdown, HTML, text, JSON/JSONL)",
    "message": "text file with the message ('-' reads stdin)",
    "id": "the proposal's id (first column of `support-agent gaps`)",
}

#: One or more example invocations per subcommand (its path after ``support-agent``).
EXAMPLES = {
    "worker": ["SUPPORT_QUEUE=procrastinate support-agent worker   # one per core, on any host that reaches PostgreSQL",
               "support-agent worker --once   # drain the queue and exit"],
    "retrain": ["support-agent retrain", "support-agent retrain --workspace acme --corrections relabelled.jsonl --dry-run"],
    "gaps": ["support-agent gaps", "support-agent gaps --json --all"],
    "gaps review": ["support-agent gaps review 3f2a9c1d0b7e --accept",
                    "support-agent gaps review 3f2a9c1d0b7e --accept --title 'Online notarization' --edit article.md",
                    "support-agent gaps review 3f2a9c1d0b7e --dismiss"],
    "timers": ["support-agent timers   # e.g. every minute from cron when the API does not run",
               "support-agent timers --workspace acme --json"],
    "reply": ["support-agent reply S-001 reply.txt   # the customer's answer: a new packet, the pending review superseded",
              "echo 'Called the customer, they will send the invoice.' | support-agent reply S-001 - --note"],
    "process": ["support-agent process ticket.json",
                'echo \'{"subject": "Refund", "body": "Please refund INV-20417", "customer_id": "cus_004"}\' | support-agent process -'],
    "batch": ["support-agent batch data/sample_tickets.jsonl", "support-agent batch tickets.jsonl --json > packets.jsonl"],
    "reviews": ["support-agent reviews", "support-agent reviews --workspace acme --json"],
    "review": ["support-agent review S-001 --accept --reviewer maya",
               "support-agent review S-001 --edit edit.json   # edit.json: {\"reply\": \"Hi …\", \"actions\": [\"a4-send_reply\"]}",
               "support-agent review S-001 --respond \"Mention the 60-day refund window\"", "support-agent review S-001 --reject"],
    "show": ["support-agent show S-001", "support-agent show S-001 --json"],
    "trace": ["support-agent trace S-001", "support-agent trace S-001 --json"],
    "report": ["support-agent report", "support-agent report --workspace acme --json"],
    "retention": ["support-agent retention --older-than 30"],
    "keys create": ["support-agent keys create --role reviewer --workspace acme --name maya"],
    "keys list": ["support-agent keys list", "support-agent keys list --all --json"],
    "keys revoke": ["support-agent keys revoke 3f9a1c2b7d4e"],
    "webhooks secret": ["support-agent webhooks secret --workspace acme   # printed once; give it to the help desk",
                        "support-agent webhooks secret --workspace acme --keep   # rotate: both verify until you revoke the old"],
    "webhooks list": ["support-agent webhooks list --workspace acme", "support-agent webhooks list --all --json"],
    "webhooks revoke": ["support-agent webhooks revoke 3f9a1c2b7d4e"],
    "db upgrade": ["support-agent db upgrade"],
    "db status": ["support-agent db status --json"],
    "eval triage": ["support-agent eval triage --train train.csv --test test.csv"],
    "eval retrieval": ["support-agent eval retrieval --queries queries.jsonl --workspace acme --json"],
    "eval requests": ["support-agent eval requests --test bitext_test.csv --train bitext_train.csv"],
    "workspace create": ["support-agent workspace create acme --data /srv/acme-data"],
    "workspace list": ["support-agent workspace list --json"],
    "import kb": ["support-agent import kb ~/exports/help-centre --workspace acme"],
    "index": ["support-agent index", "support-agent index --workspace acme"],
    "kb search": ["support-agent kb search \"how many API requests per minute\" -k 10"],
}


def epilog(path: str) -> str | None:
    """The ``examples:`` block of the subcommand at ``path`` (e.g. ``keys list``)."""
    lines = EXAMPLES.get(path)
    return "examples:\n" + "\n".join(f"  {line}" for line in lines) if lines else None


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit code 2), never the usage block."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        """Print ``prog: message (see prog --help)`` and exit 2."""
        print(f"{self.prog}: {message} (see: {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
