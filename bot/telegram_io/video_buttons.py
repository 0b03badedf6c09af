"""The inline keyboard under every delivered video, built in one place (pure; no I/O).

Format buttons: one per shape the video is not ("9:16", "1:1", "16:9"; the provider's video is
landscape); a tap renders the same track in that shape (handlers/render.py). "Teaser" makes a
chorus clip of the track (handlers/teaser.py; not under a teaser itself). The "Share" row
opens Telegram's chat picker with `@Bot #<job id>` typed in, which the inline handler
(handlers/inline_share.py) answers with exactly that video. Inline mode must be on in
@BotFather (README): without it (getMe's supports_inline_queries is false) the row is left out.
"""

from __future__ import annotations

import re
from typing import Final

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import PROVIDER_FAMILY, Family, Provider
from bot.rendering import VideoFormat, parse_format
from bot.telegram_io.callback_data import number_after
from bot.text.texts import text
from storage.jobs import Job

FORMAT_PREFIX = "rf:"
TEASER_PREFIX = "tz:"
KARAOKE_PREFIX = "kk:"
_CODES: dict[VideoFormat, str] = {
    VideoFormat.VERTICAL: "v",
    VideoFormat.SQUARE: "s",
    VideoFormat.LANDSCAPE: "l",
}
_BY_CODE = {code: video_format for video_format, code in _CODES.items()}
SHARE_TOKEN_PREFIX: Final = "#"  # noqa: S105 - a query prefix, not a secret
_SHARE_TOKEN = re.compile(r"^#(\d{1,18})$")


def format_of(job: Job) -> VideoFormat:
    """The shape of a job's video: a render's own, else the provider's landscape video."""
    return (parse_format(job.video_format) if job.video_format else None) or VideoFormat.LANDSCAPE


def format_buttons(job: Job) -> list[InlineKeyboardButton]:
    """A button for every format the job's video is not; callback data `rf:<job id>:<code>`."""
    shown = format_of(job)
    return [
        InlineKeyboardButton(fmt.value, callback_data=f"{FORMAT_PREFIX}{job.id}:{code}")
        for fmt, code in _CODES.items()
        if fmt is not shown
    ]


def parse_format_button(data: str | None) -> tuple[int, VideoFormat] | None:
    """(job id, format) from a format button's callback data; None when it is not one."""
    job_part, _, code = (data or "").rpartition(":")
    job_id = number_after(FORMAT_PREFIX, job_part)
    video_format = _BY_CODE.get(code)
    return None if job_id is None or video_format is None else (job_id, video_format)


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


def teaser_button(job: Job) -> list[InlineKeyboardButton]:
    """The Teaser button (`tz:<job id>`): a chorus teaser of the video's track (issue 11);
    none under a teaser itself."""
    if job.teaser:
        return []
    label = text(job.language, "button_teaser")
    return [InlineKeyboardButton(label, callback_data=f"{TEASER_PREFIX}{job.id}")]


def parse_teaser_button(data: str | None) -> int | None:
    """The job id of a Teaser button's callback data; None when it is not one."""
    return number_after(TEASER_PREFIX, data)


def karaoke_row(job: Job) -> list[list[InlineKeyboardButton]]:
    """The Karaoke button's row (`kk:<job id>`): the sing-along version of the video's track
    (issue 19). None under a karaoke video, an uploaded file's, or a provider's that has no
    vocal separation (vidgo)."""
    family = _family(job.provider)
    if job.karaoke or job.source_file_id is not None or family in {None, Family.UNIFIED}:
        return []
    label = text(job.language, "button_karaoke")
    return [[InlineKeyboardButton(label, callback_data=f"{KARAOKE_PREFIX}{job.id}")]]


def _family(provider: str) -> Family | None:
    try:
        return PROVIDER_FAMILY[Provider(provider)]
    except ValueError:
        return None


def parse_karaoke_button(data: str | None) -> int | None:
    """The job id of a Karaoke button's callback data; None when it is not one."""
    return number_after(KARAOKE_PREFIX, data)


def video_markup(job: Job, *, share_enabled: bool) -> InlineKeyboardMarkup:
    """The keyboard of a delivered video (every sendVideo of a job uses this one function)."""
    rows = [format_buttons(job) + teaser_button(job)]
    rows += karaoke_row(job)
    if share_enabled and job.user_id is not None:  # only its owner can pick it inline
        label = text(job.language, "button_share")
        rows.append([InlineKeyboardButton(label, switch_inline_query=share_query(job.id))])
    return InlineKeyboardMarkup(rows)
