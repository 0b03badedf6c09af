"""Wiring: builds the bot's object graph from Settings and the opened resources.

Pure construction — no I/O, no start-up side effects (those are one named step in bot/app.py,
`BotApp._prepare_for_start`), no lifecycle (docs/architecture.md §1.3).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
from telegram import Bot
from telegram.ext import Application

from bot.config import Settings
from bot.distribution.channel_live import ChannelLivePhotos
from bot.distribution.channel_poster import STEP_DEADLINE as POST_STEP_DEADLINE
from bot.distribution.channel_poster import ChannelPoster
from bot.distribution.guest import GuestEditor, WakeWhenPrepared
from bot.domain import LINK_RETENTION_DAYS, PROVIDER_FAMILY, PROVIDER_RATES
from bot.engine.admission import AccessPolicy, Admission
from bot.engine.callback_tokens import INVALID_CALLBACK_BASE, CallbackTokens
from bot.engine.due_loop import DueLoop, FairShare
from bot.engine.job_callbacks import CallbackIntake
from bot.engine.job_model import EngineConfig
from bot.engine.jobs import JobService
from bot.engine.lyric_corrections import LyricCorrections
from bot.engine.lyrics_source import LyricsSource
from bot.engine.render_jobs import RenderJobs
from bot.engine.render_preparation import RenderPreparation
from bot.engine.render_sources import RenderSources
from bot.engine.separations import SeparationSource
from bot.engine.track_analyses import TrackAnalyses
from bot.engine.video_hosts import VideoHosts
from bot.health import HealthBoard
from bot.rendering import Renderer, RenderQueue
from bot.telegram_io.admin_alerts import TelegramAdminAlerts
from bot.telegram_io.chat_files import TelegramChatFiles
from bot.telegram_io.delivery import Delivery
from bot.telegram_io.relay_files import RelayFiles
from bot.telegram_io.render_progress import TelegramRenderProgress
from bot.telegram_io.status_messages import StatusMessages
from bot.upstream.client import UpstreamClient
from bot.upstream.dialect import dialect_for
from bot.upstream.safe_fetch import SafeFetcher
from bot.web import SEPARATION_CALLBACK_PATH
from handlers.admin import AdminHandlers
from handlers.autopost import AutopostHandlers
from handlers.commands import CommandHandlers
from handlers.errors import on_error
from handlers.guest import GuestHandlers
from handlers.history import HistoryHandlers
from handlers.inline_share import InlineShareHandlers
from handlers.karaoke import KaraokeHandlers
from handlers.loop import LoopHandlers
from handlers.lyrics_edit import LyricsEditHandlers
from handlers.picker import TrackPicker
from handlers.render import RenderHandlers
from handlers.settings import ChatSettingsHandlers
from handlers.stale_buttons import register_stale_buttons
from handlers.submit import JobStarter
from handlers.teaser import TeaserHandlers
from storage.autopost_links import AutopostLinkRepository
from storage.channel_posts import ChannelPostRepository
from storage.chats import ChatSettingsRepository
from storage.guest_queries import GuestAnswers
from storage.interface import Database
from storage.jobs import Job, JobRepository
from storage.lyric_corrections import LyricCorrectionRepository, LyricEditSessionRepository
from storage.lyrics import AnalysisRepository, LyricsRepository
from storage.picks import TrackPickRepository
from storage.render_dispatch import RenderDispatch
from storage.separations import SeparationRepository

RENDER_WAITING_SLOTS = 15  # renders the loop holds beyond RENDER_CONCURRENCY (waiting in line)
# Deliveries in progress per chat: a group's sends wait ~3 s each for Telegram's 20 a minute,
# so more would only hold slots other chats need (docs/architecture.md §5.2).
DELIVERIES_PER_CHAT = 2
# Submissions in progress per chat: each waits its turn within the provider's create rate, so a
# group's batch would otherwise hold every slot; four keep a lone chat at the full rate (§5.2).
SUBMISSIONS_PER_CHAT = 4
# Renders a chat may have waiting in the RenderQueue beyond RENDER_CONCURRENCY (they see their
# place in line); its further renders wait in the table, behind other chats' (§5.2).
RENDERS_WAITING_PER_CHAT = 2
# How often the guest editor looks for settled renders nobody woke it for (§10.4).
GUEST_LOOK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Wakeups:
    """One event per loop: set it and that loop looks for due rows at once."""

    submitter: asyncio.Event = field(default_factory=asyncio.Event)
    reconciler: asyncio.Event = field(default_factory=asyncio.Event)
    delivery: asyncio.Event = field(default_factory=asyncio.Event)
    poster: asyncio.Event = field(default_factory=asyncio.Event)
    renderer: asyncio.Event = field(default_factory=asyncio.Event)
    guest: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True, slots=True)
class Resources:
    """What the lifecycle opened and the services are built on."""

    db: Database
    upstream_http: httpx.AsyncClient
    cdn: httpx.AsyncClient
    bot: Bot
    channel_bot: Bot  # no shared rate limiter: a channel's flood wait stalls only its posts
    salt: str
    renderer: Callable[[], Awaitable[Renderer]]


@dataclass(frozen=True, slots=True)
class Services:
    """The services the handlers, the web app and the loops are built from."""

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
    poster: ChannelPoster
    posts: ChannelPostRepository
    relay_files: RelayFiles
    corrections: LyricCorrections
    guest_answers: GuestAnswers  # render it here (docs/architecture.md §10.4)
    guest_editor: GuestEditor


def build_services(
    settings: Settings,
    resources: Resources,
    *,
    wakeups: Wakeups,
    clock: Callable[[], datetime],
    rng: random.Random,
) -> Services:
    """Every service, wired to the resources and to each other (no I/O)."""
    db, bot = resources.db, resources.bot
    repo = JobRepository(db, clock)
    family = PROVIDER_FAMILY[settings.music_api_provider]
    dialect = dialect_for(settings.music_api_provider)
    video_hosts = VideoHosts()
    status = StatusMessages(bot, job_timeout_minutes=settings.job_timeout_minutes)
    upstream = UpstreamClient(
        resources.upstream_http,
        dialect,
        settings.upstream_base_url,
        settings.music_api_key.get_secret_value(),
        rates=PROVIDER_RATES[family],  # every call of every part passes these windows
    )
    config = _engine_config(settings)
    alerts = TelegramAdminAlerts(bot, settings.admin_user_ids, clock)  # one quiet period
    jobs = JobService(
        repo=repo,
        client=upstream,
        config=config,
        tokens=CallbackTokens(settings.telegram_bot_token.get_secret_value(), salt=resources.salt),
        notifier=status,
        alerts=alerts,
        clock=clock,
        rng=rng,
        wake_submitter=wakeups.submitter.set,
        wake_reconciler=wakeups.reconciler.set,
        wake_delivery=wakeups.delivery.set,
        video_hosts=video_hosts,
        wake_renderer=wakeups.renderer.set,
    )
    callbacks = CallbackIntake(
        repo=repo,
        dialect=dialect,
        config=config,
        clock=clock,
        wake_reconciler=wakeups.reconciler.set,
        wake_delivery=wakeups.delivery.set,
        video_hosts=video_hosts,
    )
    fetcher = SafeFetcher(resources.cdn, trusted_origin=settings.upstream_base_url)
    lyrics = LyricsSource(
        repo=LyricsRepository(db, clock),
        provider=settings.music_api_provider.value,
        fetch=upstream.timestamped_lyrics,
    )
    # A karaoke render's instrumental: one separation per track (docs/architecture.md §9.7).
    # Its callback is only acknowledged (bot/web.py); the details are polled.
    base = (settings.public_base_url or INVALID_CALLBACK_BASE).rstrip("/")
    separations = SeparationSource(
        repo=SeparationRepository(db, clock),
        provider=settings.music_api_provider.value,
        request=upstream.separate,
        details=upstream.separation_details,
        callback_url=f"{base}{SEPARATION_CALLBACK_PATH}",
        clock=clock,
        poll_seconds=max(settings.poll_interval_seconds, 0.05),
        alerts=alerts,
    )
    corrections = LyricCorrections(
        repo=LyricCorrectionRepository(db, clock),
        lyrics=lyrics,
        provider=settings.music_api_provider.value,
    )
    relay_files = RelayFiles.beside(settings.database_path)
    delivery = Delivery(
        relay_files=relay_files,
        lyrics_revision=corrections.revision,
        lyrics=lyrics,
        bot=bot,
        repo=repo,
        fetcher=fetcher,
        wake_renderer=wakeups.renderer.set,
        status=status,
        chats=ChatSettingsRepository(db, clock),
        retention_days=LINK_RETENTION_DAYS[family],
        max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
        clock=clock,
        rng=rng,
    )
    # With PostgreSQL the renderer loop queues renders in the task engine and whichever
    # process runs its worker renders them and delivers (docs/architecture.md §8.8).
    engine = settings.postgres_url is not None
    renders = RenderJobs(
        repo=repo,
        preparer=WakeWhenPrepared(
            RenderPreparation(
                repo=repo,
                upstream=upstream,
                lyrics=lyrics,
                separations=separations,
                corrections=corrections,
            ),
            wakeups.guest.set,
        ),
        sources=RenderSources(
            fetcher=fetcher,
            chat_files=TelegramChatFiles(bot),
            analyses=TrackAnalyses(AnalysisRepository(db, clock)),
        ),
        progress=TelegramRenderProgress(bot),
        renderer=resources.renderer,
        queue=RenderQueue(max(1, settings.render_concurrency)),
        work_root=settings.database_path.parent / "renders",
        clock=clock,
        wake_delivery=wakeups.delivery.set,
        dispatch=RenderDispatch(db, clock) if engine else None,
        # A render delivered by the process that made it may settle a guest placeholder (§10.4).
        hand_over=partial(_deliver_then_wake, delivery.deliver_rendered, wakeups.guest)
        if engine
        else None,
    )
    posts = ChannelPostRepository(db, clock)
    guest_answers = GuestAnswers(db, repo, clock)
    poster = ChannelPoster(
        bot=resources.channel_bot,
        notifier=bot,
        posts=posts,
        links=AutopostLinkRepository(db, clock),
        jobs=repo,
        tracks=upstream.tracks,
        clock=clock,
        rng=rng,
        live_photos=ChannelLivePhotos(jobs=repo, clock=clock, wake_renderer=wakeups.renderer.set),
    )
    policy = AccessPolicy(
        allowed_users=settings.allowed_user_ids,
        allowed_chats=settings.allowed_chat_ids,
        admins=settings.admin_user_ids,
    )
    return Services(
        db=db,
        repo=repo,
        upstream=upstream,
        jobs=jobs,
        callbacks=callbacks,
        delivery=delivery,
        status=status,
        policy=policy,
        retention_days=LINK_RETENTION_DAYS[family],
        renders=renders,
        poster=poster,
        posts=posts,
        relay_files=relay_files,
        corrections=corrections,
        guest_answers=guest_answers,
        guest_editor=GuestEditor(bot=bot, answers=guest_answers, clock=clock, rng=rng),
    )


def _engine_config(settings: Settings) -> EngineConfig:
    hmac_key = settings.music_api_webhook_hmac_key
    return EngineConfig(
        provider=settings.music_api_provider,
        family=PROVIDER_FAMILY[settings.music_api_provider],
        public_base_url=settings.public_base_url,
        poll_interval=settings.poll_interval_seconds,
        job_timeout=timedelta(minutes=settings.job_timeout_minutes),
        hmac_key=hmac_key.get_secret_value() if hmac_key is not None else None,
        render_fallback=settings.render_fallback,
    )


def build_loops(
    settings: Settings,
    services: Services,
    wakeups: Wakeups,
    clock: Callable[[], datetime],
    health: HealthBoard | None = None,
) -> list[DueLoop[Any]]:
    """The six loops over due rows (docs/architecture.md §5.2, §10.4), each reporting to its part
    of `health` (§5.3).

    Submissions have their own loop so a backlog of them (waiting on the provider's rate) never
    holds back polls, callbacks' re-checks and deliveries; channel posts and renders too.
    Submissions, deliveries and renders take turns between chats, so one chat's backlog never
    holds back the others.
    """
    repo = services.repo
    board = health or HealthBoard()
    # After a delivery step a video may be due in a channel, or a guest placeholder (§10.4)
    # may have settled.
    delivery_step = partial(_then_wake, services.delivery.process, (wakeups.poster, wakeups.guest))
    renders_per_chat = settings.render_concurrency + RENDERS_WAITING_PER_CHAT
    return [
        DueLoop(
            "submitter",
            fetch_due=partial(repo.due_for_submit, per_chat=SUBMISSIONS_PER_CHAT),
            next_due=repo.next_due_submit_at,
            process=services.jobs.submit_due,
            clock=clock,
            wakeup=wakeups.submitter,
            fair_share=FairShare(_chat_of, SUBMISSIONS_PER_CHAT),
            health=board.part("submitter"),
        ),
        DueLoop(
            "reconciler",
            fetch_due=repo.due_for_check,
            next_due=repo.next_due_check_at,
            process=services.jobs.check_due,
            clock=clock,
            wakeup=wakeups.reconciler,
            health=board.part("reconciler"),
        ),
        DueLoop(
            "delivery",
            fetch_due=partial(repo.due_for_delivery, per_chat=DELIVERIES_PER_CHAT),
            next_due=repo.next_due_delivery_at,
            process=delivery_step,
            clock=clock,
            wakeup=wakeups.delivery,
            step_timeout=services.delivery.step_deadline,
            fair_share=FairShare(_chat_of, DELIVERIES_PER_CHAT),
            health=board.part("delivery"),
        ),
        DueLoop(
            "channel-poster",
            fetch_due=services.poster.fetch_due,
            next_due=services.poster.next_due_at,
            process=services.poster.process,
            clock=clock,
            wakeup=wakeups.poster,
            concurrency=4,
            step_timeout=POST_STEP_DEADLINE,
            health=board.part("channel-poster"),
        ),
        # Renders wait in the RenderQueue (RENDER_CONCURRENCY at once) inside their steps, so
        # the loop takes more than that: the waiting ones see their place in line. At stop a
        # render is cancelled at once (ffmpeg killed): the next start renders it again.
        # A chat may fill every render slot and have two more in line; its further renders
        # wait in the table, so another chat's render never waits behind all of them.
        DueLoop(
            "renderer",
            fetch_due=partial(repo.due_for_render, per_chat=renders_per_chat),
            next_due=repo.next_due_render_at,
            process=services.renders.process,
            clock=clock,
            wakeup=wakeups.renderer,
            concurrency=settings.render_concurrency + RENDER_WAITING_SLOTS,
            step_timeout=services.renders.step_deadline,
            stop_grace_seconds=0.0,
            fair_share=FairShare(_chat_of, renders_per_chat),
            health=board.part("renderer"),
        ),
        # Guest placeholders (§10.4): woken after each delivery step; every few seconds it
        # also looks for renders a render worker delivered (§8.8) or a restart left.
        DueLoop(
            "guest-editor",
            fetch_due=services.guest_answers.due,
            next_due=services.guest_answers.next_due_at,
            process=services.guest_editor.process,
            clock=clock,
            wakeup=wakeups.guest,
            concurrency=4,
            max_idle_seconds=GUEST_LOOK_SECONDS,
            health=board.part("guest-editor"),
        ),
    ]


def _chat_of(job: Job) -> int:
    """A job's fair-share key: its chat."""
    return job.chat_id


async def _then_wake(
    process: Callable[[Job], Awaitable[None]], wakeups: tuple[asyncio.Event, ...], job: Job
) -> None:
    """Run a delivery step, then wake the loops that act on delivered jobs."""
    await process(job)
    for wakeup in wakeups:
        wakeup.set()


async def _deliver_then_wake(
    deliver: Callable[[int, int], Awaitable[None]], wakeup: asyncio.Event, job_id: int, fence: int
) -> None:
    """Deliver a render in the process that made it (§8.8), then wake the guest editor."""
    await deliver(job_id, fence)
    wakeup.set()


def register_handlers(
    application: Application,  # type: ignore[type-arg]
    settings: Settings,
    services: Services,
    clock: Callable[[], datetime],
) -> None:
    """Every Telegram handler and the error handler (the catch-all for buttons comes last)."""
    chats = ChatSettingsRepository(services.db, clock)
    policy, repo = services.policy, services.repo
    starter = JobStarter(
        jobs=services.jobs,
        admission=Admission(repo, policy, settings.quota_per_hour, clock),
        chats=chats,
        default_domain=settings.default_domain_name,
        lyrics_revision=services.corrections.revision,
    )
    # First: a guest message is a Message, and no other handler should take it (§10.4).
    GuestHandlers(
        starter=starter,
        jobs=services.jobs,
        repo=repo,
        answers=services.guest_answers,
        provider=settings.music_api_provider.value,
    ).register(application)
    picks = TrackPickRepository(services.db, clock)
    picker = TrackPicker(upstream=services.upstream, picks=picks, policy=policy, starter=starter)
    CommandHandlers(starter=starter, picker=picker).register(application)
    picker.register(application)
    RenderHandlers(
        starter=starter, picker=picker, renders=services.renders, repo=repo, policy=policy
    ).register(application)
    TeaserHandlers(starter=starter, repo=repo).register(application)
    KaraokeHandlers(starter=starter, repo=repo, provider=settings.music_api_provider).register(
        application
    )
    LoopHandlers(starter=starter, repo=repo).register(application)
    HistoryHandlers(
        jobs=services.jobs,
        repo=repo,
        status=services.status,
        retention_days=services.retention_days,
        job_timeout_minutes=settings.job_timeout_minutes,
        clock=clock,
    ).register(application)
    LyricsEditHandlers(  # before ChatSettingsHandlers: it takes `/lyrics edit|reset`
        corrections=services.corrections,
        sessions=LyricEditSessionRepository(services.db, clock),
        repo=repo,
        policy=policy,
        clock=clock,
    ).register(application)
    ChatSettingsHandlers(
        chats=chats, policy=policy, default_domain=settings.default_domain_name
    ).register(application)
    AdminHandlers(upstream=services.upstream, policy=policy).register(application)
    AutopostHandlers(links=AutopostLinkRepository(services.db, clock), policy=policy).register(
        application
    )
    InlineShareHandlers(repo=repo).register(application)
    register_stale_buttons(application)  # last: answers taps no other handler took
    application.add_error_handler(on_error)
