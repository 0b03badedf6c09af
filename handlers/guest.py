"""Render it here (guest mode, docs/architecture.md §10.4): `@Bot <taskId> <audioId> [format]`
in a chat the bot is not in (or `@Bot` replying to an audio file there).

Telegram-facing only. The guest query is answered at once: with the video by file_id when the
same render was delivered before, with a one-line refusal, or with a placeholder whose inline
message id is stored with a new render job (same admission and quota as `/render`, charged to
the caller; the job's chat is the caller's private chat with the bot, where the video is
posted first). The guest editor (`bot/distribution/guest.py`) later edits the video in.
"""

from __future__ import annotations

import logging
from dataclasses import fields, replace
from datetime import UTC, datetime

from telegram import InlineQueryResult, Message, Update, User
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, MessageHandler, filters

from bot.distribution.guest import article, cached_video, guest_arguments, placeholder
from bot.distribution.guest import start_markup as guest_start_markup
from bot.domain import JobState
from bot.engine.job_model import JobRequest, Phase
from bot.engine.jobs import JobService
from bot.engine.render_plan import BadPlan, plan_from_json
from bot.rendering import VideoFormat, format_token
from bot.text.commands import CommandSyntaxError, parse_render_args
from bot.text.texts import text
from handlers.common import Context, language_of
from handlers.render import DOWNLOAD_LIMIT_BYTES, UPLOAD_TASK_ID, audio_of
from handlers.submit import JobStarter, refusal_text
from storage.guest_queries import GuestAnswers
from storage.jobs import KIND_RENDER, Job, JobRepository

log = logging.getLogger(__name__)


class GuestHandlers:
    """Answers guest messages; the render itself is an ordinary render job."""

    def __init__(
        self,
        *,
        starter: JobStarter,
        jobs: JobService,
        repo: JobRepository,
        answers: GuestAnswers,
        provider: str,
    ) -> None:
        self._starter = starter
        self._jobs = jobs
        self._repo = repo
        self._answers = answers
        self._provider = provider

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the guest message handler (before any other message handler)."""
        application.add_handler(MessageHandler(filters.UpdateType.GUEST_MESSAGE, self.on_guest))

    async def on_guest(self, update: Update, context: Context) -> None:
        """Answer one guest query; exactly once per update (the job is keyed on it)."""
        message = update.guest_message
        if message is None or not message.guest_query_id:
            return
        query_id = message.guest_query_id
        job = await self._jobs.job_for_update(update.update_id)
        if job is None:
            outcome = await self._new_job(update, message, context)
            if not isinstance(outcome, Job):
                if outcome is not None:
                    await self._answer(context, query_id, outcome)
                return
            job = outcome
        if not self._jobs.awaits_announcement(job):
            return  # handled before a restart: answered, recorded and announced
        try:
            if await self._answers.get(job.id) is None:
                cover_url = await self._cover_url(job)
                sent = await self._answer(context, query_id, placeholder(job, cover_url))
                if sent is not None:  # title and cover shown: no need to dress it later
                    dressed = cover_url is not None and job.title is not None
                    await self._answers.record(job.id, sent, dressed=dressed)
        finally:
            # No status message: the placeholder is it. The video still goes to the caller's
            # private chat if the placeholder could not be sent.
            await self._jobs.announce(job, None, Phase.SUBMITTING)

    async def _new_job(
        self, update: Update, message: Message, context: Context
    ) -> Job | InlineQueryResult | None:
        """The render job this guest message asks for, or the result that answers it now."""
        language = language_of(update)
        bot_name = context.bot.username
        caller = message.from_user or message.guest_bot_caller_user
        request = self._request(update, message, caller, bot_name)
        if not isinstance(request, JobRequest):
            return request
        request = replace(request, title=await self._known_title(request))
        settled = await self._starter.settled(request)
        done = await self._repo.find_rendered(probe_job(settled, self._provider))
        if done is not None:
            return cached_video(replace(done, language=language))
        if not await self._reachable(context, request.chat_id):
            body = text(language, "guest_start_first", bot=bot_name)
            markup = guest_start_markup(language, bot_name)
            return article("start", text(language, "guest_refused_title"), body, markup=markup)
        outcome = await self._starter.admit(request)
        if isinstance(outcome, Job):
            return outcome
        body = refusal_text(language, outcome)
        return article("refused", text(language, "guest_refused_title"), body)

    def _request(
        self, update: Update, message: Message, caller: User | None, bot_name: str
    ) -> JobRequest | InlineQueryResult:
        """The render request of the message, or the result that says what to write."""
        language = language_of(update)
        usage = article(
            "usage",
            text(language, "guest_usage_title"),
            text(language, "guest_usage", bot=bot_name),
        )
        if caller is None or caller.is_bot:
            return usage
        try:
            args = parse_render_args(guest_arguments(message.text, bot_name), format_token)
        except CommandSyntaxError:
            return usage
        video_format = args.video_format or VideoFormat.VERTICAL.value
        request = JobRequest(
            chat_id=caller.id,  # the caller's private chat with the bot: their copy goes there
            thread_id=None,
            user_id=caller.id,
            command_message_id=None,
            status_message_id=None,
            language=language,
            task_id="",
            audio_id="",
            author=args.author,
            domain_name=None,
            update_id=update.update_id,
            kind=KIND_RENDER,
            video_format=video_format,
            lyrics=args.lyrics,
        )
        if args.task_id is not None and args.audio_id is not None:
            return replace(request, task_id=args.task_id, audio_id=args.audio_id)
        if args.task_id is not None or message.reply_to_message is None:
            return usage
        return _upload_request(request, message.reply_to_message, bot_name)

    async def _reachable(self, context: Context, chat_id: int) -> bool:
        """Whether the bot may post in the caller's private chat (they started the bot): the
        video must be posted there first to get a file_id. One cheap chat action, before any
        render is made or quota is charged."""
        try:
            await context.bot.send_chat_action(chat_id, "upload_video")
        except Forbidden:
            return False
        except TelegramError as exc:  # unsure: go ahead; delivery handles a refusal later
            log.info("guest query: chat %s not checked: %s", chat_id, exc)
        return True

    async def _answer(
        self, context: Context, query_id: str, result: InlineQueryResult
    ) -> str | None:
        """Answer the guest query; the inline message id, or None when Telegram refused."""
        try:
            sent = await context.bot.answer_guest_query(query_id, result)
        except TelegramError as exc:  # e.g. answered already (handled again after a restart)
            log.info("guest query %s not answered: %s", query_id, exc)
            return None
        return sent.inline_message_id

    async def _known_title(self, request: JobRequest) -> str | None:
        """The track's title when an earlier job learned it (shown in the placeholder)."""
        for other in await self._repo.find_for_track(
            self._provider, request.task_id, request.audio_id
        ):
            if other.title:
                return other.title
        return None

    async def _cover_url(self, job: Job) -> str | None:
        """The track's cover URL when an earlier render's stored plan has it (no provider
        call: the guest query is answered at once)."""
        for other in await self._repo.find_for_track(job.provider, job.task_id, job.audio_id):
            if other.render_plan is None:
                continue
            try:
                plan = plan_from_json(other.render_plan)
            except BadPlan:
                continue
            if plan.cover_url:
                return plan.cover_url
        return None


