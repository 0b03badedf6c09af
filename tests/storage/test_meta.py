"""The `meta` key/value table: the first value stored under a key wins, across restarts."""

from __future__ import annotations

from pathlib import Path

from storage.db import SqliteDatabase
from storage.meta import MetaRepository


async def test_first_value_wins_and_survives_a_restart(db_path: Path) -> None:
    async with SqliteDatabase.connect(db_path) as db:
        meta = MetaRepository(db)
        assert await meta.get("salt") is None
        assert await meta.get_or_create("salt", "first") == "first"
        assert await meta.get_or_create("salt", "second") == "first"
    async with SqliteDatabase.connect(db_path) as db:
        assert await MetaRepository(db).get_or_create("salt", "third") == "first"
