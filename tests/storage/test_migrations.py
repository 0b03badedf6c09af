"""Schema migrations under PRAGMA user_version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import SqliteDatabase
from storage.errors import DatabaseTooNew
from storage.interface import Database
from storage.jobs import JobRepository
from storage.migrations import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version

EXPECTED_INDEXES = {
    "jobs_due_submit",
    "jobs_due_check",
    "jobs_due_delivery",
    "jobs_intake_update",
    "jobs_chat_latest",
    "jobs_video_task",
    "jobs_track",
    "jobs_user_created",
    "jobs_anonymous_created",
    "channel_posts_due",
    "channel_posts_sent",
    "jobs_chat_delivered",
    "jobs_user_delivered",
    "jobs_due_render",
    "jobs_fallback_of",
    "update_inbox_lane",
    "update_inbox_heads",
    "jobs_poll_planned",
    "jobs_delivered_at",
}


ALL_TABLES = {
    "jobs",
    "track_separations",
    "chat_settings",
    "track_picks",
    "update_inbox",
    "intake_state",
    "meta",
    "autopost_links",
    "channel_posts",
    "track_analysis",
    "track_lyrics",
    "lyric_corrections",
    "lyric_edit_sessions",
    "guest_answers",
}


async def _objects(db: Database, kind: str) -> set[str]:
    rows = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%'", (kind,)
    )
    return {row["name"] for row in rows}


@pytest.mark.sqlite_only(reason="reads sqlite_master (PostgreSQL: test_schema_parity.py)")
async def test_fresh_database_is_migrated_to_the_latest_version(db: Database) -> None:
    assert len(MIGRATIONS) == SCHEMA_VERSION
    assert await schema_version(db) == len(MIGRATIONS)
    assert await _objects(db, "table") == ALL_TABLES
    assert await _objects(db, "index") >= EXPECTED_INDEXES


async def test_reopening_and_migrating_again_changes_nothing(db_path: Path) -> None:
    async with SqliteDatabase.connect(db_path) as db:
        before = [tuple(r) for r in await db.fetch_all("SELECT type, name, sql FROM sqlite_master")]
    async with SqliteDatabase.connect(db_path) as db:
        assert await migrate(db) == SCHEMA_VERSION
        after = [tuple(r) for r in await db.fetch_all("SELECT type, name, sql FROM sqlite_master")]
        assert await schema_version(db) == SCHEMA_VERSION
    assert after == before


async def test_database_newer_than_the_code_is_refused(db_path: Path) -> None:
    async with SqliteDatabase.connect(db_path) as db:
        await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseTooNew) as caught:
        await SqliteDatabase.open(db_path)
    assert (caught.value.found, caught.value.supported) == (SCHEMA_VERSION + 1, SCHEMA_VERSION)
    assert f"version {SCHEMA_VERSION + 1} is newer" in str(caught.value)


async def test_a_later_migration_is_applied_in_its_own_transaction(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with SqliteDatabase.connect(db_path):
        pass
    broken = (*MIGRATIONS, ("CREATE TABLE extra (n INTEGER)", "CREATE TABLE broken (oops"))
    monkeypatch.setattr("storage.migrations.MIGRATIONS", broken)
    monkeypatch.setattr("storage.migrations.SCHEMA_VERSION", len(broken))
    with pytest.raises(sqlite3.OperationalError):
        await SqliteDatabase.open(db_path)
    fixed = (*MIGRATIONS, ("CREATE TABLE extra (n INTEGER)",))
    monkeypatch.setattr("storage.migrations.MIGRATIONS", fixed)
    async with SqliteDatabase.connect(db_path) as db:
        assert await schema_version(db) == len(fixed)  # the failed attempt left nothing behind
        assert await _objects(db, "table") == ALL_TABLES | {"extra"}


async def test_version_1_database_with_jobs_is_upgraded_in_place(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.migrations.MIGRATIONS", MIGRATIONS[:1])
    monkeypatch.setattr("storage.migrations.SCHEMA_VERSION", 1)
    async with SqliteDatabase.connect(db_path) as db:
        await db.execute(
            "INSERT INTO jobs (chat_id, provider, task_id, audio_id, state,"
            " callback_token_hash, created_at, updated_at)"
            " VALUES (1, 'kie', 't', 'a', 'pending', 'h', 1.0, 1.0)"
        )
    monkeypatch.undo()
    async with SqliteDatabase.connect(db_path) as db:
        assert await schema_version(db) == SCHEMA_VERSION
        job = await JobRepository(db).get(1)
        assert job is not None
        assert job.title is None
        assert job.task_id == "t"
