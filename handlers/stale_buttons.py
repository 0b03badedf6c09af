"""The last word on button presses: a tap that no other handler took (stale or forged data) is
still answered, so the user's client stops its spinner."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.text.texts import text
from handlers.common import Context, language_of

log = logging.getLogger(__name__)


async def on_unknown_button(update: Update, _context: Context) -> None:
    """Answer a button press no other handler matched."""
    query = update.callback_query
    if query is None:
        return
    chat_id = update.effective_chat.id if update.effective_chat else None
    log.info("unknown button data %r in chat %s", (query.data or "")[:64], chat_id)
    try:
        await query.answer(text(language_of(update), "button_unavailable"))
    except BadRequest as exc:  # e.g. "query is too old": nothing left to stop
        log.info("could not answer an unknown button press: %s", exc)


def register_stale_buttons(application: Application) -> None:  # type: ignore[type-arg]
    """Add the catch-all. Call it after every other button handler: within a handler group
    the first matching handler wins, so this one only sees what nobody else took."""
    application.add_handler(CallbackQueryHandler(on_unknown_button))
