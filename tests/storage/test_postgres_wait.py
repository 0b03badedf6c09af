"""A bot started before its PostgreSQL waits for it; a refused login is a configuration error
(docs/architecture.md §14)."""

from __future__ import annotations

import logging
import os
from contextlib import AsyncExitStack
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from storage.errors import DatabaseRefused
from storage.postgres_db import wait_for_postgres
from tests.e2e.processes import free_port, run_bot_once
from tests.leadership.tcp_relay import TcpRelay
from tests.postgres_server import database_url, throwaway_database


async def test_a_database_not_up_yet_is_waited_for_one_line_per_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with throwaway_database() as url:
        server = urlsplit(url)
        port = free_port()  # nothing listens here until the third attempt
        late_url = server._replace(netloc=f"{server.username}@127.0.0.1:{port}").geturl()
        waits: list[float] = []
        async with AsyncExitStack() as stack:

            async def sleep(seconds: float) -> None:
                waits.append(seconds)
                if len(waits) == 3:  # PostgreSQL comes up
                    relay = TcpRelay(server.hostname or "127.0.0.1", server.port or 5432, port=port)
                    await stack.enter_async_context(relay)

            with caplog.at_level(logging.WARNING, logger="storage.postgres_db"):
                await wait_for_postgres(late_url, sleep=sleep, first_wait=1.0, max_wait=60.0)
        assert waits == [1.0, 2.0, 4.0]
        lines = [r.getMessage() for r in caplog.records]
        assert len(lines) == 3
        assert all(f"127.0.0.1:{port}/" in line and "not reachable" in line for line in lines)
        assert all(r.exc_info is None for r in caplog.records)


async def test_a_database_that_does_not_exist_is_refused_without_waiting() -> None:
    with throwaway_database():  # the server is there; the database named below is not
        url = database_url("mvb_no_such_database")
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        with pytest.raises(DatabaseRefused, match="mvb_no_such_database"):
            await wait_for_postgres(url, sleep=sleep)
        assert waits == []


def test_python_m_bot_with_a_database_it_may_not_use_exits_2_with_one_line(
    tmp_path: Path,
) -> None:
    with throwaway_database():
        url = database_url("mvb_no_such_database").replace("postgres@", "postgres:s3cret@")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TELEGRAM_BOT_TOKEN": "123456:TEST-token",
            "MUSIC_API_KEY": "sk-test",
            "DATABASE_URL": url,
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(free_port()),
        }
        done = run_bot_once(env, tmp_path)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if "configuration error" in line]
    assert len(errors) == 1, done.stderr
    assert "DATABASE_URL" in errors[0]
    assert "s3cret" not in done.stderr
    assert "Traceback" not in done.stderr
