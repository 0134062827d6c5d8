"""``support-agent keys list`` and ``keys revoke``: see and withdraw API keys (never their hashes).

``keys list`` shows the keys of ``--workspace`` (``--all``: of every workspace); ``keys revoke ID``
revokes a key by its id (or by the whole ``sda_<id>_…`` key), whatever its workspace: whoever
runs the CLI has the database anyway. A revoked key is refused by the API from its next request.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from cli.common import CliError


def _store() -> Any:
    from api.db import open_store
    from tools.settings import get_settings

    return open_store(get_settings())


def key_id_of(text: str) -> str:
    """The key id in ``text``: an id, or a whole ``sda_<id>_<secret>`` key."""
    text = text.strip()
    parts = text.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "sda" else text


def cmd_keys_list(args: argparse.Namespace) -> None:
    """Print the keys as a table (or ``--json``), newest first."""
    from api.auth import list_keys

    store = _store()
    try:
        rows = list_keys(store, None if args.all else args.workspace)
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    where = "any workspace" if args.all else f"workspace '{args.workspace}'"
    if not rows:
        print(f"No API keys in {where}. Create one: support-agent keys create --role admin --workspace W")
        return
    from rich.table import Table

    from cli.render import make_console, styled

    table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 2, 0, 0))
    for name in ("KEY ID", "ROLE", "WORKSPACE", "NAME", "CREATED", "STATUS"):
        table.add_column(name, header_style="bold dim", no_wrap=name != "NAME")
    for row in rows:
        status = styled(f"revoked {row['revoked_at']}", "red") if row["revoked_at"] else styled("active", "green")
        table.add_row(styled(row["key_id"], "cyan"), styled(row["role"]), styled(row["workspace"]), styled(row["name"] or ""),
                      styled(row["created_at"]), status)
    make_console().print(table)


def cmd_keys_revoke(args: argparse.Namespace) -> None:
    """Revoke one key; an unknown id is one error line (exit 2)."""
    from api.auth import list_keys, revoke_key

    key_id = key_id_of(args.key_id)
    store = _store()
    try:
        if not revoke_key(store, key_id):
            raise CliError(f"unknown API key id '{key_id}' (see: support-agent keys list --all)")
        row = next(r for r in list_keys(store) if r["key_id"] == key_id)
    finally:
        store.close()
    if args.json:
        print(json.dumps(row, indent=2))
        return
    print(f"Revoked {row['role']} key {key_id} of workspace '{row['workspace']}' ({row['revoked_at']}); "
          "the API refuses it from its next request.")


def add_key_commands(keys: Any, command: Any) -> None:
    """Register ``keys list`` and ``keys revoke`` on the ``keys`` subparsers (``command`` is cli.main's helper)."""
    p = command(keys, "list", cmd_keys_list, "list API keys (id, role, workspace, name, created, revoked)")
    p.add_argument("--all", action="store_true", help="keys of every workspace")
    command(keys, "revoke", cmd_keys_revoke, "revoke an API key by its id (or the whole key)", "key_id")
