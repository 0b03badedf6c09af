"""The PostgreSQL adapter on a real server: placeholders, rows, transactions on a pool,
error classes, and migrations (versioned, transactional, safe when two processes migrate)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest

from storage.errors import DatabaseTooNew
from storage.migrations import SCHEMA_VERSION
from storage.postgres_db import PostgresDatabase, convert_placeholders
from storage.postgres_migrations import (
    POSTGRES_MIGRATIONS,
    POSTGRES_SCHEMA_VERSION,
    postgres_schema_version,
)
from tests.postgres_server import throwaway_database


class Boom(Exception):
    """Raised inside a transaction to force a rollback."""


@pytest.fixture
def url() -> Iterator[str]:
    """The URL of an empty throwaway database."""
    with throwaway_database() as database_url:
        yield database_url


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT ? + ?", "SELECT %s + %s"),
        ("SELECT '?', \"a?\", ?", "SELECT '?', \"a?\", %s"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
        ("SELECT ? -- why?\n, ?", "SELECT %s -- why?\n, %s"),
        ("SELECT 5 % ?, '50%'", "SELECT 5 %% %s, '50%%'"),
    ],
)
def test_question_marks_become_placeholders_only_outside_literals_and_comments(
    sql: str, expected: str
) -> None:
    assert convert_placeholders(sql) == expected


async def test_statements_take_question_marks_and_literal_percent_signs(url: str) -> None:
    async with PostgresDatabase.connect(url) as db:
        await db.execute("CREATE TABLE scratch (n BIGINT, t TEXT)")
        assert await db.execute("INSERT INTO scratch VALUES (?, '50%?'), (?, ?)", (1, 2, "x")) == 2
        assert await db.execute("UPDATE scratch SET n = n + 10 WHERE t LIKE '%?'") == 1
        rows = await db.fetch_all("SELECT n, t FROM scratch WHERE n > ? ORDER BY n", (0,))
        assert [tuple(row) for row in rows] == [(2, "x"), (11, "50%?")]


async def test_rows_answer_by_position_by_name_and_as_a_sequence(url: str) -> None:
    async with PostgresDatabase.connect(url) as db:
        row = await db.fetch_one("SELECT 7::bigint AS id, 'a' AS name, NULL AS gone")
        assert row is not None
        assert (row[0], row["id"], row[1], row["name"], row["gone"]) == (7, 7, "a", "a", None)
        assert (list(row), len(row), row.keys()) == ([7, "a", None], 3, ["id", "name", "gone"])
        assert dict(zip(row.keys(), row, strict=True)) == {"id": 7, "name": "a", "gone": None}
        assert await db.fetch_one("SELECT 1 WHERE false") is None


async def test_booleans_are_stored_as_the_schemas_integer_flags(url: str) -> None:
    async with PostgresDatabase.connect(url) as db:
        await db.execute(
            "INSERT INTO chat_settings (chat_id, updated_at, lyrics) VALUES (?, ?, ?)",
            (1, 0.5, False),
        )
        await db.execute(
            "INSERT INTO chat_settings (chat_id, updated_at, lyrics) VALUES (?, ?, ?)",
            (2, 0.5, True),
        )
        rows = await db.fetch_all("SELECT lyrics FROM chat_settings ORDER BY chat_id")
        assert [row[0] for row in rows] == [0, 1]


async def test_telegram_ids_past_32_bits_and_fractional_times_round_trip(url: str) -> None:
    async with PostgresDatabase.connect(url) as db:
        chat, at = -1001234567890123, 1733535600.123456
        await db.execute(
            "INSERT INTO chat_settings (chat_id, updated_at) VALUES (?, ?)", (chat, at)
        )
        row = await db.fetch_one("SELECT chat_id, updated_at FROM chat_settings")
        assert row is not None
        assert (row[0], row[1]) == (chat, at)


async def test_a_transaction_commits_or_rolls_back_as_a_whole(url: str) -> None:
    async with PostgresDatabase.connect(url) as db:
        await db.execute("CREATE TABLE scratch (n BIGINT)")

        async def insert_then_fail() -> None:
            async with db.transaction():
                await db.execute("INSERT INTO scratch VALUES (?)", (1,))
                raise Boom

        with pytest.raises(Boom):
            await insert_then_fail()
        async with db.transaction():
            await db.execute("INSERT INTO scratch VALUES (?)", (2,))
            await db.execute("INSERT INTO scratch VALUES (?)", (3,))
        assert [row[0] for row in await db.fetch_all("SELECT n FROM scratch ORDER BY n")] == [2, 3]


async def test_other_tasks_neither_wait_for_nor_see_an_open_transaction(url: str) -> None:
    async with PostgresDatabase.connect(url) as db:
        await db.execute("CREATE TABLE scratch (n BIGINT)")
        inside, release = asyncio.Event(), asyncio.Event()

        async def rolled_back_writer() -> None:
            async with db.transaction():
                await db.execute("INSERT INTO scratch VALUES (?)", (1,))
                # A task started inside the transaction is another task: not part of it.
                child = asyncio.create_task(db.fetch_all("SELECT n FROM scratch"))
                assert await child == []
                inside.set()
                await release.wait()
                raise Boom

        writer = asyncio.create_task(rolled_back_writer())
        await inside.wait()
        # Runs at once on another pooled connection, and does not see the uncommitted row.
        assert await asyncio.wait_for(db.fetch_all("SELECT n FROM scratch"), 10) == []
        assert await asyncio.wait_for(db.execute("INSERT INTO scratch VALUES (2)"), 10) == 1
        release.set()
        with pytest.raises(Boom):
            await writer
        assert [row[0] for row in await db.fetch_all("SELECT n FROM scratch")] == [2]


async def test_transactions_do_not_nest(url: str) -> None:
    async with PostgresDatabase.connect(url) as db:
        with pytest.raises(RuntimeError, match="nest"):
            async with db.transaction(), db.transaction():
                pass  # pragma: no cover


async def test_a_lost_connection_is_transient_and_the_pool_goes_on(url: str) -> None:
    async with PostgresDatabase.connect(url) as db:
        with pytest.raises(psycopg.OperationalError) as caught:
            async with db.transaction():
                await db.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        assert db.engine.is_transient(caught.value)
        assert await db.ping()  # a fresh connection replaces the dead one
        with pytest.raises(psycopg.errors.SyntaxError) as bad:
            await db.execute("SELEC 1")
        assert isinstance(bad.value, db.engine.errors)
        assert not db.engine.is_transient(bad.value)


async def test_ping_answers_until_closed(url: str) -> None:
    db = await PostgresDatabase.open(url)
    assert await db.ping()
    await db.close()
    await db.close()  # closing twice is harmless
    assert db.closed
    assert not await db.ping()
    with pytest.raises(ValueError, match="closed"):
        await db.execute("SELECT 1")


async def test_a_fresh_database_is_migrated_to_the_same_version_as_sqlite(url: str) -> None:
    async with PostgresDatabase.connect(url) as db:
        assert await postgres_schema_version(db) == POSTGRES_SCHEMA_VERSION == SCHEMA_VERSION
    async with PostgresDatabase.connect(url) as db:  # opening again changes nothing
        assert await postgres_schema_version(db) == SCHEMA_VERSION


async def test_processes_migrating_at_once_migrate_once(url: str) -> None:
    # Separate pools are separate server sessions: to PostgreSQL, separate processes.
    opened = await asyncio.gather(*(PostgresDatabase.open(url) for _ in range(4)))
    try:
        for db in opened:
            assert await postgres_schema_version(db) == SCHEMA_VERSION
        tables = await opened[0].fetch_one(
            "SELECT COUNT(*) FILTER (WHERE table_name NOT LIKE 'procrastinate_%'),"
            " COUNT(*) FILTER (WHERE table_name LIKE 'procrastinate_%')"
            " FROM information_schema.tables WHERE table_schema = 'public'"
        )
        assert tables is not None
        assert tables[0] == 16  # fourteen tables, leader_terms and schema_version, each once
        assert tables[1] == 4  # the task engine's (migration 11, docs/architecture.md §8.8)
    finally:
        await asyncio.gather(*(db.close() for db in opened))


async def test_a_database_newer_than_the_code_is_refused(url: str) -> None:
    async with PostgresDatabase.connect(url) as db:
        await db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(DatabaseTooNew) as caught:
        await PostgresDatabase.open(url)
    assert (caught.value.found, caught.value.supported) == (SCHEMA_VERSION + 1, SCHEMA_VERSION)


async def test_a_failed_migration_leaves_nothing_behind(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with PostgresDatabase.connect(url):
        pass
    next_version = SCHEMA_VERSION + 1
    broken = ((next_version, ("CREATE TABLE extra (n BIGINT)", "CREATE TABLE broken (oops")),)
    monkeypatch.setattr("storage.postgres_migrations.POSTGRES_SCHEMA_VERSION", next_version)
    monkeypatch.setattr(
        "storage.postgres_migrations.POSTGRES_MIGRATIONS", (*POSTGRES_MIGRATIONS, *broken)
    )
    with pytest.raises(psycopg.errors.SyntaxError):
        await PostgresDatabase.open(url)
    monkeypatch.undo()
    async with PostgresDatabase.connect(url) as db:
        assert await postgres_schema_version(db) == SCHEMA_VERSION
        extra = await db.fetch_one("SELECT to_regclass('extra') IS NULL")
        assert extra is not None
        assert extra[0] is True  # the DDL of the failed step was rolled back with it


async def test_a_claim_with_skip_locked_passes_over_rows_another_transaction_holds(
    url: str,
) -> None:
    async with PostgresDatabase.connect(url) as db:
        await db.execute("CREATE TABLE scratch (n BIGINT)")
        await db.execute("INSERT INTO scratch VALUES (1), (2)")
        claim = "SELECT n FROM scratch ORDER BY n LIMIT 1" + db.engine.skip_locked  # noqa: S608 - a fixed clause
        holding, release = asyncio.Event(), asyncio.Event()

        async def first_claimer() -> int:
            async with db.transaction():
                row = await db.fetch_one(claim)
                holding.set()
                await release.wait()
                assert row is not None
                return int(row[0])

        first = asyncio.create_task(first_claimer())
        await holding.wait()
        async with db.transaction():
            second = await asyncio.wait_for(db.fetch_one(claim), 10)  # does not wait for it
        release.set()
        assert second is not None
        assert (await first, second[0]) == (1, 2)
