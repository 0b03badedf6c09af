"""Fixtures for the storage tests: a real database (a SQLite file under tmp_path, or a throwaway
PostgreSQL database), a fake clock.

A test that takes `db` (or `repo`) runs once per backend, `[sqlite]` and `[postgresql]`; one
marked `sqlite_only` runs on SQLite alone (say why in the marker's reason).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import SqliteDatabase
from storage.interface import Database
from storage.jobs import JobRepository
from tests.storage.factories import FakeClock

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): the test runs on SQLite only (why: the reason)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("backend", BACKENDS[:1] if only_sqlite else BACKENDS)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test database lives (its parent directory does not exist yet)."""
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def db(backend: str, db_path: Path) -> AsyncIterator[Database]:
    """An open, migrated database of the test's backend, closed (and dropped) after the test."""
    if backend == "sqlite":
        async with SqliteDatabase.connect(db_path) as sqlite:
            yield sqlite
        return
    from storage.postgres_db import PostgresDatabase  # noqa: PLC0415 - only for this backend
    from tests.postgres_server import throwaway_database  # noqa: PLC0415 - imports psycopg

    with throwaway_database() as url:
        async with PostgresDatabase.connect(url) as postgres:
            yield postgres


@pytest.fixture
async def db_pair(backend: str, db_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    """Two databases open on the same data, as two processes would have them."""
    if backend == "sqlite":
        async with SqliteDatabase.connect(db_path) as one, SqliteDatabase.connect(db_path) as two:
            yield one, two
        return
    from storage.postgres_db import PostgresDatabase  # noqa: PLC0415 - only for this backend
    from tests.postgres_server import throwaway_database  # noqa: PLC0415 - imports psycopg

    with throwaway_database() as url:
        async with PostgresDatabase.connect(url) as one, PostgresDatabase.connect(url) as two:
            yield one, two


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def repo(db: Database, clock: FakeClock) -> JobRepository:
    """A job repository over the test database."""
    return JobRepository(db, clock)
