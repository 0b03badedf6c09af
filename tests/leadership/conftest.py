"""A throwaway PostgreSQL database per test, and an admin connection beside it (see
tests/leadership/postgres.py for where PostgreSQL is and what happens without it)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.leadership.postgres import ADMIN_URL, unavailable


@pytest.fixture
async def pg_dsn() -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped (with its sessions) after the test."""
    try:
        import psycopg  # noqa: PLC0415 - optional until it is a dependency
        from psycopg import sql  # noqa: PLC0415 - same
    except ImportError:
        unavailable("psycopg is not installed")
    try:
        admin = await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0]
        unavailable(f"no PostgreSQL at {ADMIN_URL.rsplit('@', 1)[-1]}: {first_line}")
    name = f"mvb_{secrets.token_hex(6)}"
    async with admin:
        await admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=name)
        finally:
            drop = sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
            await admin.execute(drop)


@pytest.fixture
async def pg_admin(pg_dsn: str) -> AsyncIterator[Any]:
    """An autocommit connection to the test's database, for the test's own statements."""
    import psycopg  # noqa: PLC0415 - optional until it is a dependency

    async with await psycopg.AsyncConnection.connect(pg_dsn, autocommit=True) as conn:
        yield conn
