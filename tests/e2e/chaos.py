"""Fault runs of `python -m bot`: many jobs in many chats while the bot is killed at random
(`run_chaos`), or while its database fails, Telegram refuses connections and it is killed
once (`run_storm`).

`run_chaos` is used by tests/e2e/test_kill9.py (short) and bench/kill9.py (long); `run_storm` by
tests/e2e/test_chaos.py. The fakes run in this
process on loopback; the bot is a real process that is SIGKILLed and restarted. The upstream
completes videos on its own (and, in callback mode, calls back with retries as providers do);
Telegram and the upstream fail now and then. Every sendVideo that reached the fake counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.domain import Family
from storage.db import FAULT_FILE_ENV
from tests.e2e.processes import BotProcess, free_port, serve
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
            await _settle(telegram, jobs, settle_seconds)
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
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),  # this checkout's code
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": f"{telegram_url}/bot",
        "TELEGRAM_API_FILE_URL": f"{telegram_url}/file/bot",
        "MUSIC_API_PROVIDER": "kie",
        "MUSIC_API_KEY": API_KEY,
        "MUSIC_API_BASE_URL": upstream_url,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "DATABASE_PATH": str(workdir / "bot.sqlite3"),
        "POLL_INTERVAL_SECONDS": "0.3",
        "QUOTA_PER_HOUR": "1000",
        "LOG_LEVEL": "INFO",
    }
    if callbacks:
        env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
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


async def _settle(telegram: FakeTelegram, jobs: int, timeout: float) -> None:
    """Wait until every chat has a video (or the time is up)."""
    chats = [FIRST_CHAT + n for n in range(jobs)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(any("video" in m for m in telegram.messages(chat)) for chat in chats):
            await asyncio.sleep(1.0)  # let late duplicates, if any, show up
            return
        await asyncio.sleep(0.1)


class LoopbackGate:
    """A TCP relay on a loopback port to `target_port` that can refuse: `close` stops
    listening and cuts every connection it carries (new ones are refused), `open` listens on
    the same port again."""

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        """The relay's base URL (the port is fixed by the first `open`)."""
        return f"http://127.0.0.1:{self.port}"

    async def open(self) -> None:
        """Accept connections (again)."""
        self._server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer, up_writer}
        self._writers |= pair
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._writers -= pair
            for end in pair:
                end.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the process has used, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_demand_seconds(pid: int) -> float:
    """Time the process's threads ran or waited to run (/proc/…/schedstat): a thread that
    never sleeps accrues one second per second however busy the machine is, unlike CPU time
    (on a loaded machine a spinning process gets only part of a core)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(FileNotFoundError), open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            ran, waited, _ = f.read().split()
            total += int(ran) + int(waited)
    return total / 1e9


@dataclass(frozen=True)
class CpuFigures:
    """CPU over a window, in cores: used, and demanded (ran or waited to run)."""

    used: float
    demand: float

    def __str__(self) -> str:
        return f"{self.used:.2f} used, {self.demand:.2f} demanded"


@dataclass
class StormReport:
    """What a storm run saw (None: not back to healthy within the wait)."""

    jobs: int
    videos: Counter[int]
    cpu_db_faults: CpuFigures  # while every statement failed
    cpu_telegram_refused: CpuFigures  # while Telegram refused connections
    healthy_after_db: float | None  # seconds from the end of the faults to /healthz 200
    healthy_after_telegram: float | None
    healthy_at_end: bool
    seconds: float

    @property
    def delivered(self) -> int:
        """Chats that received their video at least once."""
        return sum(1 for n in self.videos.values() if n >= 1)

    @property
    def duplicates(self) -> int:
        """Extra copies beyond the first, over all chats."""
        return sum(n - 1 for n in self.videos.values() if n > 1)

    def line(self) -> str:
        """The run's figures in one line."""

        def back(seconds: float | None) -> str:
            return "never" if seconds is None else f"{seconds:.1f} s"

        return (
            f"storm: {self.jobs} jobs, 10 s database faults, 10 s Telegram refused, 1 kill -9: "
            f"delivered {self.delivered}/{self.jobs}, duplicates {self.duplicates}; cores while "
            f"failing: {self.cpu_db_faults} (database), {self.cpu_telegram_refused} "
            f"(Telegram); /healthz 200 again {back(self.healthy_after_db)} after the "
            f"database, {back(self.healthy_after_telegram)} after Telegram; at the end "
            f"{'200' if self.healthy_at_end else 'not 200'} ({self.seconds:.1f} s)"
        )


