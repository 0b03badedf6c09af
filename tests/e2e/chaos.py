"""A kill -9 fault run: many jobs in many chats while `python -m bot` is killed at random.

Used by tests/e2e/test_kill9.py (short) and bench/kill9.py (long); its environment and
settling also by the storm run (tests/e2e/storm.py). The fakes run in this
process on loopback; the bot is a real process that is SIGKILLed and restarted. The upstream
completes videos on its own (and, in callback mode, calls back with retries as providers do);
Telegram and the upstream fail now and then. Every sendVideo that reached the fake counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.domain import Family
from storage.db import FAULT_FILE_ENV
from tests.e2e.processes import BotProcess, bot_process_env, free_port, serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream

BOT_TOKEN = "123456:CHAOS-TOKEN"
API_KEY = "sk-chaos-key"
TASK_ID = "music-task-1"
FIRST_CHAT = 70_000


@dataclass
class ChaosReport:
    """What a fault run saw: per-chat video counts and the kills that happened."""

    mode: str
    jobs: int
    kills: int
    seconds: float
    videos: Counter[int] = field(default_factory=Counter)

    @property
    def delivered(self) -> int:
        """Chats that received their video at least once."""
        return sum(1 for n in self.videos.values() if n >= 1)

    @property
    def lost(self) -> int:
        """Chats that never received their video."""
        return self.jobs - self.delivered

    @property
    def duplicates(self) -> int:
        """Extra copies beyond the first, over all chats."""
        return sum(n - 1 for n in self.videos.values() if n > 1)

    def line(self) -> str:
        """One line for logs and the bench output."""
        return (
            f"{self.mode}: {self.jobs} jobs, {self.kills} kill -9: delivered {self.delivered}, "
            f"lost {self.lost}, duplicates {self.duplicates} ({self.seconds:.1f} s)"
        )


async def run_chaos(
    workdir: Path,
    *,
    jobs: int,
    kills: int,
    callbacks: bool,
    seed: int = 1,
    gap: tuple[float, float] = (0.2, 2.0),
    settle_seconds: float = 60.0,
) -> ChaosReport:
    """Run `jobs` jobs (one chat each) through `kills` kill -9s; return what arrived."""
    rng = random.Random(seed)
    telegram = FakeTelegram(token=BOT_TOKEN)
    upstream = FakeUpstream(
        Family.KIE, api_key=API_KEY, auto_complete_after_polls=None if callbacks else 2
    )
    upstream.add_music_task(
        TASK_ID, tracks=[(f"audio-{n}", f"Song {n}", 120.0) for n in range(jobs)]
    )
    started = time.monotonic()
    async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
        upstream.public_base_url = upstream_url
        env, base = bot_environment(workdir, telegram_url, upstream_url, callbacks=callbacks)
        health = f"{base}/healthz"
        bot = BotProcess(env, workdir)
        await bot.start(health)
        background = [asyncio.create_task(_submit_all(telegram, jobs, rng))]
        if callbacks:
            background.append(asyncio.create_task(_provider(upstream, rng)))
        background.append(asyncio.create_task(_weather(telegram, upstream, rng)))
        try:
            for _ in range(kills):
                await asyncio.sleep(rng.uniform(*gap))
                await bot.kill()
                await bot.start(health)
            await background[0]  # every command was sent
            await settle(telegram, jobs, settle_seconds)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if bot.running:
                await bot.stop(signal.SIGTERM, timeout=15)
    report = ChaosReport(
        mode="callbacks" if callbacks else "poll-only",
        jobs=jobs,
        kills=kills,
        seconds=time.monotonic() - started,
    )
    for n in range(jobs):
        chat = FIRST_CHAT + n
        report.videos[chat] = sum(1 for m in telegram.messages(chat) if "video" in m)
    return report


def bot_environment(
    workdir: Path,
    telegram_url: str,
    upstream_url: str,
    *,
    callbacks: bool,
    db_fault_file: Path | None = None,
) -> tuple[dict[str, str], str]:
    """The environment of `python -m bot` against the fakes, and the bot's own base URL;
    with `db_fault_file`, the file whose presence fails every database statement."""
    port = free_port()
    env = bot_process_env(
        workdir,
        token=BOT_TOKEN,
        api_key=API_KEY,
        telegram_url=telegram_url,
        upstream_url=upstream_url,
        bot_port=port,
        POLL_INTERVAL_SECONDS="0.3",
        QUOTA_PER_HOUR="1000",
    )
    if not callbacks:
        del env["PUBLIC_BASE_URL"]
    if db_fault_file is not None:
        env[FAULT_FILE_ENV] = str(db_fault_file)  # test-only (docs/architecture.md §7.4)
    return env, f"http://127.0.0.1:{port}"


async def _submit_all(telegram: FakeTelegram, jobs: int, rng: random.Random) -> None:
    """One /video per chat, spread over the first seconds of the run, some in bursts."""
    for n in range(jobs):
        chat = FIRST_CHAT + n
        telegram.push_update(telegram.private_message(f"/video {TASK_ID} audio-{n}", user_id=chat))
        if rng.random() < 0.6:
            await asyncio.sleep(rng.uniform(0.0, 0.3))


async def _provider(upstream: FakeUpstream, rng: random.Random) -> None:
    """Completes each video 0.3-1.5 s after it was created and calls back, retrying three
    times (1, 2, 4 s) when the bot does not answer 200, as the providers document."""
    seen: set[str] = set()
    pending: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(timeout=5.0) as client:
        while True:
            for video_task in upstream.video_task_ids():
                if video_task not in seen:
                    seen.add(video_task)
                    task = asyncio.create_task(_complete_later(upstream, client, video_task, rng))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
            await asyncio.sleep(0.05)


async def _complete_later(
    upstream: FakeUpstream, client: httpx.AsyncClient, video_task: str, rng: random.Random
) -> None:
    await asyncio.sleep(rng.uniform(0.3, 1.5))
    upstream.complete(video_task)
    for delay in (1.0, 2.0, 4.0, None):
        with contextlib.suppress(httpx.HTTPError):
            if (await upstream.fire_callback(video_task, client)).status_code == 200:
                return
        if delay is None:
            return
        await asyncio.sleep(delay)


async def _weather(telegram: FakeTelegram, upstream: FakeUpstream, rng: random.Random) -> None:
    """Now and then: a Telegram 429 storm, a provider 500, a create whose answer is lost."""
    while True:
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        roll = rng.random()
        if roll < 0.3:
            telegram.fail_with_retry_after("sendVideo", 1)
        elif roll < 0.5:
            upstream.fail_next("details", 500, "flaky")
        elif roll < 0.6:
            upstream.fail_next("create", 500, "answer lost", accept=True)


async def settle(telegram: FakeTelegram, jobs: int, timeout: float) -> None:
    """Wait until every chat has a video (or the time is up)."""
    chats = [FIRST_CHAT + n for n in range(jobs)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(any("video" in m for m in telegram.messages(chat)) for chat in chats):
            await asyncio.sleep(1.0)  # let late duplicates, if any, show up
            return
        await asyncio.sleep(0.1)
