"""A storm run of `python -m bot`: jobs keep coming while its database fails for 10 s (the
test-only fault file, docs/architecture.md §7.4), then Telegram refuses connections for 10 s,
then it is killed once; how much CPU it wants while failing and when /healthz is 200 again.

Used by tests/e2e/test_chaos.py. The fakes run in this process on loopback; Telegram is reached
through a relay that can refuse (`LoopbackGate`). CPU is read from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.domain import Family
from tests.e2e.chaos import API_KEY, BOT_TOKEN, FIRST_CHAT, TASK_ID, bot_environment, settle
from tests.e2e.processes import BotProcess, serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream


class LoopbackGate:
    """A TCP relay on a loopback port to `target_port` that can refuse: `close` stops
    listening and cuts every connection it carries (new ones are refused), `open` listens on
    the same port again."""

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._relays: set[asyncio.Task[None]] = set()

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
        """Refuse new connections, cut the open ones and wait until every relay has ended
        (so no socket is left for the garbage collector to find open)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        relays = list(self._relays)
        for relay in relays:
            relay.cancel()
        await asyncio.gather(*relays, return_exceptions=True)
        await asyncio.sleep(0)  # let the aborted transports close their sockets

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        ends = [writer]
        self._writers.add(writer)
        try:
            if self._server is None:
                return  # accepted as the gate closed
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
            ends.append(up_writer)
            self._writers.add(up_writer)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except OSError:
            pass
        except asyncio.CancelledError:
            # Only `close` cancels a relay. Ending quietly matters: asyncio's server logs a
            # cancelled connection handler as an error and leaves its socket open.
            pass
        finally:
            for end in ends:
                self._writers.discard(end)
                end.transport.abort()
            self._relays.discard(task)


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
            await settle(telegram, jobs, settle_seconds)
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
