"""`/autopost`: parsing its arguments (pure) and checking a channel with Telegram.

The check asks getChat and getChatMember: the bot must be an administrator of the channel
allowed to post, and the person linking it the channel's creator or an administrator. The
verdict names what is missing as a `bot.text.texts` key; nothing here builds user-facing text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from telegram import Bot, ChatFullInfo, ChatMemberAdministrator
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.distribution.autopost_caption import TEMPLATE_LIMIT
from bot.telegram_io.status_messages import MESSAGE_DEADLINE_SECONDS, telegram_deadline
from bot.text.text_limits import utf16_length

log = logging.getLogger(__name__)

RESET = "-"
_USERNAME = re.compile(r"^(?:@|(?:https?://)?t\.me/)([A-Za-z][A-Za-z0-9_]{3,31})/?$")
_FIRST_WORD = re.compile(r"(\S+)\s*(.*)", re.DOTALL)
_CHANNEL_ID = re.compile(r"^-100\d{1,15}$")
_OWNER_OR_ADMIN = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


class Action(StrEnum):
    """What an `/autopost` command asks for."""

    SHOW = "show"
    OFF = "off"
    CAPTION = "caption"
    LINK = "link"
    LIVE = "live"  # `/autopost live on|off` (issue 20)
    USAGE = "usage"


@dataclass(frozen=True, slots=True)
class AutopostCommand:
    """Parsed `/autopost` arguments."""

    action: Action
    channel: str | int | None = None  # "@name" or a -100… id, for LINK
    template: str | None = None  # for CAPTION: None resets to the default
    live: bool = False  # for LIVE: on or off


class TemplateTooLong(ValueError):
    """A caption template over Telegram's caption limit."""

    def __init__(self, length: int) -> None:
        super().__init__(f"template has {length} characters")
        self.length = length
        self.limit = TEMPLATE_LIMIT


def parse_autopost_args(arguments: str) -> AutopostCommand:
    """The text after `/autopost`: nothing, `off`, `caption <text>`, `live on|off` or a
    channel."""
    stripped = arguments.strip()
    if not stripped:
        return AutopostCommand(Action.SHOW)
    word, rest = _FIRST_WORD.match(stripped).groups()  # type: ignore[union-attr]
    if stripped.lower() == "off":
        return AutopostCommand(Action.OFF)
    if word.lower() == "live":
        return _live_command(rest)
    if word.lower() == "caption":
        template = rest.strip()
        if not template:
            return AutopostCommand(Action.SHOW)
        if utf16_length(template) > TEMPLATE_LIMIT:
            raise TemplateTooLong(utf16_length(template))
        return AutopostCommand(Action.CAPTION, template=None if template == RESET else template)
    return _link_command(stripped)


def _live_command(rest: str) -> AutopostCommand:
    """`live on` or `live off`; anything else is a usage error."""
    switch = rest.strip().lower()
    if switch not in ("on", "off"):
        return AutopostCommand(Action.USAGE)
    return AutopostCommand(Action.LIVE, live=switch == "on")


def _link_command(raw: str) -> AutopostCommand:
    if match := _USERNAME.match(raw):
        return AutopostCommand(Action.LINK, channel=f"@{match.group(1)}")
    if _CHANNEL_ID.match(raw):
        return AutopostCommand(Action.LINK, channel=int(raw))
    return AutopostCommand(Action.USAGE)


@dataclass(frozen=True, slots=True)
class ChannelVerdict:
    """Whether a channel may be linked: its id and name, or the `bot.text.texts` key of what is
    missing."""

    label: str  # how to name the channel to the user
    channel_id: int | None = None
    title: str | None = None
    refusal: str | None = None


async def check_channel(bot: Bot, channel: str | int, user_id: int) -> ChannelVerdict:
    """Ask Telegram whether the bot may post to `channel` and `user_id` administers it."""
    label = str(channel)
    try:
        async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
            chat = await bot.get_chat(channel)
            label = f"@{chat.username}" if chat.username else (chat.title or label)
            missing = await _missing_right(bot, chat, user_id)
    except (BadRequest, Forbidden) as exc:
        log.info("autopost: channel %s refused: %s", channel, exc)
        return ChannelVerdict(label, refusal=_refusal_for(exc))
    except TelegramError as exc:
        log.warning("autopost: could not check channel %s: %s", channel, exc)
        return ChannelVerdict(label, refusal="autopost_check_failed")
    if missing is not None:
        return ChannelVerdict(label, refusal=missing)
    return ChannelVerdict(label, channel_id=chat.id, title=chat.title)


async def _missing_right(bot: Bot, chat: ChatFullInfo, user_id: int) -> str | None:
    """The first thing missing for a link, as a text key; None when nothing is."""
    if chat.type != ChatType.CHANNEL:
        return "autopost_not_a_channel"
    me = await bot.get_chat_member(chat.id, bot.id)
    if me.status != ChatMemberStatus.ADMINISTRATOR:
        return "autopost_bot_not_admin"
    if not (isinstance(me, ChatMemberAdministrator) and me.can_post_messages):
        return "autopost_bot_cannot_post"
    asker = await bot.get_chat_member(chat.id, user_id)
    return None if asker.status in _OWNER_OR_ADMIN else "autopost_user_not_admin"


def _refusal_for(error: BadRequest | Forbidden) -> str:
    """What Telegram's refusal means: no such chat, or the bot may not look into it."""
    lowered = error.message.lower()
    if "not found" in lowered or "invalid" in lowered:
        return "autopost_channel_not_found"
    if isinstance(error, Forbidden) or "member list is inaccessible" in lowered:
        return "autopost_bot_not_admin"
    return "autopost_check_failed"
