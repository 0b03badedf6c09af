"""The throwaway-database fixture without a server: skipped with one line, failed under CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# One test per kind of use: the adapter's own, and one that runs on both backends.
TESTS = [
    "tests/storage/test_postgres_db.py::test_ping_answers_until_closed",
    "tests/storage/test_meta.py",
    "tests/storage/test_jobs.py::test_move_chat",
]


def _pytest(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["TEST_POSTGRES_URL"] = "postgresql://postgres@127.0.0.1:1/postgres"
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(  # noqa: S603 - this interpreter running pytest on fixed tests
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", *TESTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_unreachable_server_skips_the_postgres_tests_with_one_line() -> None:
    done = _pytest(ci=None)
    assert done.returncode == 0, done.stdout
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 2, done.stdout  # one line per skipped test, saying why
    assert all("PostgreSQL not reachable at 127.0.0.1:1: " in line for line in skipped)
    assert "2 skipped" in done.stdout  # ping and move_chat[postgresql]; SQLite ran
    assert "2 passed" in done.stdout


@pytest.mark.parametrize("ci", ["true"])
def test_under_ci_an_unreachable_server_fails_the_postgres_tests(ci: str) -> None:
    done = _pytest(ci=ci)
    assert done.returncode == 1, done.stdout
    assert "2 errors" in done.stdout  # failed in set-up, where the database is made
    assert "required under CI=true" in done.stdout
