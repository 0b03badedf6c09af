"""The inline keyboard under a delivered video, built in one place (pure; no I/O).

The "Share" row opens Telegram's chat picker with `@Bot #<job id>` typed in, which the inline
handler (handlers/inline_share.py) answers with exactly that video. Inline mode must be on in
@BotFather (README): without it (getMe's supports_inline_queries is false) the row is left out.
"""

from __future__ import annotations

import re
from typing import Final

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import text
from storage.jobs import Job

SHARE_TOKEN_PREFIX: Final = "#"  # noqa: S105 - a query prefix, not a secret
_SHARE_TOKEN = re.compile(r"^#(\d{1,18})$")


def share_query(job_id: int) -> str:
    """The inline query that selects exactly one video."""
    return f"{SHARE_TOKEN_PREFIX}{job_id}"


def parse_share_query(query: str) -> int | None:
    """The job id a Share button's query names, or None for free words."""
    match = _SHARE_TOKEN.match(query.strip())
    return int(match.group(1)) if match else None


def inline_sharing_enabled(bot: Bot) -> bool:
    """Whether inline mode is on for this bot (read by getMe when the bot started)."""
    try:
        return bool(bot.bot.supports_inline_queries)
    except RuntimeError:  # not initialized: getMe never answered
        return False


def video_markup(job: Job, *, share_enabled: bool) -> InlineKeyboardMarkup | None:
    """The buttons under a delivered video, or None when it has none."""
    rows: list[list[InlineKeyboardButton]] = []
    if share_enabled and job.user_id is not None:  # only its owner can pick it inline
        label = text(job.language, "button_share")
        rows.append([InlineKeyboardButton(label, switch_inline_query=share_query(job.id))])
    return InlineKeyboardMarkup(rows) if rows else None
