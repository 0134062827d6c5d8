"""SUPPORT_SQLITE_SYNCHRONOUS reaches every SQLite connection: the store's pool and the checkpointer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tools.settings import Settings
from tools.store import Store

LEVEL = {"FULL": 2, "NORMAL": 1}  # what PRAGMA synchronous reports


@pytest.mark.parametrize("mode", ["FULL", "NORMAL"])
def test_the_durability_setting_is_applied(tmp_path: Path, mode: str) -> None:
    from api.db import open_checkpointer

    settings = Settings(state_dir=tmp_path, sqlite_synchronous=mode)
    store = Store.from_settings(settings)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA synchronous")).scalar() == LEVEL[mode]
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        store.close()
    saver = open_checkpointer(settings)
    assert saver.conn.execute("PRAGMA synchronous").fetchone()[0] == LEVEL[mode]  # type: ignore[attr-defined]


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError):
        Settings(sqlite_synchronous="OFF")  # type: ignore[arg-type]
