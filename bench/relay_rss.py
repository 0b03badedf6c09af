"""Benchmark: extra memory (RSS) of relaying a video (Telegram refuses the URL → download → upload).

Runs the real delivery step (bot.telegram_io.delivery.Delivery with python-telegram-bot, httpx
and the safe
fetcher) in this process against the fakes, which run in a child process on loopback so their
own buffers do not count: the fake CDN serves the body, the fake Bot API refuses video URLs and
takes the upload. Prints, per size, the peak RSS during the relay minus the RSS just before.
Usage: .venv/bin/python -m bench.relay_rss [MB ...]   (default: 10 45 90)
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")  # as `python -m bot` does

import httpx
import uvicorn
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.domain import Family, JobState
from bot.telegram_io.delivery import Delivery
from bot.telegram_io.status_messages import StatusMessages
from bot.upstream.safe_fetch import SafeFetcher
from storage.chats import ChatSettingsRepository
from storage.db import SqliteDatabase
from storage.jobs import JobRepository, NewJob
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream

TOKEN = "123456:BENCH-TOKEN"  # noqa: S105 - the fake Bot API's token
MB = 1_000_000
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """This process's resident set size in bytes."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE


class PeakRss:
    """Samples RSS every millisecond on a thread while in use; `peak` is the highest seen."""

    def __init__(self) -> None:
        self.peak = rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, rss())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())


# --- the child process: the fakes -----------------------------------------------------------


def serve_fakes(sizes: list[int]) -> None:
    """Serve a fake Bot API (refusing URLs) and a fake CDN; print where, then run forever."""
    telegram = FakeTelegram(token=TOKEN)
    telegram.refuse_video_urls()
    sockets = [socket.socket(), socket.socket()]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    cdn_base = f"http://127.0.0.1:{sockets[1].getsockname()[1]}"
    upstream = FakeUpstream(Family.KIE, api_key="k", public_base_url=cdn_base)
    upstream.add_music_task("m", tracks=[(f"a{n}", f"Song {n}", 180.0) for n in range(len(sizes))])
    urls = {}
    for n, size in enumerate(sizes):
        video_task = upstream.create_video("m", f"a{n}", None)
        upstream.complete(video_task, video_size=size)
        urls[size] = upstream.videos[video_task].video_url

    async def main() -> None:
        servers = [
            uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
            for app in (telegram.app, upstream.app)
        ]
        tasks = [
            asyncio.create_task(s.serve(sockets=[sock]))
            for s, sock in zip(servers, sockets, strict=True)
        ]
        while not all(s.started for s in servers):  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.01)
        where = {"telegram": sockets[0].getsockname()[1], "cdn": cdn_base, "urls": urls}
        print(json.dumps(where), flush=True)
        await asyncio.gather(*tasks)

    asyncio.run(main())


# --- this process: the delivery -------------------------------------------------------------


async def relay_once(delivery: Delivery, repo: JobRepository, url: str) -> tuple[JobState, int]:
    """One delivery step of a finished job whose URL Telegram refuses; (state, RSS peak-base)."""
    now = datetime.now(UTC)
    job = await repo.create(
        NewJob(
            chat_id=4242, thread_id=None, user_id=4242, command_message_id=None,
            status_message_id=None, language="en", provider="kie", task_id="m", audio_id=url,
            author=None, domain_name=None, callback_token_hash=url, next_poll_at=None,
        )
    )  # fmt: skip
    await repo.transition(
        job.id,
        expected=JobState.SUBMITTING,
        to=JobState.SUCCEEDED,
        video_url=url,
        completed_at=now,
        next_delivery_at=now,
    )
    fresh = await repo.get(job.id)
    assert fresh is not None
    base = rss()
    with PeakRss() as peak:
        await delivery.process(fresh)
    done = await repo.get(job.id)
    assert done is not None
    return done.state, peak.peak - base


async def measure(sizes: list[int]) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.relay_rss", "--serve", *map(str, sizes),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    where = json.loads(await child.stdout.readline())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with SqliteDatabase.connect(Path(tmp) / "bench.sqlite3") as db:
                await run(db, where, sizes)
    finally:
        child.terminate()
        await child.wait()


async def run(db: SqliteDatabase, where: dict[str, object], sizes: list[int]) -> None:
    urls = where["urls"]
    assert isinstance(urls, dict)
    repo = JobRepository(db)
    request = HTTPXRequest(connection_pool_size=8, read_timeout=30.0, media_write_timeout=120.0)
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{where['telegram']}/bot", request=request)
    async with bot, httpx.AsyncClient(timeout=30.0) as cdn:
        delivery = Delivery(
            bot=bot,
            repo=repo,
            fetcher=SafeFetcher(cdn, trusted_origin=str(where["cdn"])),
            status=StatusMessages(bot, job_timeout_minutes=30),
            chats=ChatSettingsRepository(db),
            retention_days=14,
            max_upload_bytes=2000 * MB,
            clock=lambda: datetime.now(UTC),
            rng=random.Random(1),
        )
        await relay_once(delivery, repo, urls[str(sizes[0])])  # warm-up: pools, imports, caches
        print(
            f"relay of a video Telegram refuses by URL: download + streamed upload"
            f" (RSS {rss() / 2**20:.1f} MiB at start)"
        )
        for size in sizes[1:]:
            started = time.perf_counter()
            state, extra = await relay_once(delivery, repo, urls[str(size)])
            took = time.perf_counter() - started
            print(
                f"extra RSS for a {size / MB:.0f} MB relay: {extra / 2**20:.2f} MiB"
                f" ({took:.2f} s, job {state.value}) (goal: ≤ 16 MB, flat in the file size)"
            )


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve_fakes([int(size) for size in sys.argv[2:]])
        return
    sizes = [int(float(mb) * MB) for mb in sys.argv[1:]] or [10 * MB, 45 * MB, 90 * MB]
    asyncio.run(measure([1 * MB, *sizes]))


if __name__ == "__main__":
    main()
