"""Throwaway PostgreSQL databases for tests: `CREATE DATABASE mvb_<random>` on the server at
127.0.0.1:5432 (user postgres, trust), dropped at the end.

Unreachable server: under `CI=true` the tests that need it fail (PostgreSQL is required there);
elsewhere they are skipped with one line saying why. `TEST_POSTGRES_URL` may name another
server (a URL of its maintenance database).
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)


@functools.cache
def _unreachable_because() -> str | None:
    """Why the server cannot be used (asked once per test run), or None."""
    try:
        with _admin() as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"PostgreSQL not reachable at {_server()}: {first_line}"
    return None


def _server() -> str:
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_URL)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}"


def require_postgres() -> None:
    """Fail under CI=true, else skip, when the test server is unreachable."""
    reason = _unreachable_because()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def database_url(name: str) -> str:
    """The postgresql:// URL of database `name` on the test server."""
    return urlsplit(ADMIN_URL)._replace(path=f"/{name}").geturl()


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Create an empty database `mvb_<random>`, yield its URL, drop it (with any session
    still connected) afterwards."""
    require_postgres()
    name = f"mvb_{secrets.token_hex(6)}"
    with _admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url(name)
    finally:
        with _admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
