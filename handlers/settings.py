"""`/author`, `/domain`, `/lyrics` and `/style`: a chat's default signature, watermark, karaoke
lyrics switch and style, and look (docs/architecture.md §3.2, §9, §9.2, §9.3).

Telegram-facing only: parses the argument, checks who may change a group's defaults, stores
through the chat settings repository and renders via `bot.text.texts`/`bot.text.render`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Bot, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import MAX_AUTHOR_LENGTH, MAX_DOMAIN_LENGTH, Look
from bot.engine.admission import AccessPolicy
from bot.telegram_io.status_messages import is_gone, is_not_modified
from bot.text.commands import (
    AuthorTooLong,
    CommandSyntaxError,
    command_arguments,
    parse_author,
    parse_look,
    parse_lyrics_setting,
    strip_quotes,
)
from bot.text.render import render_chat_settings
from bot.text.texts import text
from handlers.common import NEW_COMMANDS, Context, language_of, reply, sender_id
from storage.chats import ChatSettingsRepository

log = logging.getLogger(__name__)

CLEAR = "-"
_GROUPS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
_ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
LOOK_PREFIX = "lk:"  # a /style button: `lk:<look name>`


class DomainTooLong(CommandSyntaxError):
    """A watermark over the provider's 50-character limit (never cut silently)."""

    def __init__(self, length: int) -> None:
        super().__init__(f"domain has {length} characters")
        self.length = length
        self.limit = MAX_DOMAIN_LENGTH


def parse_domain(raw: str) -> str | None:
    """A watermark value: quotes stripped, empty → None, over the limit → DomainTooLong."""
    domain = strip_quotes(raw)
    if not domain:
        return None
    if len(domain) > MAX_DOMAIN_LENGTH:
        raise DomainTooLong(len(domain))
    return domain


@dataclass(frozen=True, slots=True)
class _Setting:
    """What differs between `/author` and `/domain`."""

    parse: Callable[[str], str | None]
    save: Callable[[int, str | None], Awaitable[None]]
    limit: int
    key: str  # "author" or "domain": the prefix of its sentences


