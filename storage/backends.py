"""Opens the configured database: SQLite at a path, or PostgreSQL at a URL.

Must not import Telegram, httpx or anything from `bot`. The PostgreSQL adapter (and with it
psycopg) is imported only when a URL is given, so the embedded default never loads it
(docs/architecture.md §14).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from storage.db import SqliteDatabase
from storage.interface import Database


@asynccontextmanager
async def connect_database(*, path: Path, url: str | None) -> AsyncIterator[Database]:
    """Open and migrate the database for an `async with` block: PostgreSQL when `url` is set,
    else SQLite at `path`."""
    if url is None:
        async with SqliteDatabase.connect(path) as sqlite:
            yield sqlite
        return
    from storage.postgres_db import (  # noqa: PLC0415 - psycopg only when used
        PostgresDatabase,
        wait_for_postgres,
    )

    await wait_for_postgres(url)  # a bot started before its database waits (§14)
    async with PostgresDatabase.connect(url) as postgres:
        yield postgres
