"""Canvas loops and live photos from Telegram (issue 20, docs/architecture.md §10.3):
`/loop <taskId> <audioId>` and the "🔁 Loop" and "✨ Live" buttons under a delivered video.
Telegram-facing only: a loop or live photo is a render job with a `variant` started through
`JobStarter`, so it passes the same admission and quota as a teaser, the same renderer loop,
delivery, restart handling and file_id re-use as every render."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.engine.loop_variants import VARIANT_FORMAT
from bot.telegram_io.loop_buttons import LIVE_PREFIX, LOOP_PREFIX, parse_loop_button
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
from storage.jobs import VARIANT_LIVE, VARIANT_LOOP, JobRepository


class LoopHandlers:
    """`/loop` and the Loop and Live buttons."""

    def __init__(self, *, starter: JobStarter, repo: JobRepository) -> None:
        self._starter = starter
        self._repo = repo

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the handlers (new messages only, never edits)."""
        application.add_handler(CommandHandler("loop", self.on_loop, NEW_COMMANDS))
        application.add_handler(
            CallbackQueryHandler(self.on_button, pattern=rf"^({LOOP_PREFIX}|{LIVE_PREFIX})\d+$")
        )

    async def on_loop(self, update: Update, context: Context) -> None:
        """`/loop <taskId> <audioId>`: the track's Canvas loop."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        language = language_of(update)
        try:
            args = parse_teaser_args(command_arguments(message.text))
        except CommandSyntaxError as err:
            await reply(message, syntax_error_text(language, err, "usage_loop"))
            return
        await self._starter.start(
            update,
            message,
            task_id=args.task_id,
            audio_id=args.audio_id,
            author=None,
            render=RenderSource(VARIANT_FORMAT, lyrics=False, variant=VARIANT_LOOP),
        )

    async def on_button(self, update: Update, context: Context) -> None:
        """The Loop or Live button under a video: that track's loop or live photo."""
        query = update.callback_query
        parsed = parse_loop_button(query.data if query else None)
        tapped = await job_under_button(update, self._repo, parsed[0] if parsed else None)
        if tapped is None or parsed is None:
            return
        query, message, job = tapped
        live = parsed[1]
        language = language_of(update)
        await query.answer(text(language, "live_starting" if live else "loop_starting"))
        await self._starter.start(
            update,
            message,
            task_id=job.task_id,
            audio_id=job.audio_id,
            author=None,
            title=job.title,
            render=RenderSource(
                VARIANT_FORMAT, lyrics=False, variant=VARIANT_LIVE if live else VARIANT_LOOP
            ),
        )