FAULT_SECONDS = 10.0
RECOVERY_WAIT = 20.0  # the longest wait for /healthz 200 after a fault window (a part
# may be in a capped backoff when the fault ends)


async def run_storm(workdir: Path, *, jobs: int = 60, settle_seconds: float = 30.0) -> StormReport:
    """`jobs` /video commands spread over the run; 10 s of database faults, then 10 s of
    refused Telegram connections, then one kill -9; return what arrived and how the bot took
    it."""
    telegram = FakeTelegram(token=BOT_TOKEN)
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY, auto_complete_after_polls=2)
    upstream.add_music_task(
        TASK_ID, tracks=[(f"audio-{n}", f"Song {n}", 120.0) for n in range(jobs)]
    )
    faults = workdir / "db-faults"
    started = time.monotonic()
    async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
        upstream.public_base_url = upstream_url
        gate = LoopbackGate(int(telegram_url.rsplit(":", 1)[1]))
        await gate.open()
        env, base = bot_environment(
            workdir, gate.url, upstream_url, callbacks=False, db_fault_file=faults
        )
        health = f"{base}/healthz"
        bot = BotProcess(env, workdir)
        await bot.start(health)
        # One command every 0.3 s: they keep coming through both fault windows (the provider
        # takes 20 creates per 10 s, so 60 jobs need at least 30 s of a working database).
        submit = asyncio.create_task(_submit_steadily(telegram, jobs, 0.3))
        try:
            await asyncio.sleep(2.0)
            faults.touch()
            cpu_db = await _cpu_during(bot, FAULT_SECONDS)
            faults.unlink()
            healthy_after_db = await _seconds_to_healthy(health, RECOVERY_WAIT)
            await gate.close()
            cpu_telegram = await _cpu_during(bot, FAULT_SECONDS)
            await gate.open()
            healthy_after_telegram = await _seconds_to_healthy(health, RECOVERY_WAIT)
            await bot.kill()
            await bot.start(health)
            await submit
            await _settle(telegram, jobs, settle_seconds)
            healthy_at_end = await _seconds_to_healthy(health, 5.0) is not None
        finally:
            submit.cancel()
            await asyncio.gather(submit, return_exceptions=True)
            faults.unlink(missing_ok=True)
            await gate.close()
            if bot.running:
                await bot.stop(signal.SIGTERM, timeout=15)
    videos: Counter[int] = Counter()
    for n in range(jobs):
        chat = FIRST_CHAT + n
        videos[chat] = sum(1 for m in telegram.messages(chat) if "video" in m)
    return StormReport(
        jobs=jobs,
        videos=videos,
        cpu_db_faults=cpu_db,
        cpu_telegram_refused=cpu_telegram,
        healthy_after_db=healthy_after_db,
        healthy_after_telegram=healthy_after_telegram,
        healthy_at_end=healthy_at_end,
        seconds=time.monotonic() - started,
    )


async def _submit_steadily(telegram: FakeTelegram, jobs: int, every: float) -> None:
    for n in range(jobs):
        chat = FIRST_CHAT + n
        telegram.push_update(telegram.private_message(f"/video {TASK_ID} audio-{n}", user_id=chat))
        await asyncio.sleep(every)


async def _cpu_during(bot: BotProcess, seconds: float) -> CpuFigures:
    """The bot's CPU over the next `seconds` (zeros if it is not running)."""
    if not bot.running:
        return CpuFigures(0.0, 0.0)
    assert bot.process is not None
    pid = bot.process.pid
    used, demand, at = cpu_seconds(pid), cpu_demand_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    if not bot.running:
        return CpuFigures(0.0, 0.0)
    wall = time.monotonic() - at
    return CpuFigures((cpu_seconds(pid) - used) / wall, (cpu_demand_seconds(pid) - demand) / wall)


async def _seconds_to_healthy(health_url: str, wait: float) -> float | None:
    """Seconds until /healthz answers 200, or None if it does not within `wait`."""
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=1.0) as client:
        while time.monotonic() - started < wait:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(health_url)).status_code == 200:
                    return time.monotonic() - started
            await asyncio.sleep(0.1)
    return None
