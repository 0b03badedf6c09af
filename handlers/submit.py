"""Starting a job from Telegram: admission, chat defaults, the status message, the job row.

Shared by `/video <taskId> <audioId>`, the track picker's buttons and every way to start a
render (`/render`, audio uploads, format buttons; issue 10).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from telegram import InlineKeyboardMarkup, Message, Update

from bot.engine.admission import Admission, Admitted, AlreadyInFlight, NotAllowed, QuotaExceeded
from bot.engine.job_model import JobRequest, Phase
from bot.engine.jobs import JobService
from bot.engine.loop_variants import variant_request
from bot.telegram_io.render_progress import cancel_markup
from bot.telegram_io.status_messages import check_status_markup
from bot.text.render import render_started_text
from bot.text.texts import text
from handlers.common import language_of, reply, sender_id, topic_of
from storage.chats import ChatSettingsRepository
from storage.jobs import KIND_RENDER, Job


class JobStarter:
    """Turns a validated request in a chat into a job, or into a clear refusal.

    Exactly once per Telegram update: the job row is written before anything is visible, and
    handling the same update again (after a kill) finds that row and only finishes announcing
    it. Admission and the row insert run under one lock, so quotas and the one-in-flight rule
    stay exact while updates are handled concurrently.
    """

    def __init__(
        self,
        *,
        jobs: JobService,
        admission: Admission,
        chats: ChatSettingsRepository,
        default_domain: str | None,
        lyrics_revision: Callable[[int, str, str], Awaitable[str | None]] | None = None,
    ) -> None:
        self._jobs = jobs
        self._admission = admission
        self._chats = chats
        self._default_domain = default_domain
        self._lyrics_revision = lyrics_revision
        self._admitting = asyncio.Lock()

    async def start(
        self,
        update: Update,
        command: Message,
        *,
        task_id: str,
        audio_id: str,
        author: str | None,
        title: str | None = None,
        once_admitted: Callable[[], Awaitable[object]] | None = None,
        render: RenderSource | None = None,
    ) -> None:
        """Admit the request, write the job, then post its status message replying to `command`.

        `once_admitted` runs once the job row exists (e.g. the picker marks the chosen track),
        never for a refused request. With `render` our own renderer makes the video."""
        language = language_of(update)
        job = await self._jobs.job_for_update(update.update_id)
        if job is None:
            request = job_request(
                update,
                command,
                task_id=task_id,
                audio_id=audio_id,
                author=author,
                title=title,
                render=render,
            )
            outcome = await self._admit(request)
            if not isinstance(outcome, Job):
                await reply(command, refusal_text(language, outcome))
                return
            job = outcome
        if self._jobs.awaits_announcement(job):
            try:
                if once_admitted is not None:
                    await once_admitted()
            finally:
                await self._announce(job, command, language)

    async def admit(self, request: JobRequest) -> Job | Refusal:
        """Admit `request` and write its job (not yet announced), or say why not; used as is
        by guest queries (docs/architecture.md §10.4), which have no status message."""
        return await self._admit(request)

    async def settled(self, request: JobRequest) -> JobRequest:
        """`request` with its chat's defaults applied: the job `admit` would write."""
        if request.variant is not None:  # no text, no look: one loop per track
            return variant_request(request)
        defaults = await self._chats.get(request.chat_id)
        # A karaoke render always shows the lyrics, whatever the chat's `/lyrics off`.
        lyrics = request.lyrics and (defaults.lyrics or request.karaoke)
        # The chat's corrected words (docs/architecture.md §9.5) are part of the look of a
        # render with lyrics, as their style is.
        revision = None
        if lyrics and request.source_file_id is None and self._lyrics_revision is not None:
            revision = await self._lyrics_revision(
                request.chat_id, request.task_id, request.audio_id
            )
        return replace(
            request,
            author=request.author or defaults.author,
            domain_name=defaults.domain_name or self._default_domain,
            lyrics=lyrics,
            # No lyrics, no style: such renders are one look whatever the chat's style.
            lyric_style=defaults.lyric_style.stored if lyrics else None,
            look=defaults.look.stored,
            lyrics_revision=revision,
        )

    async def _admit(self, request: JobRequest) -> Job | Refusal:
        async with self._admitting:
            verdict = await self._admission.check(
                user_id=request.user_id,
                chat_id=request.chat_id,
                task_id=request.task_id,
                audio_id=request.audio_id,
                video_format=request.video_format,
                teaser=request.teaser,
                karaoke=request.karaoke,
                variant=request.variant,
            )
            if not isinstance(verdict, Admitted):
                return verdict
            return await self._jobs.create(await self.settled(request))

    async def _announce(self, job: Job, command: Message, language: str) -> None:
        """Post the status message; the job is queued for submission whatever happens.

        It already says the video is being made: on the happy path it is never edited, so a
        video costs two Telegram calls (this message and the video)."""
        status_message_id = None
        # A render's message shows its progress, so it gets a final edit; a provider job's
        # message already says what happens next.
        phase = Phase.SUBMITTING if job.kind == KIND_RENDER else Phase.RENDERING
        markup: InlineKeyboardMarkup | None
        try:
            if job.kind == KIND_RENDER:
                body, markup = render_started_text(job), cancel_markup(job)
            else:
                body = text(language, "status_rendering")
                markup = check_status_markup(job, Phase.RENDERING)
            status_message_id = (await reply(command, body, reply_markup=markup)).message_id
        finally:
            await self._jobs.announce(job, status_message_id, phase)


@dataclass(frozen=True, slots=True)
class RenderSource:
    """What makes a request a render: its format and, for an uploaded file, that file."""

    video_format: str
    source_file_id: str | None = None
    source_file_name: str | None = None
    lyrics: bool = True  # False: `nolyrics` (the chat's `/lyrics off` applies on top)
    teaser: bool = False  # the chorus teaser (issue 11)
    karaoke: bool = False  # the sing-along render over the instrumental (issue 19)
    variant: str | None = None  # a Canvas loop or live photo (issue 20, handlers/loop.py)


Refusal = NotAllowed | AlreadyInFlight | QuotaExceeded


def job_request(
    update: Update,
    command: Message,
    *,
    task_id: str,
    audio_id: str,
    author: str | None,
    title: str | None,
    render: RenderSource | None,
) -> JobRequest:
    """What the update asks for, where to answer it, and (for a render) how to make it."""
    request = JobRequest(
        chat_id=command.chat_id,
        thread_id=topic_of(command),
        user_id=sender_id(update),
        command_message_id=command.message_id,
        status_message_id=None,
        language=language_of(update),
        task_id=task_id,
        audio_id=audio_id,
        author=author,
        domain_name=None,
        title=title,
        update_id=update.update_id,
    )
    if render is None:
        return request
    return replace(
        request,
        kind=KIND_RENDER,
        video_format=render.video_format,
        source_file_id=render.source_file_id,
        source_file_name=render.source_file_name,
        teaser=render.teaser,
        karaoke=render.karaoke,
        lyrics=render.lyrics or render.karaoke,
        variant=render.variant,
    )


def refusal_text(language: str, refusal: Refusal) -> str:
    """The one sentence that says why a request was not taken."""
    if isinstance(refusal, AlreadyInFlight):
        return text(language, "already_in_flight", job_id=refusal.job.id)
    if isinstance(refusal, QuotaExceeded):
        retry_at = refusal.retry_at.strftime("%H:%M")
        return text(language, "quota_exceeded", limit=refusal.limit, time=retry_at)
    return text(language, "not_allowed")
