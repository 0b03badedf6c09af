"""The connection: PRAGMAs, transactions, serialisation, open/close."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage.db import Database


class Boom(Exception):
    """Raised inside a transaction to force a rollback."""


async def _scratch(db: Database) -> None:
    await db.execute("CREATE TABLE IF NOT EXISTS scratch (n INTEGER NOT NULL)")


async def _numbers(db: Database) -> list[int]:
    return [row["n"] for row in await db.fetch_all("SELECT n FROM scratch ORDER BY n")]


async def test_open_creates_parent_directories_and_sets_pragmas(
    db: Database, db_path: Path
) -> None:
    assert await asyncio.to_thread(db_path.is_file)
    checks = {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 5000}
    for pragma, expected in checks.items():
        row = await db.fetch_one(f"PRAGMA {pragma}")
        assert row is not None
        assert row[0] == expected, pragma


async def test_execute_returns_rowcount_and_fetch_returns_rows(db: Database) -> None:
    await _scratch(db)
    assert await db.execute("INSERT INTO scratch (n) VALUES (?), (?)", (1, 2)) == 2
    assert await db.execute("UPDATE scratch SET n = n + 10 WHERE n = ?", (2,)) == 1
    assert await _numbers(db) == [1, 12]
    assert await db.fetch_one("SELECT n FROM scratch WHERE n = ?", (99,)) is None


async def test_transaction_commits(db: Database) -> None:
    await _scratch(db)
    async with db.transaction():
        await db.execute("INSERT INTO scratch (n) VALUES (?)", (1,))
        await db.execute("INSERT INTO scratch (n) VALUES (?)", (2,))
    assert await _numbers(db) == [1, 2]


async def test_transaction_rolls_back_when_the_block_raises(db: Database) -> None:
    await _scratch(db)

    async def insert_then_fail() -> None:
        async with db.transaction():
            await db.execute("INSERT INTO scratch (n) VALUES (?)", (1,))
            raise Boom

    with pytest.raises(Boom):
        await insert_then_fail()
    assert await _numbers(db) == []
    async with db.transaction():  # the connection is usable again
        await db.execute("INSERT INTO scratch (n) VALUES (?)", (3,))
    assert await _numbers(db) == [3]


async def test_transactions_do_not_nest(db: Database) -> None:
    with pytest.raises(RuntimeError, match="nest"):
        async with db.transaction(), db.transaction():
            pass  # pragma: no cover


async def test_other_coroutines_statements_wait_outside_an_open_transaction(db: Database) -> None:
    await _scratch(db)
    inside, release = asyncio.Event(), asyncio.Event()

    async def rolled_back_writer() -> None:
        async with db.transaction():
            await db.execute("INSERT INTO scratch (n) VALUES (?)", (1,))
            inside.set()
            await release.wait()
            raise Boom

    writer = asyncio.create_task(rolled_back_writer())
    await inside.wait()
    other = asyncio.create_task(db.execute("INSERT INTO scratch (n) VALUES (?)", (2,)))
    done, _ = await asyncio.wait({other}, timeout=0.05)
    assert not done  # it must not slip into the writer's transaction
    release.set()
    with pytest.raises(Boom):
        await writer
    assert await other == 1
    assert await _numbers(db) == [2]  # the rollback took only the writer's row


async def test_ping_answers_until_closed(db_path: Path) -> None:
    db = await Database.open(db_path)
    assert await db.ping()
    await db.close()
    await db.close()  # closing twice is harmless
    assert db.closed
    assert not await db.ping()


async def test_open_result_works_as_async_context_manager(db_path: Path) -> None:
    async with await Database.open(db_path) as db:
        assert await db.ping()
    assert db.closed


async def test_data_survives_close_and_reopen(db_path: Path) -> None:
    async with Database.connect(db_path) as db:
        await _scratch(db)
        await db.execute("INSERT INTO scratch (n) VALUES (?)", (5,))
    async with Database.connect(db_path) as db:
        assert await _numbers(db) == [5]
