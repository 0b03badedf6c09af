"""Several `python -m bot` processes on one PostgreSQL database: one leads and serves, the others
stand by and take over within 10 s; a deposed leader fences itself and exits non-zero
(docs/architecture.md §5.4)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import httpx
import psycopg

from bot.domain import Family
from tests.e2e.chaos import API_KEY, BOT_TOKEN, FIRST_CHAT, TASK_ID, bot_environment
from tests.e2e.processes import BotProcess, free_port, serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream
from tests.postgres_server import throwaway_database

TAKEOVER_LIMIT_SECONDS = 10.0
LEADER_APPLICATION_NAME = "musicvideo-bot leader bot"


async def _start_standing_by(bot: BotProcess) -> None:
    """Start `bot` and return once it says it stands by."""
    with bot.log.open("ab") as log:
        bot.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=bot.cwd, env=bot.env, stdout=log, stderr=log
        )
    async with asyncio.timeout(20):
        while b"standing by: another bot process leads" not in bot.log.read_bytes():
            assert bot.running, bot.log.read_text()
            await asyncio.sleep(0.05)


async def _answers(url: str) -> bool:
    async with httpx.AsyncClient(timeout=1.0) as client:
        try:
            return (await client.get(url)).status_code == 200
        except httpx.TransportError:
            return False


async def _terminate_leader_session(url: str) -> None:
    """End the election connection of the one process that takes part (its backend pid)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            (LEADER_APPLICATION_NAME,),
        )
        assert [row[0] for row in await cursor.fetchall()] == [True]


def _bot(
    workdir: Path, telegram_url: str, upstream_url: str, database_url: str
) -> tuple[BotProcess, str]:
    """A `python -m bot` process on `database_url` (polling, no callbacks), and its /healthz."""
    workdir.mkdir()
    env, base = bot_environment(workdir, telegram_url, upstream_url, callbacks=False)
    env["DATABASE_URL"] = database_url
    return BotProcess(env, workdir), f"{base}/healthz"


async def test_the_standby_takes_over_within_10_s_of_a_leader_kill(tmp_path: Path) -> None:
    jobs = 16
    telegram = FakeTelegram(token=BOT_TOKEN)
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY, auto_complete_after_polls=2)
    upstream.add_music_task(
        TASK_ID, tracks=[(f"audio-{n}", f"Song {n}", 60.0) for n in range(jobs)]
    )
    with throwaway_database() as url:
        async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
            upstream.public_base_url = upstream_url
            leader, leader_health = _bot(tmp_path / "a", telegram_url, upstream_url, url)
            standby, standby_health = _bot(tmp_path / "b", telegram_url, upstream_url, url)
            await leader.start(leader_health)
            await _start_standing_by(standby)
            assert not await _answers(standby_health)

            def command(n: int) -> None:
                chat = FIRST_CHAT + n
                text = f"/video {TASK_ID} audio-{n}"
                telegram.push_update(telegram.private_message(text, user_id=chat))

            for n in range(jobs // 2):  # half before the kill, through the leader
                command(n)
                await asyncio.sleep(0.1)
            async with asyncio.timeout(10):  # the leader answers them
                while not all(telegram.messages(FIRST_CHAT + n) for n in range(jobs // 2)):
                    await asyncio.sleep(0.05)
            await leader.kill()
            killed = time.monotonic()
            for n in range(jobs // 2, jobs):  # the rest while nobody leads, then after
                command(n)
                await asyncio.sleep(0.2)
            async with asyncio.timeout(TAKEOVER_LIMIT_SECONDS + 5):
                while not await _answers(standby_health):
                    assert standby.running, standby.log.read_text()
                    await asyncio.sleep(0.05)
            takeover = time.monotonic() - killed
            print(f"takeover after kill -9 of the leader: {takeover:.1f} s")  # noqa: T201
            assert takeover < TAKEOVER_LIMIT_SECONDS, standby.log.read_text()
            chats = [FIRST_CHAT + n for n in range(jobs)]
            async with asyncio.timeout(30):
                while not all(any("video" in m for m in telegram.messages(c)) for c in chats):
                    await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # let late duplicates, if any, show up
            assert await standby.stop(signal.SIGTERM) == 0
    videos = {c: sum(1 for m in telegram.messages(c) if "video" in m) for c in chats}
    duplicates = sum(n - 1 for n in videos.values())
    print(f"{jobs} videos delivered, {duplicates} duplicates")  # noqa: T201
    assert duplicates <= 1, videos  # only a send the kill hit may repeat (§7.2)
    assert b"leader of 'bot'" in standby.log.read_bytes()


async def test_a_standby_stops_at_sigterm_and_a_deposed_leader_exits_non_zero(
    tmp_path: Path,
) -> None:
    telegram = FakeTelegram(token=BOT_TOKEN)
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY)
    with throwaway_database() as url:
        async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
            leader, leader_health = _bot(tmp_path / "a", telegram_url, upstream_url, url)
            standby, standby_health = _bot(tmp_path / "b", telegram_url, upstream_url, url)
            await leader.start(leader_health)
            async with httpx.AsyncClient() as client:
                health = (await client.get(leader_health)).json()
            assert health["parts"]["leadership"]["healthy"] is True, health
            await _start_standing_by(standby)
            assert not await _answers(standby_health)
            started = time.monotonic()
            assert await standby.stop(signal.SIGTERM, timeout=5) == 0
            print(f"standby stopped at SIGTERM in {time.monotonic() - started:.1f} s")  # noqa: T201
            await _terminate_leader_session(url)
            terminated = time.monotonic()
            assert leader.process is not None
            assert await asyncio.wait_for(leader.process.wait(), 5) == 1
            print(f"deposed leader exited in {time.monotonic() - terminated:.1f} s")  # noqa: T201
    log = leader.log.read_text()
    assert "fencing: lost leadership" in log, log


async def test_a_leader_deposed_while_starting_abandons_the_start_and_exits_non_zero(
    tmp_path: Path,
) -> None:
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY)
    with throwaway_database() as url:
        async with serve(upstream.app) as upstream_url:
            # Telegram unreachable: the elected process keeps waiting for getMe (§13.8).
            closed = f"http://127.0.0.1:{free_port()}"
            leader, leader_health = _bot(tmp_path / "a", closed, upstream_url, url)
            with leader.log.open("ab") as log:
                leader.process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    cwd=leader.cwd,
                    env=leader.env,
                    stdout=log,
                    stderr=log,
                )
            async with asyncio.timeout(20):
                while b"not reachable for getMe" not in leader.log.read_bytes():
                    assert leader.running, leader.log.read_text()
                    await asyncio.sleep(0.05)
            assert b"leader of 'bot'" in leader.log.read_bytes()
            assert not await _answers(leader_health)
            await _terminate_leader_session(url)
            assert await asyncio.wait_for(leader.process.wait(), 5) == 1, leader.log.read_text()
    log_text = leader.log.read_text()
    assert "deposed before the start was complete" in log_text, log_text
