"""`python -m bot` as a real process against the fakes on loopback: a job, SIGKILL, SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.domain import Family
from tests.e2e.harness import AUDIO_ID, BOT_TOKEN, TASK_ID
from tests.e2e.processes import BotProcess, bot_process_env, free_port, serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream

USER = 4242
API_KEY = "sk-smoke-SECRET-key"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[FakeTelegram, FakeUpstream, dict[str, str]]]:
    telegram = FakeTelegram(token=BOT_TOKEN)
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY)
    upstream.add_music_task(TASK_ID, tracks=[(AUDIO_ID, "Song A", 198.4)])
    async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
        upstream.public_base_url = upstream_url
        bot_port = free_port()
        env = bot_process_env(
            tmp_path,
            token=BOT_TOKEN,
            api_key=API_KEY,
            telegram_url=telegram_url,
            upstream_url=upstream_url,
            bot_port=bot_port,
            LOG_LEVEL="DEBUG",
        )
        yield telegram, upstream, env


async def test_process_delivers_survives_sigkill_and_stops_on_sigterm(
    tmp_path: Path, world: tuple[FakeTelegram, FakeUpstream, dict[str, str]]
) -> None:
    telegram, upstream, env = world
    health = f"{env['PUBLIC_BASE_URL']}/healthz"
    bot = BotProcess(env, tmp_path)
    await bot.start(health)

    telegram.push_update(telegram.private_message(f"/video {TASK_ID} {AUDIO_ID}", user_id=USER))
    async with asyncio.timeout(10):
        while not upstream.video_task_ids():
            await asyncio.sleep(0.02)
    [video_task] = upstream.video_task_ids()
    await telegram.wait_for("sendMessage", timeout=10)  # the status message
    async with asyncio.timeout(10):
        while (await _health(health)).get("due_polls") != 1:  # the job is pending
            await asyncio.sleep(0.05)

    # Killed while the job is pending: nothing is lost.
    assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL
    upstream.complete(video_task)
    await bot.start(health)
    await telegram.wait_for("sendVideo", timeout=15)

    # A duplicate callback after delivery changes nothing.
    async with httpx.AsyncClient() as client:
        assert (await upstream.fire_callback(video_task, client)).status_code == 200
    await asyncio.sleep(0.5)
    assert len(telegram.calls_to("sendVideo")) == 1

    started = asyncio.get_running_loop().time()
    assert await bot.stop(signal.SIGTERM) == 0
    assert asyncio.get_running_loop().time() - started < 10
    output = bot.log.read_text()
    assert "stopped" in output
    assert BOT_TOKEN not in output
    assert API_KEY not in output


async def test_sigterm_stops_within_10_s_despite_a_half_sent_callback(
    tmp_path: Path, world: tuple[FakeTelegram, FakeUpstream, dict[str, str]]
) -> None:
    _, _, env = world
    bot = BotProcess(env, tmp_path)
    await bot.start(f"{env['PUBLIC_BASE_URL']}/healthz")
    assert bot.process is not None
    port = int(env["HTTP_PORT"])
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = (
            f"POST /callbacks/x HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        )
        writer.write(head.encode() + b" " * 500)
        await writer.drain()
        async with httpx.AsyncClient() as client:  # one round trip: the server has read ours
            assert (await client.get(f"{env['PUBLIC_BASE_URL']}/healthz")).status_code == 200
        started = asyncio.get_running_loop().time()
        assert await bot.stop(signal.SIGTERM) == 0, bot.log.read_text()
        assert asyncio.get_running_loop().time() - started < 10
    finally:
        if bot.process.returncode is None:
            bot.process.kill()
            await bot.process.wait()
        writer.close()
        await writer.wait_closed()


async def _health(url: str) -> dict[str, object]:
    async with httpx.AsyncClient() as client:
        body = (await client.get(url)).json()
    assert isinstance(body, dict)
    return body
