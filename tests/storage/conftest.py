"""Fixtures for the storage tests: a real SQLite file under tmp_path, a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import SqliteDatabase
from storage.jobs import JobRepository
from tests.storage.factories import FakeClock


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test database lives (its parent directory does not exist yet)."""
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[SqliteDatabase]:
    """An open, migrated database, closed after the test."""
    async with SqliteDatabase.connect(db_path) as database:
        yield database


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def repo(db: SqliteDatabase, clock: FakeClock) -> JobRepository:
    """A job repository over the test database."""
    return JobRepository(db, clock)
