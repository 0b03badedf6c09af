"""Several `python -m bot` processes on one PostgreSQL database: all serve HTTP, one leads (polls
and runs the loops), the others follow and take over within 10 s; a deposed leader fences
itself and exits non-zero (docs/architecture.md §5.4). Webhook updates and callbacks taken by a
follower: tests/e2e/test_followers.py."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import psycopg

from bot.domain import Family
from tests.e2e.chaos import API_KEY, BOT_TOKEN, FIRST_CHAT, TASK_ID, bot_environment
from tests.e2e.processes import BotProcess, serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream
from tests.postgres_server import throwaway_database

TAKEOVER_LIMIT_SECONDS = 10.0
LEADER_APPLICATION_NAME = "musicvideo-bot leader bot"


async def _start_following(bot: BotProcess, health_url: str) -> None:
    """Start `bot` and return once it serves HTTP as a follower."""
    await bot.start(health_url)
    assert await _role(health_url) == "follower", bot.log.read_text()


async def _role(url: str) -> str | None:
    """The role /healthz names (None while it does not answer)."""
    async with httpx.AsyncClient(timeout=1.0) as client:
        try:
            role = (await client.get(url)).json().get("role")
        except httpx.TransportError:
            return None
    return None if role is None else str(role)


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
            await _start_following(standby, standby_health)

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
                while await _role(standby_health) != "leader":
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
            assert health["role"] == "leader", health
            await _start_following(standby, standby_health)
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


async def test_a_leader_deposed_while_its_term_starts_abandons_it_and_exits_non_zero(
    tmp_path: Path,
) -> None:
    telegram = FakeTelegram(token=BOT_TOKEN)
    # setWebhook keeps failing: the elected process keeps waiting for it (§13.8).
    telegram.fail_next("setWebhook", error_code=502, description="Bad Gateway", times=None)
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY)
    with throwaway_database() as url:
        async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
            leader, leader_health = _bot(tmp_path / "a", telegram_url, upstream_url, url)
            base = leader_health.removesuffix("/healthz")
            leader.env |= {"BOT_MODE": "webhook", "WEBHOOK_SECRET": "s3cret"}
            leader.env["PUBLIC_BASE_URL"] = base
            await leader.start(leader_health)
            async with asyncio.timeout(20):
                while b"not reachable for setWebhook" not in leader.log.read_bytes():
                    assert leader.running, leader.log.read_text()
                    await asyncio.sleep(0.05)
            assert b"leading: term" not in leader.log.read_bytes()
            await _terminate_leader_session(url)
            assert leader.process is not None
            assert await asyncio.wait_for(leader.process.wait(), 5) == 1, leader.log.read_text()
    log_text = leader.log.read_text()
    assert "fencing: lost leadership" in log_text, log_text
