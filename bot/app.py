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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from telegram import Bot, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from bot.admin_alerts import TelegramAdminAlerts
from bot.admission import AccessPolicy, Admission
from bot.callback_tokens import SALT_KEY, CallbackTokens, new_salt
from bot.channel_poster import STEP_DEADLINE as POST_STEP_DEADLINE
from bot.channel_poster import ChannelPoster
from bot.config import Settings
from bot.delivery import Delivery
from bot.domain import LINK_RETENTION_DAYS, PROVIDER_FAMILY
from bot.due_loop import DueLoop
from bot.housekeeping import Housekeeping
from bot.job_callbacks import CallbackIntake
from bot.job_model import EngineConfig
from bot.jobs import JobService
from bot.lyrics_source import LyricsSource
from bot.render_jobs import RenderJobs
from bot.rendering import Renderer, RenderError, RenderQueue
from bot.safe_fetch import SafeFetcher
from bot.status_messages import StatusMessages
from bot.update_intake import InboxWorker, TelegramPoller, UpdateFetcher, webhook_sink
from bot.upstream.client import UpstreamClient, make_http_client
from bot.upstream.dialect import dialect_for
from bot.video_hosts import VideoHosts
from bot.web import build_web_app, telegram_webhook_route
from handlers.admin import AdminHandlers
from handlers.autopost import AutopostHandlers
from handlers.commands import CommandHandlers
from handlers.errors import on_error
from handlers.history import HistoryHandlers
from handlers.inline_share import InlineShareHandlers
from handlers.menu import publish_command_menu
from handlers.picker import TrackPicker
from handlers.render import RenderHandlers
from handlers.settings import ChatSettingsHandlers
from handlers.stale_buttons import register_stale_buttons
from handlers.submit import JobStarter
from handlers.teaser import TeaserHandlers
from storage.autopost_links import AutopostLinkRepository
from storage.channel_posts import ChannelPostRepository
from storage.chats import ChatSettingsRepository
from storage.db import Database
from storage.inbox import UpdateInbox
from storage.jobs import Job, JobRepository
from storage.lyrics import LyricsRepository
from storage.meta import MetaRepository
from storage.picks import TrackPickRepository

log = logging.getLogger(__name__)

