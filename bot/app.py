"""Composition root and lifecycle: open resources in order, close them in reverse.

database → HTTP clients → python-telegram-bot application → background loops → update intake;
`run` adds uvicorn and the signal handling of `python -m bot` (docs/architecture.md §1.3).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from functools import partial
from types import TracebackType
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from telegram import Bot, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.engine.callback_tokens import SALT_KEY, new_salt
from bot.engine.due_loop import DueLoop
from bot.health import HealthBoard
from bot.housekeeping import Chore, Housekeeping
from bot.rendering import Renderer, RenderError
from bot.telegram_io.update_intake import InboxWorker, TelegramPoller, UpdateFetcher, webhook_sink
from bot.upstream.client import make_http_client
from bot.web import build_web_app, telegram_webhook_route
from bot.wiring import Resources, Services, Wakeups, build_loops, build_services, register_handlers
from handlers.menu import publish_command_menu
from storage.db import Database
from storage.inbox import UpdateInbox
from storage.jobs import JobRepository
from storage.meta import MetaRepository
from storage.picks import TrackPickRepository

log = logging.getLogger(__name__)

# uvicorn stops within 1 s; then updates in hand and the loops' steps share this grace, so a
# stop always ends well inside 10 s (docs/architecture.md §7.3).
STOP_GRACE_SECONDS = 6.0
PICK_RETENTION = timedelta(days=30)  # older track buttons answer "no longer available"


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


class BotApp:
    """Everything the bot runs, started by `async with` and stopped in reverse order.

    Transports are injectable so tests run the real stack against fakes in-process.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        telegram_transport: httpx.AsyncBaseTransport | None = None,
        upstream_transport: httpx.AsyncBaseTransport | None = None,
        cdn_transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._telegram_transport = telegram_transport
        self._upstream_transport = upstream_transport
        self._cdn_transport = cdn_transport
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._stack = AsyncExitStack()
        self._wakeups = Wakeups()
        self.health = HealthBoard()  # every long-running part reports here (§5.3)
        self._tasks: list[asyncio.Task[None]] = []
        self._intake_tasks: list[asyncio.Task[None]] = []
        self._loops: list[DueLoop[Any]] = []
        self._renderer_start: asyncio.Task[Renderer] | None = None
        self._inbox: UpdateInbox | None = None
        self.web: Starlette | None = None
        self.application: Application | None = None  # type: ignore[type-arg]
        self.db: Database | None = None
        self.repo: JobRepository | None = None
        self.services: Services | None = None
        self.inbox_worker: InboxWorker | None = None
        self.poller: TelegramPoller | None = None

    def clock(self) -> datetime:
        """The app's notion of now."""
        return self._clock()

    def wake_delivery(self) -> None:
        """Make the delivery loop look for due jobs now."""
        self._wakeups.delivery.set()

    def wake_reconciler(self) -> None:
        """Make the submit and poll loops look for due jobs now."""
        self._wakeups.submitter.set()
        self._wakeups.reconciler.set()

    def wake_poster(self) -> None:
        """Make the channel poster look for newly delivered videos now."""
        self._wakeups.poster.set()

    async def __aenter__(self) -> BotApp:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        """Open resources, wire the services, run the start-up step, start the loops and
        the update intake; everything is closed in reverse by the exit stack."""
        settings = self.settings
        resources = await self._open_resources()
        self.db, application = resources.db, self.application
        assert application is not None
        services = build_services(
            settings, resources, wakeups=self._wakeups, clock=self._clock, rng=self._rng
        )
        self.repo = services.repo
        self.services = services
        register_handlers(application, settings, services, self._clock)
        inbox = self._inbox = UpdateInbox(resources.db, self._clock)
        worker = self.inbox_worker = InboxWorker(
            inbox=inbox, bot=application.bot, handle=application.process_update
        )
        self.web = self._build_web(services, inbox, worker)
        await self._prepare_for_start(services, inbox)
        await application.start()
        self._stack.push_async_callback(application.stop)
        for loop in build_loops(settings, services, self._wakeups, self._clock):
            self._start_loop(loop)
        self._stack.push_async_callback(self._stop_work, worker)
        await self._start_intake(application, inbox, worker)
        log.info(
            "bot started: mode=%s provider=%s callbacks=%s",
            settings.bot_mode,
            settings.music_api_provider,
            "on" if settings.callbacks_enabled else "off (poll-only)",
        )

    async def _open_resources(self) -> Resources:
        """The database, HTTP clients, python-telegram-bot's application and the channel
        poster's own Bot, each closed by the exit stack."""
        settings, stack = self.settings, self._stack
        db = await stack.enter_async_context(Database.connect(settings.database_path))
        salt = await MetaRepository(db).get_or_create(SALT_KEY, new_salt())
        upstream_http = make_http_client(transport=self._upstream_transport)
        stack.push_async_callback(upstream_http.aclose)
        cdn = httpx.AsyncClient(
            transport=self._cdn_transport, timeout=httpx.Timeout(30.0), follow_redirects=False
        )
        stack.push_async_callback(cdn.aclose)
        application = self.application = self._build_application()
        await application.initialize()
        stack.push_async_callback(application.shutdown)
        channel_bot = Bot(
            settings.telegram_bot_token.get_secret_value(),
            base_url=settings.telegram_api_base_url,
            base_file_url=settings.telegram_api_file_url,
            request=self._telegram_request(read_timeout=60.0),
        )
        await channel_bot.initialize()
        stack.push_async_callback(channel_bot.shutdown)
        return Resources(
            db=db,
            upstream_http=upstream_http,
            cdn=cdn,
            bot=application.bot,
            channel_bot=channel_bot,
            salt=salt,
            renderer=self._renderer,
        )

    async def _prepare_for_start(self, services: Services, inbox: UpdateInbox) -> None:
        """The start-up side effects, in one place: work a killed run left leased is due
        again, leftover render folders go, housekeeping starts (forgetting old updates and
        track picks, then hourly), font detection starts, the command menu is published."""
        now = self._clock()
        if released := await services.repo.release_leases(now):
            log.info("resuming %s jobs left in flight by the previous run", released)
        await services.posts.release_leases(now)
        if swept := await services.renders.sweep():
            log.info("removed %s render work dirs left by the previous run", swept)
        picks = TrackPickRepository(services.db, self._clock)
        chores: dict[str, Chore] = {
            "track picks": partial(picks.forget_older_than, PICK_RETENTION),
            "handled updates": inbox.forget_old,
        }
        await self._stack.enter_async_context(Housekeeping(chores))
        self._start_renderer()
        assert self.application is not None
        await publish_command_menu(self.application.bot)

    async def _renderer(self) -> Renderer:
        """The renderer, once its start-up (font detection) is done."""
        if self._renderer_start is None:
            self._start_renderer()
        assert self._renderer_start is not None
        return await asyncio.shield(self._renderer_start)

    def _start_renderer(self) -> None:
        """Detect fonts in the background (a warning names scripts that would show as boxes)."""
        if self._renderer_start is not None:
            return
        state_dir = self.settings.database_path.parent
        start = Renderer.start(self.settings.ffmpeg_binary, state_dir)
        self._renderer_start = asyncio.create_task(start, name="renderer-start")
        self._stack.push_async_callback(self._end_renderer_start, self._renderer_start)

    @staticmethod
    async def _end_renderer_start(task: asyncio.Task[Renderer]) -> None:
        """Let the short start-up finish (its ffmpeg children end with it), then drop it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError, RenderError):
            await task

    def _build_web(self, core: Services, inbox: UpdateInbox, worker: InboxWorker) -> Starlette:
        """The HTTP endpoint: callbacks, /healthz and, in webhook mode, /telegram."""

        async def health() -> dict[str, object] | None:
            if not await core.db.ping() or self._stalled():
                return None
            return {
                "due_polls": await core.repo.count_due_polls(),
                "due_deliveries": await core.repo.count_due_deliveries(),
                "updates_pending": await inbox.count_pending(),
            }

        extra_routes: list[BaseRoute] = []
        if self.settings.bot_mode == "webhook":
            assert self.settings.webhook_secret is not None
            secret = self.settings.webhook_secret.get_secret_value()
            extra_routes.append(telegram_webhook_route(secret, webhook_sink(inbox, worker)))
        return build_web_app(
            on_callback=core.callbacks.accept_callback, health=health, extra_routes=extra_routes
        )

    def _stalled(self) -> bool:
        """True when update handling, polling or one of the loops has stopped."""
        tasks = [*self._tasks, *self._intake_tasks]
        return any(task.done() for task in tasks)

    async def _start_intake(
        self,
        application: Application,  # type: ignore[type-arg]
        inbox: UpdateInbox,
        worker: InboxWorker,
    ) -> None:
        """Start handling stored updates, then take new ones: long polling or the webhook."""
        settings = self.settings
        self._start_intake_task(worker.run(), "inbox-worker")
        if settings.bot_mode == "polling":
            intake_http = httpx.AsyncClient(transport=self._telegram_transport)
            self._stack.push_async_callback(intake_http.aclose)
            token = settings.telegram_bot_token.get_secret_value()
            self.poller = TelegramPoller(
                fetcher=UpdateFetcher(intake_http, settings.telegram_api_base_url, token),
                inbox=inbox,
                on_stored=worker.wake,
                bot=application.bot,
            )
            self._start_intake_task(self.poller.run(), "telegram-poller")
            return
        # Telegram keeps updates queued while we are down: nothing is dropped on restart.
        assert settings.public_base_url is not None
        assert settings.webhook_secret is not None
        await application.bot.set_webhook(
            url=f"{settings.public_base_url.rstrip('/')}/telegram",
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )

    def _telegram_request(self, read_timeout: float) -> HTTPXRequest:
        kwargs = {"transport": self._telegram_transport} if self._telegram_transport else {}
        return HTTPXRequest(
            connection_pool_size=32,
            read_timeout=read_timeout,
            media_write_timeout=120.0,
            httpx_kwargs=kwargs,
        )

    def _build_application(self) -> Application:  # type: ignore[type-arg]
        settings = self.settings
        request = self._telegram_request
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(settings.telegram_api_base_url)
            .base_file_url(settings.telegram_api_file_url)
            .request(request(read_timeout=30.0))
            .get_updates_request(request(read_timeout=40.0))
            # A little under Telegram's 30 messages/s and 20 per minute per group, so jitter
            # between our clock and Telegram's never earns a 429 in a burst.
            .rate_limiter(AIORateLimiter(overall_max_rate=29, group_max_rate=19, max_retries=3))
        )
        # Updates come through our own inbox (bot/telegram_io/update_intake.py), never through
        # python-telegram-bot's Updater.
        return builder.updater(None).build()

    def _start_intake_task(self, work: Awaitable[None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        task.set_name(name)
        task.add_done_callback(_log_loop_end)
        self._intake_tasks.append(task)

    async def _stop_work(self, worker: InboxWorker) -> None:
        """Stop taking updates and new work, let what is in hand finish within one shared
        grace, then cancel the rest (a cancelled update stays in the inbox, a cancelled step's
        lease is released at the next start: both are picked up again then)."""
        for task in self._intake_tasks:
            if task.get_name() == "telegram-poller":
                task.cancel()
        for loop in self._loops:
            loop.stop()
        draining = asyncio.create_task(worker.drain(STOP_GRACE_SECONDS))
        await asyncio.wait([*self._tasks, draining], timeout=STOP_GRACE_SECONDS)
        rest = [*self._tasks, *self._intake_tasks, draining]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    async def is_idle(self) -> bool:
        """Whether nothing is in hand or due now: no update waiting or being handled, no
        step running, no loop with a due row (tests wait for this instead of sleeping)."""
        worker, inbox = self.inbox_worker, self._inbox
        if worker is None or inbox is None or worker.busy or await inbox.count_pending():
            return False
        if any(loop.in_progress for loop in self._loops):
            return False
        now = self._clock()
        for loop in self._loops:
            due = await loop.next_due_at()
            if due is not None and due <= now:
                return False
        return True

    def _start_loop(self, loop: DueLoop[Any]) -> None:
        self._loops.append(loop)
        task = asyncio.create_task(loop.run(), name=loop.name)
        task.add_done_callback(_log_loop_end)
        self._tasks.append(task)


def _log_loop_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.critical("%s loop died", task.get_name(), exc_info=task.exception())
