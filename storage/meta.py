"""Small facts about this database itself (`meta`, key → text), such as the callback token salt.

Must not import Telegram, httpx or anything from `bot`.
"""

from __future__ import annotations

from typing import Final

from storage.interface import Database

# Writing one `meta` row first makes the transactions that write the same row run one at a
# time on either database: SQLite's BEGIN IMMEDIATE serialises every transaction anyway;
# PostgreSQL holds the row's lock until COMMIT, so a read-then-write that must not interleave
# (READ COMMITTED would let it) waits instead (docs/architecture.md §7.5).
SQL_TAKE_LOCK: Final = (
    "INSERT INTO meta (key, value) VALUES (?, '')"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


async def take_lock(db: Database, key: str) -> None:
    """Inside a transaction: wait for the lock named `key` and hold it until the end."""
    await db.execute(SQL_TAKE_LOCK, (key,))


class MetaRepository:
    """Reads and writes the database's own key/value facts."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        """The value stored under `key`, or None."""
        row = await self._db.fetch_one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    async def get_or_create(self, key: str, value: str) -> str:
        """The value under `key`; stores `value` first if there is none (the first one wins)."""
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value)
        )
        stored = await self.get(key)
        assert stored is not None  # just inserted, and rows are never deleted
        return stored
