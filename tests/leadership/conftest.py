"""A throwaway PostgreSQL database per test, and an admin connection beside it (see
tests/postgres_server.py for where PostgreSQL is and what happens without it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest

from tests.postgres_server import throwaway_database


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """The URL of a new, empty database, dropped (with its sessions) after the test."""
    with throwaway_database() as url:
        yield url


@pytest.fixture
async def pg_admin(pg_dsn: str) -> AsyncIterator[Any]:
    """An autocommit connection to the test's database, for the test's own statements."""
    async with await psycopg.AsyncConnection.connect(pg_dsn, autocommit=True) as conn:
        yield conn
