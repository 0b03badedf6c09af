"""/healthz names every long-running part and why it is unhealthy; a part failing for too long
makes `python -m bot` stop and exit non-zero, for Docker or systemd to restart it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.domain import Family, Provider
from tests.e2e.harness import AUDIO_ID, BOT_TOKEN, TASK_ID, Harness, running_bot
from tests.e2e.processes import BotProcess, bot_process_env, free_port, serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream

LOOPS = ("channel-poster", "delivery", "reconciler", "renderer", "submitter")
GONE = "no such table: jobs"


def rename_jobs_table(path: Path, old: str, new: str) -> None:
    """Another connection renames the table: every due query fails with a real database
    error until it is renamed back."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
        conn.execute(f"ALTER TABLE {old} RENAME TO {new}")
        conn.commit()


async def health(h: Harness) -> tuple[int, dict[str, Any]]:
    answer = await h.web.get("/healthz")
    return answer.status_code, answer.json()


async def wait_health(h: Harness, status: int, timeout: float = 20.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            code, body = await health(h)
            if code == status:
                return body
            await asyncio.sleep(0.05)


async def test_healthz_names_failing_parts_and_their_cause_then_recovers(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        code, body = await health(h)
        assert code == 200
        assert body["status"] == "ok"
        assert body["unhealthy"] == {}
        assert set(LOOPS) | {"housekeeping", "database"} <= set(body["parts"])
        assert all(part["healthy"] for part in body["parts"].values())

        await asyncio.to_thread(rename_jobs_table, h.settings.database_path, "jobs", "jobs_away")
        h.app.wake_delivery()
        h.app.wake_reconciler()
        body = await wait_health(h, 503)
        assert body["status"] == "unhealthy"
        woken = {"delivery", "reconciler", "submitter"}
        async with asyncio.timeout(10):  # each woken loop meets the error at its next look
            while not woken <= set(body["unhealthy"]):
                await asyncio.sleep(0.05)
                body = (await h.web.get("/healthz")).json()
        assert GONE in body["unhealthy"]["delivery"]
        assert GONE in body["parts"]["delivery"]["reason"]
        assert body["parts"]["delivery"]["healthy"] is False
        assert GONE in body["unhealthy"]["database"]  # the counts cannot be read either
        assert body["due_polls"] is None

        await asyncio.to_thread(rename_jobs_table, h.settings.database_path, "jobs_away", "jobs")
        body = await wait_health(h, 200)
        assert body["status"] == "ok"
        assert body["due_polls"] == 0
        # The loops still work: a job goes through.
        await h.submit()
        await h.video_task_id()


async def test_a_loop_task_that_ended_is_named_down(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        [task] = [t for t in asyncio.all_tasks() if t.get_name() == "delivery"]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        code, body = await health(h)
        assert code == 503
        assert body["unhealthy"] == {"delivery": "task cancelled"}


@pytest.fixture
async def world(tmp_path: Path) -> Any:
    """The fakes on loopback and the environment of a `python -m bot` that talks to them."""
    telegram = FakeTelegram(token=BOT_TOKEN)
    upstream = FakeUpstream(Family.KIE, api_key="sk-test")
    upstream.add_music_task(TASK_ID, tracks=[(AUDIO_ID, "Song A", 198.4)])
    async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
        upstream.public_base_url = upstream_url
        bot_port = free_port()
        env = bot_process_env(
            tmp_path,
            token=BOT_TOKEN,
            api_key="sk-test",
            telegram_url=telegram_url,
            upstream_url=upstream_url,
            bot_port=bot_port,
            # Test-only (bot/__main__.py): the watchdog's limit, 5 minutes in production.
            _BOT_TEST_GIVE_UP_AFTER_SECONDS="2",
        )
        yield telegram, upstream, env


async def test_the_process_exits_non_zero_when_a_part_keeps_failing(
    tmp_path: Path, world: tuple[FakeTelegram, FakeUpstream, dict[str, str]]
) -> None:
    telegram, upstream, env = world
    bot = BotProcess(env, tmp_path)
    await bot.start(f"{env['PUBLIC_BASE_URL']}/healthz")
    assert bot.process is not None
    try:
        # A job in progress: the reconciler looks at the table every 0.2 s.
        telegram.push_update(telegram.private_message(f"/video {TASK_ID} {AUDIO_ID}", user_id=7))
        async with asyncio.timeout(10):
            while not upstream.video_task_ids():
                await asyncio.sleep(0.02)
        database = Path(env["DATABASE_PATH"])
        await asyncio.to_thread(rename_jobs_table, database, "jobs", "jobs_away")
        async with httpx.AsyncClient() as client:  # /healthz says why meanwhile
            answer = await client.get(f"{env['PUBLIC_BASE_URL']}/healthz")
        assert answer.status_code == 503
        code = await asyncio.wait_for(bot.process.wait(), 30)
    finally:
        if bot.process.returncode is None:
            bot.process.kill()
            await bot.process.wait()
    output = bot.log.read_text()
    assert code == 1, output
    critical = [line for line in output.splitlines() if " CRITICAL " in line]
    assert len(critical) == 1, critical
    assert "giving up" in critical[0]
    assert GONE in critical[0]
    assert "stopped" in output.split(critical[0])[1]  # after a normal, bounded stop


async def test_sigterm_still_exits_zero(
    tmp_path: Path, world: tuple[FakeTelegram, FakeUpstream, dict[str, str]]
) -> None:
    bot = BotProcess(world[2], tmp_path)
    await bot.start(f"{world[2]['PUBLIC_BASE_URL']}/healthz")
    assert await bot.stop(signal.SIGTERM) == 0, bot.log.read_text()
