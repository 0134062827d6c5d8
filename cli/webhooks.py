"""``support-agent webhooks secret | list | revoke``: the signing secrets of the webhook intake.

``webhooks secret --workspace W`` creates the workspace's secret and prints it once (the earlier
ones are revoked, unless ``--keep``: then both verify until you revoke the old one, for a switch-over
without refused events). The secret is *shared*: the help desk signs with it and the API must hold it
to check the HMAC, so it is stored as it is; ``list`` never shows it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cli.common import CliError


def _store() -> Any:
    from api.db import open_store
    from tools.settings import get_settings

    return open_store(get_settings())


def cmd_webhooks_secret(args: argparse.Namespace) -> None:
    """Create (or rotate) the workspace's secret; the secret on stdout, what happened on stderr."""
    from api.webhooks import create_secret
    from tools.settings import get_settings
    from tools.workspaces import Workspaces

    store = _store()
    try:
        if not Workspaces(get_settings(), store).exists(args.workspace):
            raise CliError(f"unknown workspace '{args.workspace}': create it first with "
                           f"`support-agent workspace create {args.workspace} --data DIR`")
        secret_id, secret = create_secret(store, args.workspace, keep_others=args.keep)
    finally:
        store.close()
    if args.json:
        print(json.dumps({"secret_id": secret_id, "workspace": args.workspace, "secret": secret}, indent=2))
        return
    print(secret)
    earlier = "kept active (revoke them when the sender has switched)" if args.keep else "revoked"
    print(f"Created webhook secret {secret_id} for workspace '{args.workspace}'; earlier secrets {earlier}. "
          "It is shown only once: give it to the help desk that signs the events.", file=sys.stderr)


def cmd_webhooks_list(args: argparse.Namespace) -> None:
    """Print the secrets' ids, workspaces and dates (never the secrets)."""
    from api.webhooks import list_secrets

    store = _store()
    try:
        rows = list_secrets(store, None if args.all else args.workspace)
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        print("No webhook secrets. Create one: support-agent webhooks secret --workspace W")
        return
    for row in rows:
        status = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        print(f"{row['secret_id']}  {row['workspace']}  created {row['created_at']}  {status}")


def cmd_webhooks_revoke(args: argparse.Namespace) -> None:
    """Revoke one secret by its id; an unknown id is one error line (exit 2)."""
    from api.webhooks import list_secrets, revoke_secret

    store = _store()
    try:
        if not revoke_secret(store, args.secret_id):
            raise CliError(f"unknown webhook secret id '{args.secret_id}' (see: support-agent webhooks list --all)")
        row = next(r for r in list_secrets(store) if r["secret_id"] == args.secret_id)
    finally:
        store.close()
    if args.json:
        print(json.dumps(row, indent=2))
        return
    print(f"Revoked webhook secret {args.secret_id} of workspace '{row['workspace']}'; "
          "events signed with it get 401 from now on.")


def add_webhook_commands(sub: Any, command: Any) -> None:
    """Register ``webhooks secret | list | revoke`` (``command`` is cli.main's subcommand helper)."""
    hooks = sub.add_parser("webhooks", help="signing secrets of the webhook intake (POST /v1/webhooks/tickets)",
                           description="Signing secrets of the webhook intake (POST /v1/webhooks/tickets).")
    hooks_sub = hooks.add_subparsers(dest="webhooks_command", required=True, metavar="COMMAND")
    p = command(hooks_sub, "secret", cmd_webhooks_secret, "create or rotate a workspace's webhook secret (printed once)")
    p.add_argument("--keep", action="store_true", help="keep the earlier secrets active (revoke them later)")
    p = command(hooks_sub, "list", cmd_webhooks_list, "list webhook secrets (id, workspace, created, revoked; never the secret)")
    p.add_argument("--all", action="store_true", help="secrets of every workspace")
    p = command(hooks_sub, "revoke", cmd_webhooks_revoke, "revoke a webhook secret by its id")
    p.add_argument("secret_id", help="the secret's id (first column of `webhooks list`)")