class ChatSettingsHandlers:
    """`/author [name|-]` and `/domain [name|-]`: show, set or clear a chat's default."""

    def __init__(
        self,
        *,
        chats: ChatSettingsRepository,
        policy: AccessPolicy,
        default_domain: str | None,
    ) -> None:
        self._chats = chats
        self._policy = policy
        self._default_domain = default_domain
        self._author = _Setting(parse_author, chats.set_author, MAX_AUTHOR_LENGTH, "author")
        self._domain = _Setting(parse_domain, chats.set_domain, MAX_DOMAIN_LENGTH, "domain")

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the commands (messages and channel posts, never edits)."""
        application.add_handler(CommandHandler("author", self.on_author, NEW_COMMANDS))
        application.add_handler(CommandHandler("domain", self.on_domain, NEW_COMMANDS))
        application.add_handler(CommandHandler("lyrics", self.on_lyrics, NEW_COMMANDS))
        application.add_handler(CommandHandler("style", self.on_style, NEW_COMMANDS))
        application.add_handler(
            CallbackQueryHandler(self.on_look_button, pattern=rf"^{LOOK_PREFIX}[a-z]+$")
        )

    async def on_author(self, update: Update, context: Context) -> None:
        """Show, set or clear the chat's default author."""
        await self._handle(update, context.bot, self._author)

    async def on_domain(self, update: Update, context: Context) -> None:
        """Show, set or clear the chat's default watermark."""
        await self._handle(update, context.bot, self._domain)

    async def on_lyrics(self, update: Update, context: Context) -> None:
        """`/lyrics on|off` turns karaoke lyrics in this chat's renders on or off (issue 11);
        `/lyrics sweep|pop` sets how they highlight the sung words and turns them on (issue
        18); `/lyrics` shows the setting. Admins only in groups, as /author."""
        asked = await self._arguments(update)
        if asked is None:
            return
        message, language, raw = asked
        if not raw:
            settings = await self._chats.get(message.chat_id)
            key = "lyrics_state_on" if settings.lyrics else "lyrics_state_off"
            style = text(language, f"lyric_style_{settings.lyric_style.value}")
            await reply(message, text(language, key, style=style))
            return
        setting = parse_lyrics_setting(raw)
        if setting is None:
            await reply(message, text(language, "usage_lyrics"))
        elif await self._may_change(context.bot, message, language):
            if setting.style is not None:
                await self._chats.set_lyric_style(message.chat_id, setting.style)
            await self._chats.set_lyrics(message.chat_id, setting.on)
            if setting.style is not None:
                key = f"lyrics_saved_{setting.style.value}"
            else:
                key = "lyrics_saved_on" if setting.on else "lyrics_saved_off"
            await reply(message, text(language, key))

    async def on_style(self, update: Update, context: Context) -> None:
        """`/style` shows the chat's look with a button per look; `/style <name>` sets it
        (issue 18). Admins only in groups, as /lyrics."""
        asked = await self._arguments(update)
        if asked is None:
            return
        message, language, raw = asked
        if not raw:
            current = (await self._chats.get(message.chat_id)).look
            await reply(message, look_text(language, current), reply_markup=look_markup(current))
            return
        look = parse_look(raw)
        if look is None:
            await reply(message, text(language, "usage_style"))
        elif await self._may_change(context.bot, message, language):
            await self._chats.set_look(message.chat_id, look)
            await reply(message, text(language, f"look_saved_{look.value}"))

    async def on_look_button(self, update: Update, context: Context) -> None:
        """A look's button under `/style`'s answer: set it (admins only in groups), answer the
        tap and show the new choice in the same message."""
        query = update.callback_query
        if query is None:
            return
        language = language_of(update)
        look = parse_look((query.data or "").removeprefix(LOOK_PREFIX))
        message = query.message if isinstance(query.message, Message) else None
        user_id = query.from_user.id if query.from_user else None
        if look is None or message is None or not self._policy.allows(user_id, message.chat_id):
            await query.answer(text(language, "button_unavailable"))
            return
        may_change = await _is_admin(context.bot, message.chat, user_id)
        if not may_change:
            refusal = (
                "settings_admins_only" if may_change is False else "settings_admin_check_failed"
            )
            await query.answer(text(language, refusal), show_alert=True)
            return
        await self._chats.set_look(message.chat_id, look)
        await query.answer(text(language, f"look_name_{look.value}"))
        try:
            await message.edit_text(look_text(language, look), reply_markup=look_markup(look))
        except BadRequest as exc:  # the same look tapped again, or the message is gone
            if not (is_not_modified(exc) or is_gone(exc)):
                raise

    async def _handle(self, update: Update, bot: Bot, setting: _Setting) -> None:
        asked = await self._arguments(update)
        if asked is None:
            return
        message, language, raw = asked
        if not raw:
            hint = text(language, f"settings_{setting.key}_hint", limit=setting.limit)
            await reply(message, f"{await self._summary(message.chat_id, language)}\n\n{hint}")
            return
        if not await self._may_change(bot, message, language):
            return
        try:
            value = None if raw == CLEAR else setting.parse(raw)
        except (AuthorTooLong, DomainTooLong) as err:
            key = (
                "author_too_long" if isinstance(err, AuthorTooLong) else "settings_domain_too_long"
            )
            await reply(message, text(language, key, length=err.length, limit=err.limit))
            return
        await setting.save(message.chat_id, value)
        state = "saved" if value else "cleared"
        done = text(language, f"settings_{setting.key}_{state}", value=value)
        await reply(message, f"{done}\n\n{await self._summary(message.chat_id, language)}")

    async def _arguments(self, update: Update) -> tuple[Message, str, str] | None:
        """The command's message, language and first-line argument; None (after saying so
        when the sender is not allowed) when there is nothing to do."""
        message = update.effective_message
        if message is None or message.text is None:
            return None
        language = language_of(update)
        if not self._policy.allows(sender_id(update), message.chat_id):
            await reply(message, text(language, "not_allowed"))
            return None
        raw = command_arguments(message.text).strip().split("\n", 1)[0].strip()
        return message, language, raw

    async def _may_change(self, bot: Bot, message: Message, language: str) -> bool:
        """Whether the sender may change this chat's defaults; says why not when not."""
        may_change = await _may_change_settings(bot, message)
        if not may_change:
            refusal = (
                "settings_admins_only" if may_change is False else "settings_admin_check_failed"
            )
            await reply(message, text(language, refusal))
        return bool(may_change)

    async def _summary(self, chat_id: int, language: str) -> str:
        settings = await self._chats.get(chat_id)
        return render_chat_settings(language, settings, self._default_domain)


def look_text(language: str, look: Look) -> str:
    """`/style`'s answer: the chat's look and what each one does."""
    looks = "\n".join(text(language, f"look_line_{each.value}") for each in Look)
    return text(language, "look_state", look=look.value, looks=looks)


def look_markup(current: Look) -> InlineKeyboardMarkup:
    """One button per look, the chat's own ticked."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"✓ {look.value}" if look is current else look.value,
                    callback_data=f"{LOOK_PREFIX}{look.value}",
                )
                for look in Look
            ]
        ]
    )


async def _may_change_settings(bot: Bot, message: Message) -> bool | None:
    """True for private chats, channels and group admins; None when Telegram could not say.

    An anonymous admin posts as the group itself (`sender_chat` is the chat); someone posting as
    another chat (their own channel) is not known to be an admin.
    """
    chat = message.chat
    if chat.type not in _GROUPS:
        return True
    if message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    if message.from_user is None:
        return False
    return await _is_admin(bot, chat, message.from_user.id)


async def _is_admin(bot: Bot, chat: Chat, user_id: int | None) -> bool | None:
    """True outside groups and for a group's admins; None when Telegram could not say."""
    if chat.type not in _GROUPS:
        return True
    if user_id is None:
        return False
    try:
        member = await bot.get_chat_member(chat.id, user_id)
    except TelegramError as exc:
        log.warning("chat %s: could not check admin status: %s", chat.id, exc)
        return None
    return member.status in _ADMIN_STATUSES
