"""The sing-along render from Telegram (issue 19): `/karaoke <taskId> <audioId> [format]` and
the Karaoke button under every delivered video of a provider track. Telegram-facing only: a
karaoke video is a render job (the `karaoke` column) started through `JobStarter`, so it
passes the same admission, quota, renderer loop, delivery and file_id re-use as every render;
its preparation gets the instrumental (docs/architecture.md §9.7). A provider without vocal
separation (vidgo) is refused at once: no job, no request, nothing spent."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import PROVIDER_FAMILY, Family, Provider
from bot.rendering import VideoFormat, format_token
from bot.telegram_io.video_buttons import KARAOKE_PREFIX, format_of, parse_karaoke_button
from bot.text.commands import CommandSyntaxError, command_arguments, parse_karaoke_args
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

DEFAULT_FORMAT = VideoFormat.VERTICAL.value  # as /render's


class KaraokeHandlers:
    """`/karaoke` and the Karaoke button."""

    def __init__(self, *, starter: JobStarter, repo: JobRepository, provider: Provider) -> None:
        self._starter = starter
        self._repo = repo
        self._separates = PROVIDER_FAMILY[provider] is not Family.UNIFIED  # docs/providers.md §5.2

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the handlers (new messages only, never edits)."""
        application.add_handler(CommandHandler("karaoke", self.on_karaoke, NEW_COMMANDS))
        application.add_handler(
            CallbackQueryHandler(self.on_button, pattern=rf"^{KARAOKE_PREFIX}\d+$")
        )

    async def on_karaoke(self, update: Update, context: Context) -> None:
        """`/karaoke <taskId> <audioId> [9:16|1:1|16:9]`."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        language = language_of(update)
        try:
            args = parse_karaoke_args(command_arguments(message.text), format_token)
        except CommandSyntaxError as err:
            await reply(message, syntax_error_text(language, err, "usage_karaoke"))
            return
        if not self._separates:
            await reply(message, text(language, "karaoke_unsupported"))
            return
        await self._starter.start(
            update,
            message,
            task_id=args.task_id,
            audio_id=args.audio_id,
            author=None,
            render=RenderSource(args.video_format or DEFAULT_FORMAT, karaoke=True),
        )

    async def on_button(self, update: Update, context: Context) -> None:
        """The Karaoke button under a video: the karaoke version of that video's track, in
        that video's shape."""
        query = update.callback_query
        job_id = parse_karaoke_button(query.data if query else None)
        tapped = await job_under_button(update, self._repo, job_id)
        if tapped is None:
            return
        query, message, job = tapped
        language = language_of(update)
        if not self._separates:
            await query.answer(text(language, "karaoke_unsupported"), show_alert=True)
            return
        if job.source_file_id is not None:
            await query.answer(text(language, "karaoke_upload"), show_alert=True)
            return
        await query.answer(text(language, "karaoke_starting"))
        await self._starter.start(
            update,
            message,
            task_id=job.task_id,
            audio_id=job.audio_id,
            author=job.author,
            title=job.title,
            render=RenderSource(format_of(job).value, karaoke=True),
        )