# uvicorn stops within 1 s; then updates in hand and the loops' steps share this grace, so a
# stop always ends well inside 10 s (docs/architecture.md §7.3).
STOP_GRACE_SECONDS = 6.0
RENDER_WAITING_SLOTS = 15  # renders the loop holds beyond RENDER_CONCURRENCY (waiting in line)
PICK_RETENTION = timedelta(days=30)  # older track buttons answer "no longer available"


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Core:
    """The services the handlers, web app and loops are built from."""

    db: Database
    repo: JobRepository
    upstream: UpstreamClient
    jobs: JobService
    callbacks: CallbackIntake
    delivery: Delivery
    status: StatusMessages
    policy: AccessPolicy
    retention_days: int
    renders: RenderJobs


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
        self._tasks: list[asyncio.Task[None]] = []
        self.web: Starlette | None = None
        self.application: Application | None = None  # type: ignore[type-arg]
        self.db: Database | None = None
        self.repo: JobRepository | None = None
        self._submitter_wakeup = asyncio.Event()
        self._reconciler_wakeup = asyncio.Event()
        self._delivery_wakeup = asyncio.Event()
        self._poster_wakeup = asyncio.Event()  # a video was delivered: maybe post it
        self._renderer_wakeup = asyncio.Event()
        self._renderer_start: asyncio.Task[Renderer] | None = None
        self._intake_tasks: list[asyncio.Task[None]] = []
        self.inbox_worker: InboxWorker | None = None
        self._inbox: UpdateInbox | None = None
        self._loops: list[DueLoop[Any]] = []
        self.poller: TelegramPoller | None = None

    def clock(self) -> datetime:
        """The app's notion of now."""
        return self._clock()

    def wake_delivery(self) -> None:
        """Make the delivery loop look for due jobs now."""
        self._delivery_wakeup.set()

    def wake_reconciler(self) -> None:
        """Make the submit and poll loops look for due jobs now."""
        self._submitter_wakeup.set()
        self._reconciler_wakeup.set()

    def wake_poster(self) -> None:
        """Make the channel poster look for newly delivered videos now."""
        self._poster_wakeup.set()

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
        settings, stack = self.settings, self._stack
        db = await Database.open(settings.database_path)
        stack.push_async_callback(db.close)
        self.db = db
        repo = JobRepository(db, self._clock)
        self.repo = repo
        released = await repo.release_leases(self._clock())
        if released:
            log.info("resuming %s jobs left in flight by the previous run", released)
        salt = await MetaRepository(db).get_or_create(SALT_KEY, new_salt())
        upstream_http = make_http_client(transport=self._upstream_transport)
        stack.push_async_callback(upstream_http.aclose)
        cdn = httpx.AsyncClient(
            transport=self._cdn_transport, timeout=httpx.Timeout(30.0), follow_redirects=False
        )
        stack.push_async_callback(cdn.aclose)
        application = self._build_application()
        self.application = application
        await application.initialize()
        stack.push_async_callback(application.shutdown)

        core = self._build_core(db, repo, upstream_http, cdn, application.bot, salt=salt)
        await self._register_handlers(application, core)
        inbox = UpdateInbox(db, self._clock)
        self._inbox = inbox
        picks = TrackPickRepository(db, self._clock)
        await stack.enter_async_context(
            Housekeeping(
                {
                    "track picks": partial(picks.forget_older_than, PICK_RETENTION),
                    "handled updates": inbox.forget_old,
                }
            )
        )
        self.inbox_worker = InboxWorker(
            inbox=inbox, bot=application.bot, handle=application.process_update
        )
        self.web = await self._build_web(application, core, inbox, self.inbox_worker)

        await application.start()
        stack.push_async_callback(application.stop)
        self._start_renderer()
        if swept := await core.renders.sweep():
            log.info("removed %s render work dirs left by the previous run", swept)
        poster = await self._start_channel_poster(db, core)
        loops = self._build_loops(core, poster)
        for loop in loops:
            self._start_loop(loop)
        stack.push_async_callback(self._stop_work, loops, self.inbox_worker)
        await self._start_intake(application, inbox, self.inbox_worker)
        log.info(
            "bot started: mode=%s provider=%s callbacks=%s",
            settings.bot_mode,
            settings.music_api_provider,
            "on" if settings.callbacks_enabled else "off (poll-only)",
        )

    def _build_core(
        self,
        db: Database,
        repo: JobRepository,
        upstream_http: httpx.AsyncClient,
        cdn: httpx.AsyncClient,
        bot: Bot,
        *,
        salt: str,
    ) -> _Core:
        """The services: upstream client, jobs service, delivery, status messages."""
        settings = self.settings
        family = PROVIDER_FAMILY[settings.music_api_provider]
        dialect = dialect_for(settings.music_api_provider)
        video_hosts = VideoHosts()
        status = StatusMessages(bot, job_timeout_minutes=settings.job_timeout_minutes)
        upstream = UpstreamClient(
            upstream_http,
            dialect,
            settings.upstream_base_url,
            settings.music_api_key.get_secret_value(),
        )
        config = EngineConfig(
            provider=settings.music_api_provider,
            family=family,
            public_base_url=settings.public_base_url,
            poll_interval=settings.poll_interval_seconds,
            job_timeout=timedelta(minutes=settings.job_timeout_minutes),
            hmac_key=_secret(settings.music_api_webhook_hmac_key),
            render_fallback=settings.render_fallback,
        )
        jobs = JobService(
            repo=repo,
            client=upstream,
            config=config,
            tokens=CallbackTokens(settings.telegram_bot_token.get_secret_value(), salt=salt),
            notifier=status,
            alerts=TelegramAdminAlerts(bot, settings.admin_user_ids, self._clock),
            clock=self._clock,
            rng=self._rng,
            wake_submitter=self._submitter_wakeup.set,
            wake_reconciler=self._reconciler_wakeup.set,
            wake_delivery=self._delivery_wakeup.set,
            video_hosts=video_hosts,
            wake_renderer=self._renderer_wakeup.set,
        )
        callbacks = CallbackIntake(
            repo=repo,
            dialect=dialect,
            config=config,
            clock=self._clock,
            wake_reconciler=self._reconciler_wakeup.set,
            wake_delivery=self._delivery_wakeup.set,
            video_hosts=video_hosts,
        )
        fetcher = SafeFetcher(cdn, allowed_host=urlsplit(settings.upstream_base_url).hostname)
        lyrics = LyricsSource(
            repo=LyricsRepository(db, self._clock),
            provider=settings.music_api_provider.value,
            fetch=upstream.timestamped_lyrics,
        )
        delivery = Delivery(
            lyrics=lyrics,
            bot=bot,
            repo=repo,
            fetcher=fetcher,
            wake_renderer=self._renderer_wakeup.set,
            status=status,
            chats=ChatSettingsRepository(db, self._clock),
            retention_days=LINK_RETENTION_DAYS[family],
            max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
            clock=self._clock,
            rng=self._rng,
        )
        policy = AccessPolicy(
            allowed_users=settings.allowed_user_ids,
            allowed_chats=settings.allowed_chat_ids,
            admins=settings.admin_user_ids,
        )
        renders = RenderJobs(
            repo=repo,
            upstream=upstream,
            fetcher=fetcher,
            bot=bot,
            renderer=self._renderer,
            queue=RenderQueue(settings.render_concurrency),
            work_root=settings.database_path.parent / "renders",
            clock=self._clock,
            wake_delivery=self._delivery_wakeup.set,
            lyrics=lyrics,
        )
        return _Core(
            renders=renders,
            db=db,
            repo=repo,
            upstream=upstream,
            jobs=jobs,
            callbacks=callbacks,
            delivery=delivery,
            status=status,
            policy=policy,
            retention_days=LINK_RETENTION_DAYS[family],
        )

    def _build_loops(self, core: _Core, poster: ChannelPoster) -> list[DueLoop[Any]]:
        """The submitter, the poll reconciler and the delivery worker (docs/architecture.md §5.2).

        Submissions have their own loop so a backlog of them (waiting on the provider's rate)
        never holds back polls, callbacks' re-checks and deliveries."""
        submitter = DueLoop(
            "submitter",
            fetch_due=core.repo.due_for_submit,
            next_due=core.repo.next_due_submit_at,
            process=core.jobs.submit_due,
            clock=self._clock,
            wakeup=self._submitter_wakeup,
        )
        reconciler = DueLoop(
            "reconciler",
            fetch_due=core.repo.due_for_check,
            next_due=core.repo.next_due_check_at,
            process=core.jobs.check_due,
            clock=self._clock,
            wakeup=self._reconciler_wakeup,
        )
        delivery_loop = DueLoop(
            "delivery",
            fetch_due=core.repo.due_for_delivery,
            next_due=core.repo.next_due_delivery_at,
            process=partial(_then_wake, core.delivery.process, self._poster_wakeup),
            clock=self._clock,
            wakeup=self._delivery_wakeup,
            step_timeout=core.delivery.step_deadline,
        )
        # Channel posts: their own loop and pace, so they never hold up videos to chats.
        poster_loop = DueLoop(
            "channel-poster",
            fetch_due=poster.fetch_due,
            next_due=poster.next_due_at,
            process=poster.process,
            clock=self._clock,
            wakeup=self._poster_wakeup,
            concurrency=4,
            step_timeout=POST_STEP_DEADLINE,
        )

        # Renders wait in the RenderQueue (RENDER_CONCURRENCY at once) inside their steps, so
        # the loop takes more than that: the waiting ones see their place in line. At stop a
        # render is cancelled at once (ffmpeg killed): the next start renders it again.
        renderer = DueLoop(
            "renderer",
            fetch_due=core.repo.due_for_render,
            next_due=core.repo.next_due_render_at,
            process=core.renders.process,
            clock=self._clock,
            wakeup=self._renderer_wakeup,
            concurrency=self.settings.render_concurrency + RENDER_WAITING_SLOTS,
            step_timeout=core.renders.step_deadline,
            stop_grace_seconds=0.0,
        )
        return [submitter, reconciler, delivery_loop, poster_loop, renderer]

    async def _start_channel_poster(self, db: Database, core: _Core) -> ChannelPoster:
        """The auto-post worker with a Bot of its own, without the shared rate limiter: a
        channel's flood wait (RetryAfter) then postpones only that channel's rows, where the
        shared AIORateLimiter would pause every request of the bot for it."""
        posts = ChannelPostRepository(db, self._clock)
        await posts.release_leases(self._clock())
        channel_bot = Bot(
            self.settings.telegram_bot_token.get_secret_value(),
            base_url=self.settings.telegram_api_base_url,
            base_file_url=self.settings.telegram_api_file_url,
            request=self._telegram_request(read_timeout=60.0),
        )
        await channel_bot.initialize()
        self._stack.push_async_callback(channel_bot.shutdown)
        assert self.application is not None
        return ChannelPoster(
            bot=channel_bot,
            notifier=self.application.bot,
            posts=posts,
            links=AutopostLinkRepository(db, self._clock),
            jobs=core.repo,
            tracks=core.upstream.tracks,
            clock=self._clock,
            rng=self._rng,
        )

    async def _renderer(self) -> Renderer:
        """The renderer, once its start-up (font detection) is done."""
        if self._renderer_start is None:
            self._start_renderer()
        assert self._renderer_start is not None
        return await asyncio.shield(self._renderer_start)

    def _start_renderer(self) -> None:
        """Detect fonts in the background (a warning names scripts that would show as boxes)."""
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

    async def _register_handlers(
        self,
        application: Application,  # type: ignore[type-arg]
        core: _Core,
    ) -> None:
        """Every Telegram handler, the error handler and the command menu."""
        settings = self.settings
        chats = ChatSettingsRepository(core.db, self._clock)
        starter = JobStarter(
            jobs=core.jobs,
            admission=Admission(core.repo, core.policy, settings.quota_per_hour, self._clock),
            chats=chats,
            default_domain=settings.default_domain_name,
        )
        picks = TrackPickRepository(core.db, self._clock)
        picker = TrackPicker(
            upstream=core.upstream, picks=picks, policy=core.policy, starter=starter
        )
        CommandHandlers(starter=starter, picker=picker).register(application)
        picker.register(application)
        RenderHandlers(
            starter=starter, picker=picker, renders=core.renders, repo=core.repo, policy=core.policy
        ).register(application)
        TeaserHandlers(starter=starter, repo=core.repo).register(application)
        HistoryHandlers(
            jobs=core.jobs,
            repo=core.repo,
            status=core.status,
            retention_days=core.retention_days,
            job_timeout_minutes=settings.job_timeout_minutes,
            clock=self._clock,
        ).register(application)
        ChatSettingsHandlers(
            chats=chats, policy=core.policy, default_domain=settings.default_domain_name
        ).register(application)
        AdminHandlers(upstream=core.upstream, policy=core.policy).register(application)
        AutopostHandlers(
            links=AutopostLinkRepository(core.db, self._clock), policy=core.policy
        ).register(application)
        InlineShareHandlers(repo=core.repo).register(application)
        register_stale_buttons(application)  # last: answers taps no other handler took
        application.add_error_handler(on_error)
        await publish_command_menu(application.bot)

    async def _build_web(
        self,
        application: Application,  # type: ignore[type-arg]
        core: _Core,
        inbox: UpdateInbox,
        worker: InboxWorker,
    ) -> Starlette:
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
        # Updates come through our own inbox (bot/update_intake.py), never PTB's Updater.
        return builder.updater(None).build()

    def _start_intake_task(self, work: Awaitable[None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        task.set_name(name)
        task.add_done_callback(_log_loop_end)
        self._intake_tasks.append(task)

    async def _stop_work(self, loops: list[DueLoop[Any]], worker: InboxWorker) -> None:
        """Stop taking updates and new work, let what is in hand finish within one shared
        grace, then cancel the rest (a cancelled update stays in the inbox, a cancelled step's
        lease is released at the next start: both are picked up again then)."""
        for task in self._intake_tasks:
            if task.get_name() == "telegram-poller":
                task.cancel()
        for loop in loops:
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


async def _then_wake(
    process: Callable[[Job], Awaitable[None]], wakeup: asyncio.Event, job: Job
) -> None:
    """Run a delivery step, then wake the channel poster (the video may be due in a channel)."""
    await process(job)
    wakeup.set()


def _log_loop_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.critical("%s loop died", task.get_name(), exc_info=task.exception())


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None
