"""Telegram's permanent refusals, told apart in one place (docs/architecture.md §6.2): a send
that Telegram will refuse again however often it is retried.

Pure: reads only the error's words. Must not import the job engine, storage or handlers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from telegram.error import TelegramError


class Refusal(StrEnum):
    """Why Telegram will never take this send."""

    RIGHTS = "rights"  # the bot may not post there (any more), or not this kind of message
    FILE_ID = "file_id"  # the file_id is not (any more) valid
    TOO_BIG = "too_big"  # the file is over Telegram's size limit
    CONTENT = "content"  # Telegram will not take this file (its type, its dimensions)


# Telegram's words for "this bot may not post there (any more)" (channels and chats alike).
RIGHTS_LOST: Final = (
    "chat not found",
    "not enough rights",
    "need administrator rights",
    "have no rights",
    "chat_write_forbidden",
    "chat_send_",  # CHAT_SEND_VIDEOS_FORBIDDEN, CHAT_SEND_MEDIA_FORBIDDEN, …
    "channel_private",
    "bot is not a member",
    "bot was kicked",
)
_FILE_ID: Final = (
    "wrong file identifier",
    "wrong remote file identifier",
    "wrong file_id",
    "invalid file_id",
    "invalid file id",
    "file reference",
)
_TOO_BIG: Final = (
    "file is too big",
    "file too large",
    "too big",
    "request entity too large",
)
_CONTENT: Final = (
    "wrong type of the web page content",
    "video_file_invalid",
    "image_process_failed",
    "photo_invalid_dimensions",
    "wrong file type",
)
_KINDS: Final = (
    (Refusal.RIGHTS, RIGHTS_LOST),
    (Refusal.FILE_ID, _FILE_ID),
    (Refusal.TOO_BIG, _TOO_BIG),
    (Refusal.CONTENT, _CONTENT),
)


def permanent_refusal(error: TelegramError) -> Refusal | None:
    """What Telegram refused for good in `error`, or None when a retry may succeed."""
    words = error.message.lower()
    for refusal, phrases in _KINDS:
        if any(phrase in words for phrase in phrases):
            return refusal
    return None


def rights_lost(error: TelegramError) -> bool:
    """Whether `error` says the bot may not post there (any more)."""
    return permanent_refusal(error) is Refusal.RIGHTS
