"""The connection: PRAGMAs, transactions, serialisation, open/close."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from storage.db import FAULT_FILE_ENV, SqliteDatabase
from storage.interface import Database


class Boom(Exception):
    """Raised inside a transaction to force a rollback."""


async def _scratch(db: Database) -> None:
    await db.execute("CREATE TABLE IF NOT EXISTS scratch (n INTEGER NOT NULL)")


async def _numbers(db: Database) -> list[int]:
    return [row["n"] for row in await db.fetch_all("SELECT n FROM scratch ORDER BY n")]


@pytest.mark.sqlite_only(reason="SQLite PRAGMAs")
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


async def test_the_engines_skip_locked_clause_keeps_a_claim_valid(db: Database) -> None:
    await _scratch(db)
    await db.execute("INSERT INTO scratch (n) VALUES (?), (?)", (1, 2))
    async with db.transaction():
        claim = "SELECT n FROM scratch ORDER BY n LIMIT 1" + db.engine.skip_locked  # noqa: S608 - a fixed clause
        row = await db.fetch_one(claim)
    assert row is not None
    assert row[0] == 1


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


@pytest.mark.sqlite_only(
    reason="SQLite's one serialised connection (PostgreSQL: test_postgres_db.py)"
)
async def test_other_coroutines_statements_wait_outside_an_open_transaction(
    db: Database,
) -> None:
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
    db = await SqliteDatabase.open(db_path)
    assert await db.ping()
    await db.close()
    await db.close()  # closing twice is harmless
    assert db.closed
    assert not await db.ping()


async def test_open_result_works_as_async_context_manager(db_path: Path) -> None:
    async with await SqliteDatabase.open(db_path) as db:
        assert await db.ping()
    assert db.closed


async def test_data_survives_close_and_reopen(db_path: Path) -> None:
    async with SqliteDatabase.connect(db_path) as db:
        await _scratch(db)
        await db.execute("INSERT INTO scratch (n) VALUES (?)", (5,))
    async with SqliteDatabase.connect(db_path) as db:
        assert await _numbers(db) == [5]


async def _cancel_while_waiting_for_begin(db: Database, db_path: Path) -> None:
    """Cancel a writer whose BEGIN IMMEDIATE waits for another connection's write lock."""
    async with aiosqlite.connect(db_path, isolation_level=None) as other:
        await other.execute("BEGIN IMMEDIATE")  # holds the write lock: our BEGIN must wait

        async def writer() -> None:
            async with db.transaction():
                await db.execute("INSERT INTO scratch (n) VALUES (?)", (1,))

        task = asyncio.create_task(writer())
        done, _ = await asyncio.wait({task}, timeout=0.2)
        assert not done  # waiting in BEGIN (busy_timeout)
        task.cancel()
        await other.commit()  # the lock is free: the BEGIN that was asked for goes through
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_writer_cancelled_during_begin_leaves_no_transaction_behind(
    db_path: Path,
) -> None:
    async with SqliteDatabase.connect(db_path) as db:
        await _scratch(db)
        await _cancel_while_waiting_for_begin(db, db_path)
        await db.execute("INSERT INTO scratch (n) VALUES (?)", (2,))  # autocommit, really
        async with db.transaction():  # and transactions still work
            await db.execute("INSERT INTO scratch (n) VALUES (?)", (3,))
    async with SqliteDatabase.connect(db_path) as db:
        assert await _numbers(db) == [2, 3]  # nothing lost at close


async def test_a_transaction_cancelled_during_commit_is_committed_or_not_but_ended(
    db: Database,
) -> None:
    await _scratch(db)

    async def writer() -> None:
        async with db.transaction():
            await db.execute("INSERT INTO scratch (n) VALUES (?)", (1,))

    for attempt in range(20):  # the cancel lands at different points of BEGIN/INSERT/COMMIT
        task = asyncio.create_task(writer())
        for _ in range(attempt % 5):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        async with db.transaction():  # never "cannot start a transaction within a transaction"
            await db.execute("INSERT INTO scratch (n) VALUES (?)", (100,))
    assert (await _numbers(db)).count(100) == 20


async def test_a_cancelled_statement_leaves_the_connection_in_autocommit(db_path: Path) -> None:
    async with SqliteDatabase.connect(db_path) as db:
        await _scratch(db)
        for spins in range(5):
            task = asyncio.create_task(db.execute("INSERT INTO scratch (n) VALUES (?)", (1,)))
            for _ in range(spins):
                await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await db.execute("INSERT INTO scratch (n) VALUES (?)", (2,))
    async with SqliteDatabase.connect(db_path) as db:
        assert 2 in await _numbers(db)


async def test_the_test_only_fault_file_fails_every_statement_while_it_exists(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    switch = tmp_path / "db-faults"
    monkeypatch.setenv(FAULT_FILE_ENV, str(switch))
    async with SqliteDatabase.connect(db_path) as db:
        await _scratch(db)
        switch.touch()
        with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
            await db.execute("INSERT INTO scratch (n) VALUES (?)", (1,))
        with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
            async with db.transaction():
                pass  # pragma: no cover - BEGIN fails
        assert not await db.ping()
        switch.unlink()
        async with db.transaction():  # nothing was left open by the failures
            await db.execute("INSERT INTO scratch (n) VALUES (?)", (2,))
        assert await _numbers(db) == [2]


async def test_a_failing_commit_rolls_back_and_ends_the_transaction(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    switch = tmp_path / "db-faults"
    monkeypatch.setenv(FAULT_FILE_ENV, str(switch))
    async with SqliteDatabase.connect(db_path) as db:
        await _scratch(db)

        async def insert_then_commit_on_a_broken_disk() -> None:
            async with db.transaction():
                await db.execute("INSERT INTO scratch (n) VALUES (?)", (1,))
                switch.touch()  # the COMMIT fails

        with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
            await insert_then_commit_on_a_broken_disk()
        switch.unlink()
        assert await _numbers(db) == []
        async with db.transaction():
            await db.execute("INSERT INTO scratch (n) VALUES (?)", (2,))
        assert await _numbers(db) == [2]


async def test_without_the_fault_variable_a_file_of_that_name_changes_nothing(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(FAULT_FILE_ENV, raising=False)
    (tmp_path / "db-faults").touch()
    async with SqliteDatabase.connect(db_path) as db:
        assert await db.ping()
