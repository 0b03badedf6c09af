"""Where the tests find PostgreSQL, and what they do without it.

PostgreSQL runs on 127.0.0.1:5432 with trust authentication on the development and CI machines
(`TEST_POSTGRES_URL` names another server's maintenance database). When it cannot be reached,
or psycopg is not installed, the tests skip with one line; under `CI=true` they fail instead.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def unavailable(why: str) -> None:
    """Fail under CI (PostgreSQL is required there), skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {why}")
    pytest.skip(f"PostgreSQL tests skipped: {why}", allow_module_level=True)


def require_psycopg() -> None:
    """At the top of a test module that imports psycopg (directly or through the bot)."""
    if importlib.util.find_spec("psycopg") is None:
        unavailable("psycopg is not installed")
