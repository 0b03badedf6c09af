"""Composition root and lifecycle: open resources in order, close them in reverse.

database → HTTP clients → python-telegram-bot application → the web app, then the leader's
parts — background loops → update intake — at once with SQLite, or for each term this process
wins with PostgreSQL (docs/architecture.md §5.4); `run` adds uvicorn and the signal handling of
`python -m bot` (docs/architecture.md §1.3).
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
from typing import TYPE_CHECKING, Any

import httpx
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from telegram import Bot, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.engine.callback_tokens import SALT_KEY, new_salt
from bot.engine.due_loop import DueLoop
from bot.health import HealthBoard, PartStatus, describe_cause
from bot.housekeeping import Chore, Housekeeping
from bot.rendering import Renderer, RenderError
from bot.telegram_io.telegram_wait import wait_for_telegram
from bot.telegram_io.tracked_application import TrackedApplication
from bot.telegram_io.update_intake import InboxWorker, webhook_sink
from bot.telegram_io.update_poller import TelegramPoller, UpdateFetcher
from bot.upstream.client import make_http_client
from bot.web import HealthReport, build_web_app, telegram_webhook_route
from bot.wiring import Resources, Services, Wakeups, build_loops, build_services, register_handlers
from handlers.menu import publish_command_menu
from storage.backends import connect_database
from storage.inbox import UpdateInbox
from storage.interface import Database
from storage.jobs import JobRepository
from storage.lyric_corrections import LyricEditSessionRepository
from storage.meta import MetaRepository
from storage.picks import TrackPickRepository
from storage.render_dispatch import RenderDispatch
from storage.terms import LeaderTerm

if TYPE_CHECKING:  # imported at run time only with PostgreSQL (docs/architecture.md §14)
    from bot.leadership import Leadership, Term
    from bot.wakeups_pg import WakeListener

log = logging.getLogger(__name__)

LEADERSHIP_NAME = "bot"
# on_deposed's share of the 2 s the election gives it: cancelled work gets this to unwind.
FENCE_GRACE_SECONDS = 1.0
HEALTH_COUNTS = ("due_polls", "due_deliveries", "updates_pending")
# Leader-only tasks a stop cancels at once instead of waiting for them (they never end alone).
_CANCELLED_AT_STOP = frozenset({"telegram-poller", "wakeup-listener"})
# uvicorn stops within 1 s; then updates in hand and the loops' steps share this grace, so a
# stop always ends well inside 10 s (docs/architecture.md §7.3).
STOP_GRACE_SECONDS = 6.0
PICK_RETENTION = timedelta(days=30)  # older track buttons answer "no longer available"
WATCHDOG_MAX_INTERVAL_SECONDS = 5.0  # how often, at most, the watchdog reads the health board


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


class LeadershipLost(Exception):
    """Deposed before the start was complete: the start was abandoned (restart me)."""


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
        health: HealthBoard | None = None,
    ) -> None:
        self.settings = settings
        self._telegram_transport = telegram_transport
        self._upstream_transport = upstream_transport
        self._cdn_transport = cdn_transport
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._stack = AsyncExitStack()
        self._wakeups = Wakeups()
        # Every long-running part reports here (§5.3); a test passes one with a short limit.
        self.health = health or HealthBoard()
        self.given_up: tuple[str, PartStatus] | None = None  # set by the watchdog
        self._given_up = asyncio.Event()
        self._closing = False  # set first at stop: tasks ending from then on are not "down"
        self._tasks: list[asyncio.Task[None]] = []
        self._intake_tasks: list[asyncio.Task[None]] = []
        self._loops: list[DueLoop[Any]] = []
        self._renderer_start: asyncio.Task[Renderer] | None = None
        self._starting: asyncio.Task[Any] | None = None  # the start, until it is complete
        self._term_stack = AsyncExitStack()  # the leader's parts, closed when the term ends
        self._term_start: asyncio.Task[None] | None = None  # a term's start, while running
        self._forwarding: asyncio.Task[None] | None = None  # a follower's wake-ups (§5.4)
        self._fenced = False
        self._stop_deadline: float | None = None  # loop time by which a stop must be done
        self._inbox: UpdateInbox | None = None
        self.web: Starlette | None = None
        self.application: Application | None = None  # type: ignore[type-arg]
        self.db: Database | None = None
        self.repo: JobRepository | None = None
        self.services: Services | None = None
        self.inbox_worker: InboxWorker | None = None
        self.poller: TelegramPoller | None = None
        self.leadership: Leadership | None = None
        self.wake_listener: WakeListener | None = None

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
        self._starting = asyncio.current_task()
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            if self._fenced:  # the fence cancelled the start (docs/architecture.md §5.4)
                raise LeadershipLost("deposed while starting") from None
            raise
        finally:
            self._starting = None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        """Open resources, wire the services, run the process's start-up step and the web app's
        parts; then lead at once (SQLite) or join the election (PostgreSQL), whose terms start
        the leader's parts. Everything is closed in reverse by the exit stack."""
        settings = self.settings
        resources = await self._open_resources()
        self.db, application = resources.db, self.application
        assert isinstance(application, TrackedApplication)
        services = build_services(
            settings, resources, wakeups=self._wakeups, clock=self._clock, rng=self._rng
        )
        self.repo = services.repo
        self.services = services
        register_handlers(application, settings, services, self._clock)
        inbox = self._inbox = UpdateInbox(resources.db, self._clock)  # the webhook's: any process
        self.web = self._build_web(services, inbox)
        await self._prepare_process(services)
        await application.start()
        self._stack.push_async_callback(application.stop)
        self._start_render_worker(services)  # any bot process, leader or not (§8.8)
        if settings.postgres_url is None:
            self._stack.push_async_callback(self._stop_leading)
            await self._start_term(None)  # the only process: it leads from the start
        else:
            await self._join_election(settings.postgres_url)
        self._start_watchdog()
        log.info(
            "bot started: mode=%s provider=%s callbacks=%s",
            settings.bot_mode,
            settings.music_api_provider,
            "on" if settings.callbacks_enabled else "off (poll-only)",
        )

    async def _start_term(self, term: Term | None) -> None:
        """The leader's parts, in the term's own exit stack: release what an earlier run or
        term left leased, housekeeping, the command menu, the loops, the update intake."""
        settings, services, application = self.settings, self.services, self.application
        assert services is not None
        assert isinstance(application, TrackedApplication)
        guard = None if term is None else LeaderTerm(term.name, term.number)
        inbox = UpdateInbox(services.db, self._clock, term=guard)
        worker = self.inbox_worker = InboxWorker(
            inbox=inbox,
            bot=application.bot,
            handle=application.handle_update,
            health=self.health.part("inbox-worker"),
        )
        await self._prepare_term(services, inbox)
        for loop in build_loops(settings, services, self._wakeups, self._clock, self.health):
            self._start_loop(loop)
        self._term_stack.push_async_callback(self._stop_work, worker)
        if settings.postgres_url is not None:
            self._start_wake_listener(settings.postgres_url, worker)
        await self._start_intake(application, inbox, worker)

    async def _open_resources(self) -> Resources:
        """The database, HTTP clients, python-telegram-bot's application and the channel
        poster's own Bot, each closed by the exit stack."""
        settings, stack = self.settings, self._stack
        # SQLite at DATABASE_PATH, or PostgreSQL when DATABASE_URL is set (§14).
        db = await stack.enter_async_context(
            connect_database(path=settings.database_path, url=settings.postgres_url)
        )
        self.health.expect(db.engine.is_transient)  # a database outage is no bug (§5.3)
        salt = await MetaRepository(db).get_or_create(SALT_KEY, new_salt())
        upstream_http = make_http_client(transport=self._upstream_transport)
        stack.push_async_callback(upstream_http.aclose)
        cdn = httpx.AsyncClient(
            transport=self._cdn_transport, timeout=httpx.Timeout(30.0), follow_redirects=False
        )
        stack.push_async_callback(cdn.aclose)
        application = self.application = self._build_application()
        stack.push_async_callback(application.bot.shutdown)  # when getMe never succeeded
        stack.push_async_callback(application.shutdown)
        # A bot started before the network (Docker, systemd at boot) waits for Telegram; a
        # refused token ends the start with TelegramTokenRefused (docs/architecture.md §13.8).
        await self._wait_for_telegram(application.initialize, "getMe")
        channel_bot = Bot(
            settings.telegram_bot_token.get_secret_value(),
            base_url=settings.telegram_api_base_url,
            base_file_url=settings.telegram_api_file_url,
            request=self._telegram_request(read_timeout=60.0),
        )
        stack.push_async_callback(channel_bot.shutdown)
        await self._wait_for_telegram(channel_bot.initialize, "getMe")
        return Resources(
            db=db,
            upstream_http=upstream_http,
            cdn=cdn,
            bot=application.bot,
            channel_bot=channel_bot,
            salt=salt,
            renderer=self._renderer,
        )

    async def _join_election(self, url: str) -> None:
        """Join the election of the bot processes sharing this database (docs/architecture.md
        §5.4) and return at once: this process serves HTTP as a follower, and each term it wins
        starts the leader's parts (`_on_elected`). Until then its wake-ups go to the leader.
        At the stop the leader's parts stop first and the election is left after them, so the
        next leader starts only after this one has stopped."""
        from bot.leadership import Leadership  # noqa: PLC0415 - only with PostgreSQL (§14)
        from bot.wakeups_pg import JOBS_CHANNEL, notify  # noqa: PLC0415 - only with PostgreSQL

        assert self.db is not None
        forward = self._forward_wakeups(partial(notify, self.db, JOBS_CHANNEL))
        self._forwarding = asyncio.create_task(forward, name="wakeup-forwarder")
        self._stack.push_async_callback(self._stop_forwarding)
        leadership = Leadership(
            url,
            name=LEADERSHIP_NAME,
            on_elected=self._on_elected,
            on_deposed=self._fence,
            health=self.health.part("leadership"),
        )
        self.leadership = await self._stack.enter_async_context(leadership)
        self._stack.push_async_callback(self._stop_leading)
        log.info("following: serving HTTP; the leader's parts start if this process is elected")

    async def _on_elected(self, term: Term) -> None:
        """A term won: stop forwarding wake-ups and start the leader's parts. A stop that
        cancels the start ends it quietly (the election must not read it as a failure)."""
        if self._closing:
            return
        await self._stop_forwarding()
        start = self._term_start = asyncio.create_task(self._start_term(term), name="term-start")
        try:
            await start
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the election cancelled us: the cancel reached `start` too
            log.info("the start of term %d was cancelled by the stop", term.number)
            return
        finally:
            self._term_start = None
        log.info("leading: term %d started", term.number)

    async def _forward_wakeups(self, send: Callable[[], Awaitable[None]]) -> None:
        """A follower's loops do not run: what would wake them (a callback accepted here)
        is sent to the leader instead (`NOTIFY`, docs/architecture.md §5.4)."""
        wakeups = self._wakeups
        events = (
            wakeups.submitter,
            wakeups.reconciler,
            wakeups.delivery,
            wakeups.poster,
            wakeups.renderer,
        )
        assert self.db is not None
        errors = self.db.engine.errors
        while True:
            waits = [asyncio.ensure_future(event.wait()) for event in events]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
            for event in events:
                event.clear()
            try:
                await send()
            except errors as exc:  # the leader's listener does a full wake when it reconnects
                log.warning("could not wake the leader: %s", describe_cause(exc))

    async def _stop_forwarding(self) -> None:
        task, self._forwarding = self._forwarding, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _start_wake_listener(self, url: str, worker: InboxWorker) -> None:
        """LISTEN for the wake-ups the other processes send (docs/architecture.md §5.4)."""
        from bot.wakeups_pg import (  # noqa: PLC0415 - only with PostgreSQL (§14)
            INBOX_CHANNEL,
            JOBS_CHANNEL,
            WakeListener,
        )

        def wake_jobs() -> None:
            self.wake_reconciler()
            self.wake_delivery()
            self.wake_poster()
            self._wakeups.renderer.set()

        listener = self.wake_listener = WakeListener(
            url,
            {INBOX_CHANNEL: worker.wake, JOBS_CHANNEL: wake_jobs},
            health=self.health.part("wakeup-listener"),
        )
        self._start_intake_task(listener.run(), "wakeup-listener")

    async def _stop_leading(self) -> None:
        """At the stop: end a term start still running, then stop the leader's parts (in
        what is left of the shared grace, §7.3) while this process still holds the lock."""
        self._closing = True
        if (start := self._term_start) is not None:
            start.cancel()
            await asyncio.wait({start})  # how it ended is _on_elected's to report
        await self._term_stack.aclose()

    async def _fence(self, term: Term, reason: str) -> None:
        """Deposed: stop taking work and cancel what is in hand at once (another process may
        lead already), then make `python -m bot` exit non-zero so that the supervisor starts
        it again as a follower (docs/architecture.md §5.4)."""
        from bot.leadership import STOPPING  # noqa: PLC0415 - only with PostgreSQL (§14)

        if reason == STOPPING:
            return  # our own stop: the work has stopped already
        log.critical(
            "fencing: lost leadership (term %d: %s); stopping all work so that the supervisor"
            " restarts the bot as a follower",
            term.number,
            reason,
        )
        self._fenced = self._closing = True  # the tasks cancelled below are not "down"
        if self._starting is not None:
            self._starting.cancel()  # nothing more may start
        if self._term_start is not None:
            self._term_start.cancel()  # the term's start (the election cancels it too)
        for loop in self._loops:
            loop.stop()
        work = [*self._tasks, *self._intake_tasks]
        for task in work:
            task.cancel()
        if work:
            await asyncio.wait(work, timeout=FENCE_GRACE_SECONDS)
        assert self.leadership is not None
        self.given_up = ("leadership", self.leadership.health.status())
        self._given_up.set()

    async def _prepare_process(self, services: Services) -> None:
        """Every process's start-up side effects: leftover render folders and relay files
        of this machine go, font detection starts."""
        if swept := await services.renders.sweep():
            log.info("removed %s render work dirs left by the previous run", swept)
        if swept := await services.relay_files.sweep():
            log.info("removed %s relay temp files left by the previous run", swept)
        self._start_renderer()

    async def _prepare_term(self, services: Services, inbox: UpdateInbox) -> None:
        """The leader's start-up side effects, once per term: work a killed run (or an
        earlier term) left leased is due again, housekeeping starts (forgetting old updates,
        track picks and lyric edits, then hourly), the command menu is published."""
        now = self._clock()
        if released := await services.repo.release_leases(now):
            log.info("resuming %s jobs left in flight by the previous run", released)
        await services.posts.release_leases(now)
        picks = TrackPickRepository(services.db, self._clock)
        chores: dict[str, Chore] = {
            "track picks": partial(picks.forget_older_than, PICK_RETENTION),
            "handled updates": inbox.forget_old,
            # Edits of lyrics nobody answered (docs/architecture.md §9.5).
            "lyric edits": LyricEditSessionRepository(services.db, self._clock).remove_expired,
        }
        if self.settings.postgres_url is not None:  # the task engine's finished jobs (§8.8)
            chores["finished render dispatches"] = RenderDispatch(
                services.db, self._clock
            ).forget_finished
        housekeeping = Housekeeping(chores, health=self.health.part("housekeeping"))
        await self._term_stack.enter_async_context(housekeeping)
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

    async def _end_renderer_start(self, task: asyncio.Task[Renderer]) -> None:
        """Let the short start-up finish within what is left of the stop's grace (its ffmpeg
        children end with it), then drop it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait({task}, timeout=self._grace_left())
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError, RenderError):
            await task

    def _build_web(self, core: Services, inbox: UpdateInbox) -> Starlette:
        """The HTTP endpoint: callbacks, /healthz and, in webhook mode, /telegram; served by
        every process (docs/architecture.md §5.4)."""

        async def health() -> HealthReport:
            parts = self.health.snapshot()
            counts: dict[str, int | None] = dict.fromkeys(HEALTH_COUNTS)
            try:
                counts = {
                    "due_polls": await core.repo.count_due_polls(),
                    "due_deliveries": await core.repo.count_due_deliveries(),
                    "updates_pending": await inbox.count_pending(),
                }
                database = PartStatus(healthy=True, reason=None, failing_for_seconds=0.0)
            except core.db.engine.errors as exc:  # the driver's errors, ValueError: "closed"
                database = PartStatus(
                    healthy=False, reason=describe_cause(exc), failing_for_seconds=0.0
                )
            return HealthReport(
                parts={**parts, "database": database}, counts=counts, role=self._role()
            )

        extra_routes: list[BaseRoute] = []
        if self.settings.bot_mode == "webhook":
            assert self.settings.webhook_secret is not None
            secret = self.settings.webhook_secret.get_secret_value()
            sink = webhook_sink(inbox, self._update_stored)
            extra_routes.append(telegram_webhook_route(secret, sink))
        return build_web_app(
            on_callback=core.callbacks.accept_callback, health=health, extra_routes=extra_routes
        )

    def _role(self) -> str | None:
        """This process's role with PostgreSQL, leader or follower (§5.4); None with SQLite."""
        if self.leadership is None:
            return None
        return "leader" if self.leadership.is_leader else "follower"

    async def _update_stored(self) -> None:
        """A webhook update was stored: wake the inbox worker, here or on the leader."""
        if self.inbox_worker is not None:
            self.inbox_worker.wake()
        if self.leadership is not None and not self.leadership.is_leader:
            from bot.wakeups_pg import INBOX_CHANNEL, notify  # noqa: PLC0415 - PostgreSQL only

            assert self.db is not None
            try:
                await notify(self.db, INBOX_CHANNEL)
            except self.db.engine.errors as exc:  # stored: the leader finds it at its next wake
                log.warning("could not wake the leader: %s", describe_cause(exc))

    async def wait_given_up(self) -> tuple[str, PartStatus]:
        """Return once the watchdog has given up on a part: which, and its status."""
        await self._given_up.wait()
        assert self.given_up is not None
        return self.given_up

    def _start_watchdog(self) -> None:
        """Watch the health board; stopped first at close (a task ending then is no fault)."""
        task = asyncio.create_task(self._watch(), name="watchdog")

        async def stop_watching() -> None:
            self._closing = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        self._stack.push_async_callback(stop_watching)

    async def _watch(self) -> None:
        """Give up once a part has failed for `give_up_after` without a break: one critical
        line, and `wait_given_up` returns, so `python -m bot` stops and exits non-zero for
        Docker or systemd to restart it (docs/architecture.md §5.3)."""
        board = self.health
        interval = min(WATCHDOG_MAX_INTERVAL_SECONDS, max(0.05, board.give_up_after / 10))
        while True:
            if (gone := board.given_up()) is not None:
                break
            await asyncio.sleep(interval)  # the board has no events: it is read, not told
        name, status = gone
        log.critical(
            "giving up: %s has been failing for %.0f s (%s); stopping so that the supervisor"
            " restarts the bot",
            name,
            status.failing_for_seconds,
            status.reason,
        )
        self.given_up = gone
        self._given_up.set()

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
            self._term_stack.push_async_callback(intake_http.aclose)
            token = settings.telegram_bot_token.get_secret_value()
            self.poller = TelegramPoller(
                fetcher=UpdateFetcher(intake_http, settings.telegram_api_base_url, token),
                inbox=inbox,
                on_stored=worker.wake,
                bot=application.bot,
                health=self.health.part("telegram-poller"),
            )
            self._start_intake_task(self.poller.run(), "telegram-poller")
            return
        # Telegram keeps updates queued while we are down: nothing is dropped on restart.
        assert settings.public_base_url is not None
        assert settings.webhook_secret is not None
        set_webhook = partial(
            application.bot.set_webhook,
            url=f"{settings.public_base_url.rstrip('/')}/telegram",
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
        await self._wait_for_telegram(set_webhook, "setWebhook")

    async def _wait_for_telegram(self, call: Callable[[], Awaitable[object]], what: str) -> None:
        """`call` once Telegram answers (one line per failed attempt, backoff 1 → 60 s)."""
        await wait_for_telegram(call, what=what, base_url=self.settings.telegram_api_base_url)

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
        # python-telegram-bot's Updater; the inbox learns which tasks a handler started.
        return builder.application_class(TrackedApplication).updater(None).build()

    def _start_intake_task(self, work: Awaitable[None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        task.set_name(name)
        task.add_done_callback(self._task_ended)
        self._intake_tasks.append(task)

    async def _stop_work(self, worker: InboxWorker) -> None:
        """Stop taking updates and new work, let what is in hand finish within one shared
        grace, then cancel the rest (a cancelled update stays in the inbox, a cancelled step's
        lease is released at the next start: both are picked up again then)."""
        for task in self._intake_tasks:
            if task.get_name() in _CANCELLED_AT_STOP:
                task.cancel()
        for loop in self._loops:
            loop.stop()
        grace = self._grace_left()
        draining = asyncio.create_task(worker.drain(grace))
        await asyncio.wait([*self._tasks, draining], timeout=grace)
        # Cancelling the worker cancels the updates in hand and the tasks their handlers
        # started, so python-telegram-bot's `stop` has nothing left to wait for.
        rest = [*self._tasks, *self._intake_tasks, draining]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def _grace_left(self) -> float:
        """Seconds left of the one grace every part of a stop shares (started on first use)."""
        now = asyncio.get_running_loop().time()
        if self._stop_deadline is None:
            self._stop_deadline = now + STOP_GRACE_SECONDS
        return max(0.0, self._stop_deadline - now)

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
        task.add_done_callback(self._task_ended)
        self._tasks.append(task)

    def _start_render_worker(self, services: Services) -> None:
        """With PostgreSQL and RENDER_CONCURRENCY ≥ 1 this process also runs the task
        engine's worker, leader or follower, so renders are made with no `python -m bot
        worker` running (docs/architecture.md §8.8); it needs no leadership (every write of
        a render is fenced) and is stopped at close, before the application (its renders go
        back to the queue)."""
        url, concurrency = self.settings.postgres_url, self.settings.render_concurrency
        if url is None or concurrency < 1:
            return
        from bot.worker.engine import run_render_worker  # noqa: PLC0415 - PostgreSQL only

        work = run_render_worker(
            url, services.renders.render_dispatched, concurrency=concurrency, name="bot"
        )
        task = asyncio.create_task(work, name="render-worker")
        task.add_done_callback(self._task_ended)

        async def stop_rendering() -> None:
            self._closing = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        self._stack.push_async_callback(stop_rendering)

    def _task_ended(self, task: asyncio.Task[None]) -> None:
        """A long-running task ended before the stop: its part is down (/healthz says so,
        and the watchdog restarts the bot if it stays down)."""
        if self._closing:
            return
        if task.cancelled():
            reason = "task cancelled"
        elif (exc := task.exception()) is not None:
            reason = f"task died: {describe_cause(exc)}"
            log.critical("%s died", task.get_name(), exc_info=exc)
        else:
            reason = "task ended"
        self.health.part(task.get_name()).set_down(reason)
