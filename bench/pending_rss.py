"""Benchmark: memory (RSS) of `python -m bot` with many pending jobs, next to none.

Writes N jobs in PENDING (each with a video task the fake upstream knows and keeps pending),
their next polls spread over the next 5 minutes as the backoff leaves them, starts the real
bot process against the fakes on loopback, lets the reconciler work for a while and reads the
process's RSS (now and peak) from /proc. The same with an empty database is the baseline.
Usage: .venv/bin/python -m bench.pending_rss [N] [seconds]   (default 10000 20)
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.proc import bot_environment, memory_mib
from bot.domain import Family, JobState
from storage.db import SqliteDatabase
from storage.jobs import JobRepository, NewJob
from tests.e2e.processes import BotProcess, serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream

TOKEN = "123456:BENCH-TOKEN"  # noqa: S105 - the fake Bot API's token
API_KEY = "bench-key"
TASK_ID = "bench-task"
AUDIO_ID = "bench-audio"


async def _fill(path: Path, upstream: FakeUpstream, jobs: int) -> None:
    """Write `jobs` pending jobs."""
    rng = random.Random(1)
    now = datetime.now(UTC)
    async with SqliteDatabase.connect(path) as db:
        repo = JobRepository(db)
        for n in range(jobs):
            job = await repo.create(
                NewJob(
                    chat_id=500_000 + n, thread_id=None, user_id=500_000 + n,
                    command_message_id=1, status_message_id=None, language="en",
                    provider="kie", task_id=TASK_ID, audio_id=AUDIO_ID, author=None,
                    domain_name=None, callback_token_hash=f"pending-{n}", next_poll_at=None,
                )
            )  # fmt: skip
            await repo.transition(
                job.id,
                expected=JobState.SUBMITTING,
                to=JobState.PENDING,
                video_task_id=upstream.create_video(TASK_ID, AUDIO_ID),
                status_phase="rendering",
                next_poll_at=now + timedelta(seconds=rng.uniform(0.0, 300.0)),
            )


async def _rss(jobs: int, seconds: float) -> tuple[float, float, int]:
    """(RSS now, peak RSS, polls answered) of a bot with `jobs` pending jobs."""
    telegram = FakeTelegram(token=TOKEN)
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY)
    upstream.add_music_task(TASK_ID, tracks=[(AUDIO_ID, "Song", 180.0)])
    with tempfile.TemporaryDirectory() as tmp:
        await _fill(Path(tmp) / "bot.sqlite3", upstream, jobs)
        async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
            upstream.public_base_url = upstream_url
            env, base = bot_environment(Path(tmp), telegram_url, upstream_url, TOKEN, API_KEY)
            bot = BotProcess(env, Path(tmp))
            await bot.start(f"{base}/healthz")
            assert bot.process is not None
            try:
                await asyncio.sleep(seconds)  # the reconciler polls what is due meanwhile
                now = memory_mib(bot.process.pid)
                peak = memory_mib(bot.process.pid, "VmHWM")
            finally:
                await bot.stop(signal.SIGTERM, timeout=15)
    return now, peak, sum(1 for r in upstream.requests if r.method == "GET")


async def main(jobs: int, seconds: float) -> None:
    idle, idle_peak, _ = await _rss(0, seconds)
    busy, busy_peak, polls = await _rss(jobs, seconds)
    print(f"RSS of python -m bot with no jobs: {idle:.1f} MiB (peak {idle_peak:.1f} MiB)")
    print(
        f"RSS with {jobs:,} pending jobs: {busy:.1f} MiB (peak {busy_peak:.1f} MiB), "
        f"{busy - idle:+.1f} MiB over none after {seconds:.0f} s and {polls} polls "
        f"(goal: flat in the number of pending jobs — no per-job state in memory)"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(int(args[0]) if args else 10_000, float(args[1]) if len(args) > 1 else 20.0))
