"""A render worker's process (docs/architecture.md §8.8): open PostgreSQL (migrating it like a
bot does), Telegram and the renderer, then run the task engine's worker until SIGTERM/SIGINT.

At a stop the renders in hand are cancelled (their ffmpeg killed) and given back to the queue,
so another worker or the bot takes them; the process ends within a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import socket
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import httpx
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.config import WorkerSettings
from bot.domain import LINK_RETENTION_DAYS, PROVIDER_FAMILY
from bot.engine.render_jobs import RenderJobs
from bot.engine.render_plan import RenderPlan
from bot.engine.render_sources import RenderSources
from bot.engine.track_analyses import TrackAnalyses
from bot.rendering import Renderer, RenderQueue
from bot.telegram_io.chat_files import TelegramChatFiles
from bot.telegram_io.delivery import Delivery
from bot.telegram_io.relay_files import RelayFiles
from bot.telegram_io.render_progress import TelegramRenderProgress
from bot.telegram_io.status_messages import StatusMessages
from bot.telegram_io.telegram_wait import wait_for_telegram
from bot.upstream.safe_fetch import SafeFetcher
from bot.worker.engine import EngineTimings, run_render_worker
from storage.chats import ChatSettingsRepository
from storage.jobs import Job, JobRepository
from storage.lyrics import AnalysisRepository
from storage.postgres_db import PostgresDatabase, wait_for_postgres
from storage.render_dispatch import RenderDispatch

log = logging.getLogger(__name__)

EXIT_STOPPED = 0
EXIT_GAVE_UP = 1  # the engine's worker failed: restart me
WORK_FOLDER = "worker-renders"  # under DATABASE_PATH's folder: this worker's render dirs


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


class PreparedByTheBot:
    """A worker has no provider key: it renders only renders the bot prepared (the engine
    queues nothing else, docs/architecture.md §8.8)."""

    async def prepare(self, job: Job) -> RenderPlan | None:
        """Never called for a dispatched render (its plan is stored before it is queued)."""
        raise RuntimeError(f"job {job.id}: a render worker cannot prepare a render")


def worker_name() -> str:
    """How this worker is named in the engine's tables and the logs."""
    return f"worker-{socket.gethostname()}-{os.getpid()}"


async def run_worker(
    settings: WorkerSettings,
    *,
    timings: EngineTimings | None = None,
    telegram_transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> int:
    """Run until SIGTERM or SIGINT; the process exit code."""
    url = settings.postgres_url
    assert url is not None  # checked by the entry point
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        starting = asyncio.create_task(
            _start(
                settings,
                url,
                stack,
                timings=timings,
                telegram_transport=telegram_transport,
                clock=clock,
            )
        )
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            log.info("stopped before the start was complete")
            return EXIT_STOPPED
        stopped.cancel()
        working = starting.result()
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({working, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if working.done():  # the engine's worker ended by itself (e.g. PostgreSQL went away)
            cause = working.exception() if not working.cancelled() else None
            log.critical(
                "render worker stopped working (%s); exiting so that the supervisor restarts it",
                cause or "ended",
                exc_info=cause,
            )
            return EXIT_GAVE_UP
        log.info("stopping")
        working.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await working
    log.info("stopped")
    return EXIT_STOPPED


async def _start(
    settings: WorkerSettings,
    url: str,
    stack: AsyncExitStack,
    *,
    timings: EngineTimings | None,
    telegram_transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime],
) -> asyncio.Task[None]:
    """Open everything (closed by `stack`) and start the engine's worker; its task."""
    await wait_for_postgres(url)
    db = await stack.enter_async_context(PostgresDatabase.connect(url))
    kwargs = {"transport": telegram_transport} if telegram_transport else {}
    # Rate-limited like the bot's own (bot/app.py): a flood wait is waited out, not failed.
    bot: ExtBot[int] = ExtBot(
        settings.telegram_bot_token.get_secret_value(),
        rate_limiter=AIORateLimiter(overall_max_rate=29, group_max_rate=19, max_retries=3),
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_api_file_url,
        request=HTTPXRequest(
            connection_pool_size=16,
            read_timeout=30.0,
            media_write_timeout=120.0,
            httpx_kwargs=kwargs,
        ),
    )
    stack.push_async_callback(bot.shutdown)
    await wait_for_telegram(bot.initialize, what="getMe", base_url=settings.telegram_api_base_url)
    cdn = httpx.AsyncClient(timeout=httpx.Timeout(30.0), follow_redirects=False)
    stack.push_async_callback(cdn.aclose)
    renderer = asyncio.create_task(
        Renderer.start(settings.ffmpeg_binary, settings.database_path.parent), name="fonts"
    )
    stack.callback(renderer.cancel)

    async def ready_renderer() -> Renderer:
        return await asyncio.shield(renderer)

    repo = JobRepository(db, clock)
    family = PROVIDER_FAMILY[settings.music_api_provider]
    fetcher = SafeFetcher(cdn, trusted_origin=settings.upstream_base_url)
    delivery = Delivery(
        bot=bot,
        repo=repo,
        fetcher=fetcher,
        status=StatusMessages(bot, job_timeout_minutes=settings.job_timeout_minutes),
        retention_days=LINK_RETENTION_DAYS[family],
        max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
        clock=clock,
        rng=random.Random(),  # noqa: S311 - jitter, not security
        chats=ChatSettingsRepository(db, clock),
        relay_files=RelayFiles.beside(settings.database_path),
    )
    # One folder per host: workers sharing a data volume never sweep each other's renders.
    work_root = settings.database_path.parent / WORK_FOLDER / socket.gethostname()
    concurrency = max(1, settings.render_concurrency)
    renders = RenderJobs(
        repo=repo,
        preparer=PreparedByTheBot(),
        sources=RenderSources(
            fetcher=fetcher,
            chat_files=TelegramChatFiles(bot),
            analyses=TrackAnalyses(AnalysisRepository(db, clock)),
        ),
        progress=TelegramRenderProgress(bot),
        renderer=ready_renderer,
        queue=RenderQueue(concurrency),
        work_root=work_root,
        clock=clock,
        wake_delivery=lambda: None,
        dispatch=RenderDispatch(db, clock),
        hand_over=delivery.deliver_rendered,
    )
    if swept := await renders.sweep():
        log.info("removed %s render work dirs left by the previous run", swept)
    name = worker_name()
    log.info("render worker %s started: %s renders at once", name, concurrency)
    return asyncio.create_task(
        run_render_worker(
            url, renders.render_dispatched, concurrency=concurrency, name=name, timings=timings
        ),
        name="render-worker",
    )
