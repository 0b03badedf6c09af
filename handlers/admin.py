"""`/credits`: the upstream account's remaining credits, for ADMIN_USER_IDS only.

Telegram-facing only: asks the upstream client and renders via `bot.text.texts`/`bot.text.render`.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.engine.admission import AccessPolicy
from bot.text.error_texts import error_text
from bot.text.render import format_credits
from bot.text.texts import text
from bot.upstream.client import UpstreamClient
from bot.upstream.errors import (
    UpstreamError,
)
from handlers.common import NEW_COMMANDS, Context, language_of, reply, sender_id

log = logging.getLogger(__name__)


class AdminHandlers:
    """Commands only the bot's admins may use."""

    def __init__(self, *, upstream: UpstreamClient, policy: AccessPolicy) -> None:
        self._upstream = upstream
        self._policy = policy

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the commands (messages and channel posts, never edits)."""
        application.add_handler(CommandHandler("credits", self.on_credits, NEW_COMMANDS))

    async def on_credits(self, update: Update, context: Context) -> None:
        """The remaining upstream credits, or one sentence on why they are not known."""
        message = update.effective_message
        if message is None:
            return
        language = language_of(update)
        if not self._policy.is_admin(sender_id(update)):
            await reply(message, text(language, "credits_admins_only"))
            return
        try:
            credits = await self._upstream.credits()
        except UpstreamError as err:
            log.warning("credits not known: %r", err)
            await reply(message, error_text(language, "credits", err))
            return
        amount = format_credits(credits.remaining)
        await reply(message, text(language, "credits_remaining", credits=amount))
