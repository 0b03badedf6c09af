"""Benchmark: CPU time of `python -m bot` per job, next to a bare python-telegram-bot echo bot.

Both run as real processes against the same fake Bot API (tests/fakes/telegram.py) on loopback;
the fakes run in this process, so only the bot's own work is counted. Our bot, in callback mode:
N `/video` commands in N chats → status message → create upstream → the provider calls back →
sendVideo. The echo bot (bench/echo_bot.py): N text messages → N replies. CPU is the child's
user + system time from /proc from the first update to the last answer, less what it uses idle
over the same time. The job run is made twice: on SQLite (the default) and on PostgreSQL
(`DATABASE_URL` naming a throwaway database on the test server, tests/postgres_server.py), so the
two backends' cost per job can be compared (issue 17).
Usage: .venv/bin/python -m bench.cpu_per_job [N]   (default 100; the bot submits 20 per 10 s)
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import psycopg

from bench.proc import bot_environment, cpu_seconds
from bot.domain import Family
from tests.e2e.processes import BotProcess, serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream
from tests.postgres_server import throwaway_database

TOKEN = "123456:BENCH-TOKEN"  # noqa: S105 - the fake Bot API's token
API_KEY = "bench-key"
TASK_ID = "bench-task"
FIRST_CHAT = 300_000
IDLE_SECONDS = 3.0


async def _idle_rate(pid: int) -> float:
    """CPU seconds per wall second while nothing happens (long polls, loop ticks)."""
    cpu, wall = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(IDLE_SECONDS)
    return (cpu_seconds(pid) - cpu) / (time.perf_counter() - wall)


async def _measure(pid: int, work: Callable[[], Awaitable[None]]) -> float:
    """CPU seconds the process spent on `work()`, less its idle rate over the same time."""
    idle = await _idle_rate(pid)
    cpu, wall = cpu_seconds(pid), time.perf_counter()
    await work()
    return max(0.0, cpu_seconds(pid) - cpu - idle * (time.perf_counter() - wall))


async def echo_round_trip(rounds: int) -> float:
    """CPU seconds per echo round-trip of a bare python-telegram-bot bot."""
    telegram = FakeTelegram(token=TOKEN)
    async with serve(telegram.app) as telegram_url:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.echo_bot", TOKEN, telegram_url
        )
        try:
            await telegram.wait_for("getUpdates", timeout=30)

            async def work() -> None:
                for n in range(rounds):
                    chat = FIRST_CHAT + n
                    telegram.push_update(telegram.private_message(f"hello {n}", user_id=chat))
                await telegram.wait_for("sendMessage", count=rounds, timeout=rounds / 5 + 30)

            spent = await _measure(process.pid, work)
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
    return spent / rounds


async def _provider(upstream: FakeUpstream, client: httpx.AsyncClient, refused: list[int]) -> None:
    """Completes each new video task 0.5 s after its create (a real video takes minutes: the
    bot has recorded the create's answer by then) and calls the bot back, retrying a callback
    that is not answered 200 after 1, 2 and 4 s, as the providers document."""
    seen: set[str] = set()
    calls: set[asyncio.Task[None]] = set()
    while True:
        for video_task in upstream.video_task_ids():
            if video_task not in seen:
                seen.add(video_task)
                call = asyncio.create_task(_call_back(upstream, client, video_task, refused))
                calls.add(call)
                call.add_done_callback(calls.discard)
        await asyncio.sleep(0.01)


async def _call_back(
    upstream: FakeUpstream, client: httpx.AsyncClient, video_task: str, refused: list[int]
) -> None:
    await asyncio.sleep(0.5)
    upstream.complete(video_task)
    for delay in (1.0, 2.0, 4.0, None):
        with contextlib.suppress(httpx.HTTPError):
            status = (await upstream.fire_callback(video_task, client)).status_code
            if status == 200:
                return
            refused.append(status)
        if delay is None:
            return
        await asyncio.sleep(delay)


def _server_cpu(database_url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to `database_url`'s database."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    spent: dict[int, float] = {}
    for (pid,) in rows:
        with contextlib.suppress(OSError):  # a backend that ended meanwhile
            spent[pid] = cpu_seconds(pid)
    return spent


async def bot_job(
    jobs: int, database_url: str | None = None, server_cpu: list[float] | None = None
) -> tuple[float, float]:
    """CPU seconds per job of `python -m bot` (on SQLite, or on PostgreSQL at `database_url`,
    appending the server's CPU seconds per job to `server_cpu`), and the seconds the N jobs
    took."""
    telegram = FakeTelegram(token=TOKEN)
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY)
    upstream.add_music_task(TASK_ID, tracks=[(f"a{n}", f"Song {n}", 180.0) for n in range(jobs)])
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            serve(telegram.app) as telegram_url,
            serve(upstream.app) as upstream_url,
            httpx.AsyncClient(timeout=10.0) as client,
        ):
            upstream.public_base_url = upstream_url
            env, base = bot_environment(Path(tmp), telegram_url, upstream_url, TOKEN, API_KEY)
            if database_url is not None:
                env["DATABASE_URL"] = database_url
            bot = BotProcess(env, Path(tmp))
            await bot.start(f"{base}/healthz")
            assert bot.process is not None
            refused: list[int] = []
            provider = asyncio.create_task(_provider(upstream, client, refused))
            started = 0.0

            async def work() -> None:
                nonlocal started
                started = time.perf_counter()
                before = await asyncio.to_thread(_server_cpu, database_url) if database_url else {}
                await _jobs()
                if database_url is not None and server_cpu is not None:
                    after = await asyncio.to_thread(_server_cpu, database_url)
                    spent = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
                    server_cpu.append(spent / jobs)

            async def _jobs() -> None:
                for n in range(jobs):
                    chat = FIRST_CHAT + n
                    text = f"/video {TASK_ID} a{n}"
                    telegram.push_update(telegram.private_message(text, user_id=chat))
                await telegram.wait_for("sendVideo", count=jobs, timeout=jobs / 2 + 60)

            try:
                spent = await _measure(bot.process.pid, work)
                took = time.perf_counter() - started
            finally:
                provider.cancel()
                await asyncio.gather(provider, return_exceptions=True)
                await bot.stop(signal.SIGTERM, timeout=15)
    if refused:
        print(f"  callbacks not answered 200 (then retried): {Counter(refused)}")
    return spent / jobs, took


async def main(jobs: int) -> None:
    echo = await echo_round_trip(jobs)
    per_job, took = await bot_job(jobs)
    server: list[float] = []
    with throwaway_database() as url:
        pg_per_job, pg_took = await bot_job(jobs, url, server)
    print(
        f"CPU per echo round-trip, bare python-telegram-bot ({jobs} messages): "
        f"{echo * 1000:.2f} ms (goal: none — the yardstick for the next line)"
    )
    print(
        f"CPU per job, python -m bot ({jobs} jobs in {took:.1f} s, callbacks): "
        f"{per_job * 1000:.2f} ms = {per_job / echo:.1f} echo round-trips "
        f'(goal: none set in the issues — "a job costs little"; compare with the echo)'
    )
    print(
        f"CPU per job, python -m bot on PostgreSQL ({jobs} jobs in {pg_took:.1f} s, callbacks): "
        f"{pg_per_job * 1000:.2f} ms = {pg_per_job / per_job:.2f}× SQLite's "
        "(goal: none — the bot process only)"
    )
    print(
        f"CPU per job of the PostgreSQL server (its backends for the bot's database): "
        f"{server[0] * 1000:.2f} ms (goal: none — SQLite's share is inside the bot's figure)"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
