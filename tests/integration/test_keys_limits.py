"""Keys and limits, in-process on a real SQLite store: list, revoke (HTTP and CLI), 401 after, 429 + Retry-After.

The lead's app does not include the keys router yet, so the app here is built from the routers and
dependencies under test, with the desk reduced to the one thing they read: its store.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from api.auth import Submitter, insert_key, list_keys, revoke_key
from api.ratelimit import rate_limited
from api.routers import keys
from cli.common import CliError
from cli.keys import add_key_commands
from tools.store import Store

pytestmark = pytest.mark.integration


def make_app(store: Store, submit_limit: str = "3/minute") -> FastAPI:
    app = FastAPI()
    app.state.desk = SimpleNamespace(store=store)
    app.include_router(keys.router)

    @app.post("/v1/tickets", dependencies=[Depends(rate_limited("submit", submit_limit))])
    def submit(who: Submitter) -> dict[str, Any]:
        return {"by": who.key_id}

    @app.post("/v1/reviewish")
    def review(_: Annotated[None, Depends(rate_limited("review", lambda r: r.app.state.review_limit))],
               who: Submitter) -> dict[str, Any]:
        return {"by": who.key_id}

    app.state.review_limit = "off"
    return app


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    return Store.sqlite(tmp_path / "support.db")


@pytest.fixture()
def keyring(store: Store) -> dict[str, str]:
    return {f"{role}@{ws}": insert_key(store, role, ws, name=f"{role}-{ws}")
            for role in ("submitter", "admin") for ws in ("acme", "globex")}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def key_id(key: str) -> str:
    return key.split("_")[1]


def test_admin_lists_only_its_workspace_keys_without_hashes(store: Store, keyring: dict[str, str]) -> None:
    with TestClient(make_app(store)) as client:
        response = client.get("/v1/keys", headers=auth(keyring["admin@acme"]))
        assert response.status_code == 200
        listed = response.json()
        assert {k["key_id"] for k in listed} == {key_id(keyring["submitter@acme"]), key_id(keyring["admin@acme"])}
        assert all(set(k) == {"key_id", "role", "workspace", "name", "created_at", "revoked_at"} for k in listed)
        assert "hash" not in response.text and keyring["admin@acme"] not in response.text
        assert client.get("/v1/keys", headers=auth(keyring["submitter@acme"])).status_code == 403
        assert client.get("/v1/keys").status_code == 401


def test_revoked_key_gets_401_and_other_workspace_keys_are_404(store: Store, keyring: dict[str, str]) -> None:
    victim = keyring["submitter@acme"]
    with TestClient(make_app(store, "100/minute")) as client:
        assert client.post("/v1/tickets", headers=auth(victim)).status_code == 200
        other = client.post(f"/v1/keys/{key_id(keyring['submitter@globex'])}/revoke", headers=auth(keyring["admin@acme"]))
        assert other.status_code == 404
        assert client.post("/v1/tickets", headers=auth(keyring["submitter@globex"])).status_code == 200
        assert client.post("/v1/keys/nothex!/revoke", headers=auth(keyring["admin@acme"])).status_code == 422

        revoked = client.post(f"/v1/keys/{key_id(victim)}/revoke", headers=auth(keyring["admin@acme"]))
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        after = client.post("/v1/tickets", headers=auth(victim))
        assert after.status_code == 401 and "revoked" in after.json()["detail"]
        again = client.post(f"/v1/keys/{key_id(victim)}/revoke", headers=auth(keyring["admin@acme"]))
        assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
        active = client.get("/v1/keys", params={"revoked": "false"}, headers=auth(keyring["admin@acme"])).json()
        assert key_id(victim) not in {k["key_id"] for k in active}


def test_submit_limit_gives_429_with_retry_after_per_key(store: Store, keyring: dict[str, str]) -> None:
    with TestClient(make_app(store, "3/minute")) as client:
        codes = [client.post("/v1/tickets", headers=auth(keyring["submitter@acme"])).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.post("/v1/tickets", headers=auth(keyring["submitter@acme"]))
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert "rate limit" in limited.json()["detail"]
        # Another key has its own budget; an unlimited scope counts nothing; a bad key is still 401.
        assert client.post("/v1/tickets", headers=auth(keyring["submitter@globex"])).status_code == 200
        assert {client.post("/v1/reviewish", headers=auth(keyring["submitter@acme"])).status_code for _ in range(5)} == {200}
        assert client.post("/v1/tickets", headers=auth("sda_000000000000_nope")).status_code == 401


def test_bad_limit_fails_when_the_route_is_built() -> None:
    with pytest.raises(ValueError, match="not a rate limit"):
        rate_limited("submit", "lots")


def test_cli_lists_and_revokes(store: Store, keyring: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import _command
    from tools.settings import get_settings

    monkeypatch.setenv("SUPPORT_STATE_DIR", str(store.path.parent if store.path else ""))
    monkeypatch.setenv("SUPPORT_DATABASE_URL", "")
    get_settings.cache_clear()
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", default="acme")
    add_key_commands(parser.add_subparsers(dest="keys_command", required=True), _command)
    try:
        args = parser.parse_args(["list", "--json"])
        args.func(args)
        assert {k["workspace"] for k in json.loads(capsys.readouterr().out)} == {"acme"}
        args = parser.parse_args(["list", "--all"])
        args.func(args)
        table = capsys.readouterr().out
        assert "globex" in table and "active" in table and "KEY ID" in table

        args = parser.parse_args(["revoke", keyring["admin@globex"]])  # the whole key works too
        args.func(args)
        assert "Revoked admin key" in capsys.readouterr().out
        assert [k["revoked_at"] is not None for k in list_keys(store, "globex") if k["role"] == "admin"] == [True]
        args = parser.parse_args(["revoke", "ffffffffffff"])
        with pytest.raises(CliError, match="unknown API key id 'ffffffffffff'"):
            args.func(args)
    finally:
        get_settings.cache_clear()
    assert not revoke_key(store, "ffffffffffff")
