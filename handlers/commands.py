"""Command handlers: parse the update, call the jobs service, render the reply. Telegram only."""

from __future__ import annotations

import logging

from telegram import Message, ReplyParameters, Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.commands import (
    AuthorTooLong,
    BadId,
    CommandSyntaxError,
    command_arguments,
    parse_video_args,
)
from bot.jobs import JobRequest, JobService
from bot.render import phase_of, status_text
from bot.texts import language_for, text
from storage.jobs import JobRepository

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

# New messages only: an edited command never resubmits (design.md §7.7).
NEW_MESSAGES = filters.UpdateType.MESSAGE


class CommandHandlers:
    """`/start`, `/help`, `/video`, `/status`."""

    def __init__(
        self,
        *,
        jobs: JobService,
        repo: JobRepository,
        default_domain: str | None,
        job_timeout_minutes: float,
    ) -> None:
        self._jobs = jobs
        self._repo = repo
        self._default_domain = default_domain
        self._job_timeout_minutes = job_timeout_minutes

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the handlers to `application`."""
        application.add_handler(CommandHandler(["start", "help"], self.on_help, NEW_MESSAGES))
        application.add_handler(CommandHandler("video", self.on_video, NEW_MESSAGES))
        application.add_handler(CommandHandler("status", self.on_status, NEW_MESSAGES))

    async def on_help(self, update: Update, context: Context) -> None:
        """What the bot does and how to use it."""
        message = update.effective_message
        if message is not None:
            await reply(message, text(_language(update), "help"))

    async def on_video(self, update: Update, context: Context) -> None:
        """Validate `/video` arguments, post the status message, create the job."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        language = _language(update)
        try:
            args = parse_video_args(command_arguments(message.text))
        except CommandSyntaxError as err:
            await reply(message, _syntax_error_text(language, err))
            return
        if args.audio_id is None:
            await reply(message, text(language, "usage_video"))
            return
        status = await reply(message, text(language, "status_submitting"))
        user = update.effective_user
        await self._jobs.create(
            JobRequest(
                chat_id=message.chat_id,
                thread_id=message.message_thread_id if message.is_topic_message else None,
                user_id=user.id if user else None,
                command_message_id=message.message_id,
                status_message_id=status.message_id,
                language=language,
                task_id=args.task_id,
                audio_id=args.audio_id,
                author=args.author,
                domain_name=self._default_domain,
            )
        )

    async def on_status(self, update: Update, context: Context) -> None:
        """The chat's latest job."""
        message = update.effective_message
        if message is None:
            return
        language = _language(update)
        jobs = await self._repo.latest_for_chat(message.chat_id, limit=1)
        if not jobs:
            await reply(message, text(language, "no_jobs"))
            return
        job = jobs[0]
        state = status_text(job, phase_of(job.state), job_timeout_minutes=self._job_timeout_minutes)
        line = text(
            language,
            "status_line",
            job_id=job.id,
            task_id=job.task_id,
            audio_id=job.audio_id,
            state=state,
        )
        await reply(message, line)


async def reply(message: Message, body: str) -> Message:
    """Answer `message` in its chat and topic; still answer if it was deleted meanwhile."""
    return await message.reply_text(
        body,
        reply_parameters=ReplyParameters(
            message_id=message.message_id, allow_sending_without_reply=True
        ),
    )


def _language(update: Update) -> str:
    user = update.effective_user
    return language_for(user.language_code if user else None)


def _syntax_error_text(language: str, err: CommandSyntaxError) -> str:
    if isinstance(err, BadId):
        return text(language, "bad_id", value=err.value[:40], name=err.name)
    if isinstance(err, AuthorTooLong):
        return text(language, "author_too_long", length=err.length, limit=err.limit)
    return text(language, "usage_video")
