"""`/start`, `/help` and `/video`: parse the update, call the services, render the reply."""

from __future__ import annotations

from typing import Protocol

from telegram import Message, Update
from telegram.ext import Application, CommandHandler

from bot.text.commands import (
    CommandSyntaxError,
    command_arguments,
    parse_video_args,
)
from bot.text.texts import text
from handlers.common import NEW_COMMANDS, Context, language_of, reply, syntax_error_text
from handlers.submit import JobStarter


class PickerOffer(Protocol):
    """What `/video <taskId>` needs from the track picker (handlers.picker)."""

    async def offer(
        self,
        update: Update,
        command: Message,
        task_id: str,
        author: str | None,
        video_format: str | None = None,
        *,
        lyrics: bool = True,
    ) -> None: ...


class CommandHandlers:
    """The core commands. `/video <taskId>` alone goes to the track picker when one is set."""

    def __init__(self, *, starter: JobStarter, picker: PickerOffer | None = None) -> None:
        self._starter = starter
        self._picker = picker

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the handlers to `application` (messages and channel posts, never edits)."""
        application.add_handler(CommandHandler(["start", "help"], self.on_help, NEW_COMMANDS))
        application.add_handler(CommandHandler("video", self.on_video, NEW_COMMANDS))

    async def on_help(self, update: Update, context: Context) -> None:
        """What the bot does and how to use it."""
        message = update.effective_message
        if message is not None:
            await reply(message, text(language_of(update), "help"))

    async def on_video(self, update: Update, context: Context) -> None:
        """Validate `/video` arguments, then start the job (or offer the tracks)."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        language = language_of(update)
        try:
            args = parse_video_args(command_arguments(message.text))
        except CommandSyntaxError as err:
            await reply(message, syntax_error_text(language, err, "usage_video"))
            return
        if args.audio_id is None:
            if self._picker is None:
                await reply(message, text(language, "usage_video"))
            else:
                await self._picker.offer(update, message, args.task_id, args.author)
            return
        await self._starter.start(
            update, message, task_id=args.task_id, audio_id=args.audio_id, author=args.author
        )
