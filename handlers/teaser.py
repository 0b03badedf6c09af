"""The chorus teaser from Telegram (issue 11): `/teaser <taskId> <audioId> [nolyrics]` and the
Teaser button under every delivered video. Telegram-facing only: a teaser is a render job
(9:16, the `teaser` column) started through `JobStarter`, so it passes the same admission,
renderer loop, delivery, restart handling and file_id re-use as every render."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.rendering import VideoFormat
from bot.telegram_io.video_buttons import TEASER_PREFIX, parse_teaser_button
from bot.text.commands import CommandSyntaxError, command_arguments, parse_teaser_args
from bot.text.texts import text
from handlers.common import (
    NEW_COMMANDS,
    Context,
    job_under_button,
    language_of,
    reply,
    syntax_error_text,
)
from handlers.submit import JobStarter, RenderSource
from storage.jobs import JobRepository

TEASER_FORMAT = VideoFormat.VERTICAL.value  # a teaser is always 720x1280


class TeaserHandlers:
    """`/teaser` and the Teaser button."""

    def __init__(self, *, starter: JobStarter, repo: JobRepository) -> None:
        self._starter = starter
        self._repo = repo

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the handlers (new messages only, never edits)."""
        application.add_handler(CommandHandler("teaser", self.on_teaser, NEW_COMMANDS))
        application.add_handler(
            CallbackQueryHandler(self.on_button, pattern=rf"^{TEASER_PREFIX}\d+$")
        )

    async def on_teaser(self, update: Update, context: Context) -> None:
        """`/teaser <taskId> <audioId> [nolyrics]`."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        language = language_of(update)
        try:
            args = parse_teaser_args(command_arguments(message.text))
        except CommandSyntaxError as err:
            await reply(message, syntax_error_text(language, err, "usage_teaser"))
            return
        await self._starter.start(
            update,
            message,
            task_id=args.task_id,
            audio_id=args.audio_id,
            author=None,
            render=RenderSource(TEASER_FORMAT, lyrics=args.lyrics, teaser=True),
        )

    async def on_button(self, update: Update, context: Context) -> None:
        """The Teaser button under a video: the chorus teaser of that video's track."""
        query = update.callback_query
        job_id = parse_teaser_button(query.data if query else None)
        tapped = await job_under_button(update, self._repo, job_id)
        if tapped is None:
            return
        query, message, job = tapped
        language = language_of(update)
        await query.answer(text(language, "teaser_starting"))
        await self._starter.start(
            update,
            message,
            task_id=job.task_id,
            audio_id=job.audio_id,
            author=job.author,
            title=job.title,
            render=RenderSource(
                TEASER_FORMAT,
                job.source_file_id,
                job.source_file_name,
                lyrics=job.lyrics,
                teaser=True,
            ),
        )