def _upload_request(
    request: JobRequest, replied: Message, bot_name: str
) -> JobRequest | InlineQueryResult:
    """A render of the audio file the guest message replies to, or why it cannot be."""
    audio = audio_of(replied)
    if audio is None or (audio.size is not None and audio.size > DOWNLOAD_LIMIT_BYTES):
        body = text(request.language, "guest_no_audio", bot=bot_name)
        return article("no-audio", text(request.language, "guest_usage_title"), body)
    return replace(
        request,
        task_id=UPLOAD_TASK_ID,
        audio_id=audio.unique_id,
        source_file_id=audio.file_id,
        source_file_name=audio.name,
    )


def probe_job(request: JobRequest, provider: str) -> Job:
    """The job `request` would be written as, for `JobRepository.find_rendered` (never
    stored): the fields the two share are copied by name, so the "rendered once" key stays the
    one `/render` uses whatever it grows to."""
    now = datetime.now(UTC)
    shared = {f.name: getattr(request, f.name) for f in fields(request) if f.name in _JOB_FIELDS}
    return Job(
        **shared,
        id=0,
        provider=provider,
        state=JobState.SUBMITTING,
        video_task_id=None,
        video_url=None,
        callback_video_url=None,
        file_id=None,
        error_kind=None,
        error=None,
        callback_token_hash="",
        submit_attempts=0,
        poll_attempts=0,
        delivery_attempts=0,
        next_poll_at=None,
        next_delivery_at=None,
        created_at=now,
        updated_at=now,
        completed_at=None,
        delivered_at=None,
    )


_JOB_FIELDS = frozenset(f.name for f in fields(Job))
