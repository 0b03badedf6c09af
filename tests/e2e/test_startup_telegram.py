"""`python -m bot` started before Telegram answers waits for it (one line per attempt, backoff
1 → 60 s) and then starts normally; a token Telegram refuses ends it with exit code 2 and one
line naming TELEGRAM_BOT_TOKEN, no traceback."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp
from telegram import Bot

from bot.domain import Family
from bot.telegram_io.telegram_wait import TelegramTokenRefused, wait_for_telegram
from tests.e2e.harness import AUDIO_ID, BOT_TOKEN, TASK_ID
from tests.e2e.processes import BotProcess, bot_process_env, free_port, serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream

USER = 4242
API_KEY = "sk-startup-key"
WAITING = "not reachable"


@asynccontextmanager
async def serve_on(app: ASGIApp, port: int) -> AsyncIterator[None]:
    """Serve `app` with uvicorn on a given loopback port (one a bot already tries to reach)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    server.capture_signals = contextlib.nullcontext  # type: ignore[assignment]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def upstream_url() -> AsyncIterator[str]:
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY)
    upstream.add_music_task(TASK_ID, tracks=[(AUDIO_ID, "Song A", 198.4)])
    async with serve(upstream.app) as url:
        upstream.public_base_url = url
        yield url


def bot_env(tmp_path: Path, telegram_port: int, upstream_url: str, bot_port: int) -> dict[str, str]:
    return bot_process_env(
        tmp_path,
        token=BOT_TOKEN,
        api_key=API_KEY,
        telegram_url=f"http://127.0.0.1:{telegram_port}",
        upstream_url=upstream_url,
        bot_port=bot_port,
    )


async def wait_for_line(log: Path, text: str, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not (log.exists() and text in log.read_text()):
            await asyncio.sleep(0.05)


async def test_a_bot_started_before_telegram_answers_waits_then_starts(
    tmp_path: Path, upstream_url: str
) -> None:
    telegram = FakeTelegram(token=BOT_TOKEN)
    telegram_port, bot_port = free_port(), free_port()
    env = bot_env(tmp_path, telegram_port, upstream_url, bot_port)
    bot = BotProcess(env, tmp_path)
    starting = asyncio.create_task(bot.start(f"http://127.0.0.1:{bot_port}/healthz"))
    try:
        await wait_for_line(bot.log, WAITING)  # nothing listens on Telegram's port yet
        async with serve_on(telegram.app, telegram_port):
            await starting
            telegram.push_update(telegram.private_message("/help", user_id=USER))
            await telegram.wait_for("sendMessage", timeout=10)
            assert await bot.stop(signal.SIGTERM) == 0
    finally:
        starting.cancel()
        if bot.running:
            await bot.kill()
    output = bot.log.read_text()
    waits = [line for line in output.splitlines() if WAITING in line]
    assert 1 <= len(waits) <= 3
    assert f"http://127.0.0.1:{telegram_port}/bot" in waits[0]
    assert "ConnectError" in waits[0]  # the cause
    assert "Traceback" not in output
    assert BOT_TOKEN not in output
    assert "bot started" in output


async def test_sigterm_while_waiting_for_telegram_stops_the_bot(
    tmp_path: Path, upstream_url: str
) -> None:
    bot_port = free_port()
    env = bot_env(tmp_path, free_port(), upstream_url, bot_port)
    bot = BotProcess(env, tmp_path)
    starting = asyncio.create_task(bot.start(f"http://127.0.0.1:{bot_port}/healthz"))
    try:
        await wait_for_line(bot.log, WAITING)
        assert await bot.stop(signal.SIGTERM, timeout=10) == 0
    finally:
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError, AssertionError):
            await starting
        if bot.running:
            await bot.kill()
    assert "Traceback" not in bot.log.read_text()


async def test_a_token_telegram_refuses_exits_2_with_one_line(
    tmp_path: Path, upstream_url: str
) -> None:
    telegram = FakeTelegram(token="654321:ANOTHER-BOT")  # our token gets 401 Unauthorized
    telegram_port, bot_port = free_port(), free_port()
    env = bot_env(tmp_path, telegram_port, upstream_url, bot_port)
    async with serve_on(telegram.app, telegram_port):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    errors = stderr.decode()
    naming = [line for line in errors.splitlines() if "TELEGRAM_BOT_TOKEN" in line]
    assert len(naming) == 1, errors
    assert naming[0].startswith("configuration error:")
    assert "Traceback" not in errors + stdout.decode()
    assert BOT_TOKEN not in errors + stdout.decode()
    assert len(telegram.calls) == 0  # refused before any method ran (401 on getMe)


async def test_waiting_for_telegram_backs_off_from_1_to_60_seconds() -> None:
    closed = free_port()
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 9:
            raise asyncio.CancelledError  # enough attempts seen

    bot = Bot(BOT_TOKEN, base_url=f"http://127.0.0.1:{closed}/bot")
    with pytest.raises(asyncio.CancelledError):
        await wait_for_telegram(
            bot.get_me, what="getMe", base_url=f"http://127.0.0.1:{closed}/bot", sleep=record
        )
    await bot.shutdown()
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


async def test_a_refused_token_is_a_configuration_error_without_the_token() -> None:
    telegram = FakeTelegram(token="654321:ANOTHER-BOT")
    port = free_port()
    async with serve_on(telegram.app, port):
        bot = Bot(BOT_TOKEN, base_url=f"http://127.0.0.1:{port}/bot")
        with pytest.raises(TelegramTokenRefused) as refused:
            await wait_for_telegram(
                bot.initialize, what="getMe", base_url=f"http://127.0.0.1:{port}/bot"
            )
        await bot.shutdown()
    assert "TELEGRAM_BOT_TOKEN" in str(refused.value)
    assert BOT_TOKEN not in str(refused.value)
    assert refused.value.__cause__ is None
