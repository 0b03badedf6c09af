"""The application's error handler: the single broad net (docs/architecture.md §1.2)."""

from __future__ import annotations

import logging

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
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
    guest = update.guest_message
    if guest is not None and guest.guest_query_id:  # a chat the bot is not in (§10.4)
        await _answer_guest(context, guest.guest_query_id, text(language, "reason_internal"))
        return
    topic = topic_of(message) if message is not None else None
    try:
        await context.bot.send_message(
            update.effective_chat.id, text(language, "reason_internal"), message_thread_id=topic
        )
    except TelegramError as exc:
        log.warning("could not report the error to chat %s: %s", update.effective_chat.id, exc)


async def _answer_guest(context: ContextTypes.DEFAULT_TYPE, query_id: str, body: str) -> None:
    """Say it in the guest query's answer: the bot cannot post in the guest chat itself."""
    result = InlineQueryResultArticle(
        id="error", title=body[:256], input_message_content=InputTextMessageContent(body)
    )
    try:
        await context.bot.answer_guest_query(query_id, result)
    except TelegramError as exc:  # e.g. answered already with a placeholder
        log.warning("could not report the error to guest query %s: %s", query_id, exc)
