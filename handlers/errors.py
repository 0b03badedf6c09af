"""The application's error handler: the single broad net (docs/architecture.md §1.2)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.text.texts import language_for, text
from handlers.common import topic_of

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with its traceback and tell the chat in one plain sentence."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    language = language_for(user.language_code if user else None)
    message = update.effective_message
    topic = topic_of(message) if message is not None else None
    try:
        await context.bot.send_message(
            update.effective_chat.id, text(language, "reason_internal"), message_thread_id=topic
        )
    except TelegramError as exc:
        log.warning("could not report the error to chat %s: %s", update.effective_chat.id, exc)
