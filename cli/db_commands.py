"""``support-agent db upgrade | status``: the store's schema migrations (Alembic)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def _where() -> str:
    from tools.settings import get_settings

    settings = get_settings()
    return "PostgreSQL (SUPPORT_DATABASE_URL)" if settings.uses_postgres else str(settings.sqlite_path)


def cmd_db_status(args: argparse.Namespace) -> None:
    """Print the store's schema revision and the newest one."""
    from tools.settings import get_settings
    from tools.store import Store, head_revision

    store = Store.from_settings(get_settings(), pool_size=1, migrate=False)
    try:
        current, head = store.revision(), head_revision()
    finally:
        store.close()
    if args.json:
        print(json.dumps({"database": _where(), "revision": current, "head": head, "up_to_date": current == head}))
        return
    state = "up to date" if current == head else "needs `support-agent db upgrade` (the API and CLI also migrate at start)"
    print(f"{_where()}: revision {current or 'none'} · newest {head} · {state}")


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    """Apply pending migrations (once, even if workers start at the same time)."""
    from tools.settings import get_settings
    from tools.store import Store

    store = Store.from_settings(get_settings(), pool_size=1, migrate=False)
    try:
        before = store.revision()
        store.migrate()
        after = store.revision()
    finally:
        store.close()
    if args.json:
        print(json.dumps({"database": _where(), "from": before, "to": after}))
        return
    change = "already at" if before == after else f"migrated {before or 'empty'} →"
    print(f"{_where()}: {change} {after}")


def add_db_commands(sub: Any, command: Any) -> None:
    """Register ``db upgrade`` and ``db status`` under ``sub`` (``command`` is the CLI's subcommand factory)."""
    db = sub.add_parser("db", help="database schema (migrations)").add_subparsers(dest="db_command", required=True)
    command(db, "upgrade", cmd_db_upgrade, "apply pending schema migrations")
    command(db, "status", cmd_db_status, "show the schema revision")
