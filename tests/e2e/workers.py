"""Render workers for the tests and the bench (docs/architecture.md §8.8): `python -m bot worker`
processes on a throwaway PostgreSQL database beside an in-process bot (tests/e2e/harness.py),
the worker processes talking to the same fakes served on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.domain import Provider
from tests.e2e.harness import BOT_TOKEN, Harness, new_fakes, running_bot
from tests.e2e.processes import REPO_ROOT, serve
from tests.postgres_server import throwaway_database
from tests.rendering.conftest import FFMPEG, processes_with

STALLED_AFTER_SECONDS = 3.0  # test-only: a silent worker counts as dead this soon


@dataclass
class Worker:
    """One `python -m bot worker` process and its own data folder."""

    folder: Path
    process: asyncio.subprocess.Process

    @property
    def log(self) -> Path:
        return self.folder / "worker.log"

    def ffmpeg(self) -> list[int]:
        """Live ffmpeg processes rendering in this worker's folder."""
        return processes_with(str(self.folder / "worker-renders"))


def worker_env(
    folder: Path, database_url: str, telegram_url: str, upstream_url: str
) -> dict[str, str]:
    """A worker's environment: Telegram and PostgreSQL, no provider key."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO_ROOT),
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": f"{telegram_url}/bot",
        "TELEGRAM_API_FILE_URL": f"{telegram_url}/file/bot",
        "MUSIC_API_BASE_URL": upstream_url,  # the media's origin (no key: never called)
        "DATABASE_URL": database_url,
        "DATABASE_PATH": str(folder / "bot.sqlite3"),
        "FFMPEG_BINARY": str(FFMPEG),
        "LOG_LEVEL": "INFO",
        "_BOT_TEST_STALLED_AFTER_SECONDS": str(STALLED_AFTER_SECONDS),
    }


async def start_worker(folder: Path, env: dict[str, str]) -> Worker:
    """Start a worker and return once it takes renders."""
    folder.mkdir(parents=True)
    worker = Worker(folder, await spawn_worker(folder, env))
    async with asyncio.timeout(30):
        while b"Starting worker on" not in worker.log.read_bytes():
            assert worker.process.returncode is None, worker.log.read_text()
            await asyncio.sleep(0.05)
    return worker


async def spawn_worker(folder: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    with (folder / "worker.log").open("ab") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "worker", cwd=folder, env=env, stdout=log, stderr=log
        )


@asynccontextmanager
async def scaled_out(
    tmp_path: Path,
    *,
    workers: int,
    media_seconds: float = 3.0,
    render_concurrency: int = 0,
    worker_overrides: Mapping[str, str | None] | None = None,
    **bot_overrides: Any,
) -> AsyncIterator[tuple[Harness, list[Worker]]]:
    """A bot on a throwaway PostgreSQL database (in-process) and `workers` worker processes;
    `worker_overrides` change the workers' environment (None removes a variable)."""
    telegram, upstream = new_fakes(Provider.KIE)
    upstream.media_seconds = media_seconds
    with throwaway_database() as url:
        async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
            upstream.public_base_url = upstream_url
            started: list[Worker] = []
            try:
                for n in range(workers):
                    env = worker_env(tmp_path / f"w{n}", url, telegram_url, upstream_url)
                    for name, value in (worker_overrides or {}).items():
                        if value is None:
                            env.pop(name, None)
                        else:
                            env[name] = value
                    started.append(await start_worker(tmp_path / f"w{n}", env))
                async with running_bot(
                    tmp_path / "bot",
                    fakes=(telegram, upstream),
                    database_url=url,
                    music_api_base_url=upstream_url,
                    render_concurrency=render_concurrency,
                    **bot_overrides,
                ) as h:
                    yield h, started
            finally:
                for worker in started:
                    if worker.process.returncode is None:
                        worker.process.send_signal(signal.SIGTERM)
                        await asyncio.wait_for(worker.process.wait(), 15)


async def busy_worker(workers: list[Worker], timeout: float) -> Worker:
    """The first worker seen running ffmpeg (waits up to `timeout`)."""
    async with asyncio.timeout(timeout):
        while not (busy := [w for w in workers if w.ffmpeg()]):
            await asyncio.sleep(0.02)
    return busy[0]
