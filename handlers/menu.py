"""The command menu Telegram shows beside the message field, in English and Russian.

Telegram-facing only; texts come from `bot.text.texts`. Failing to set it is logged, never fatal.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram.error import TelegramError

from bot.text.texts import text

log = logging.getLogger(__name__)

PUBLIC_COMMANDS = (
    "start",
    "help",
    "video",
    "render",
    "teaser",
    "karaoke",
    "loop",
    "status",
    "list",
    "author",
    "domain",
    "lyrics",
    "style",
    "autopost",
)
# (catalogue language, Telegram language_code): None is the menu for every other language.
MENU_LANGUAGES = (("en", None), ("ru", "ru"))


def menu_commands(language: str) -> list[BotCommand]:
    """The public commands with their one-line descriptions in `language`."""
    return [BotCommand(name, text(language, f"menu_{name}")) for name in PUBLIC_COMMANDS]


async def publish_command_menu(bot: Bot) -> None:
    """Set the menu for private and group chats in every language; log what fails."""
    for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeAllGroupChats()):
        for language, code in MENU_LANGUAGES:
            try:
                await bot.set_my_commands(menu_commands(language), scope=scope, language_code=code)
            except TelegramError as exc:
                log.warning("command menu (%s, %s) not set: %s", scope.type, code or "-", exc)
