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
from bot.engine.render_plan import BadPlan, plan_from_json
from bot.rendering import VideoFormat, parse_format
from bot.telegram_io.callback_data import number_after
from bot.telegram_io.loop_buttons import loop_buttons
from bot.text.texts import text
from storage.jobs import Job

FORMAT_PREFIX = "rf:"
TEASER_PREFIX = "tz:"
KARAOKE_PREFIX = "kk:"
LYRICS_PREFIX = "le:"
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
        InlineKeyboardButton(fmt.value, callback_data=format_button_data(job.id, fmt))
        for fmt in _CODES
        if fmt is not shown
    ]


def format_button_data(job_id: int, video_format: VideoFormat) -> str:
    """A format button's callback data: render job `job_id`'s track in `video_format`."""
    return f"{FORMAT_PREFIX}{job_id}:{_CODES[video_format]}"


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
    none under a teaser itself, nor under a karaoke video (a teaser has the vocals)."""
    if job.teaser or job.karaoke:
        return []
    label = text(job.language, "button_teaser")
    return [InlineKeyboardButton(label, callback_data=f"{TEASER_PREFIX}{job.id}")]


def parse_teaser_button(data: str | None) -> int | None:
    """The job id of a Teaser button's callback data; None when it is not one."""
    return number_after(TEASER_PREFIX, data)


def karaoke_button(job: Job) -> list[InlineKeyboardButton]:
    """The Karaoke button (`kk:<job id>`): the sing-along version of the video's track
    (issue 19). None under a karaoke video, an uploaded file's, or a provider's that has no
    vocal separation (vidgo)."""
    family = _family(job.provider)
    if job.karaoke or job.source_file_id is not None or family in {None, Family.UNIFIED}:
        return []
    label = text(job.language, "button_karaoke")
    return [InlineKeyboardButton(label, callback_data=f"{KARAOKE_PREFIX}{job.id}")]


def _family(provider: str) -> Family | None:
    try:
        return PROVIDER_FAMILY[Provider(provider)]
    except ValueError:
        return None


def parse_karaoke_button(data: str | None) -> int | None:
    """The job id of a Karaoke button's callback data; None when it is not one."""
    return number_after(KARAOKE_PREFIX, data)


def lyrics_button(job: Job) -> list[InlineKeyboardButton]:
    """The "✏️ Lyrics" button (`le:<job id>`): edit the words of the video's track (issue 19,
    docs/architecture.md §9.5). None where the track surely has none: an uploaded file, a
    provider without lyrics, or a render whose plan holds an instrumental's empty lyrics."""
    if job.source_file_id is not None or job.provider == Provider.VIDGO.value:
        return []
    if job.render_plan is not None:
        try:
            lyrics = plan_from_json(job.render_plan).lyrics
        except BadPlan:
            lyrics = None
        if lyrics is not None and lyrics.instrumental:
            return []
    label = text(job.language, "button_lyrics")
    return [InlineKeyboardButton(label, callback_data=f"{LYRICS_PREFIX}{job.id}")]


def parse_lyrics_button(data: str | None) -> int | None:
    """The job id of a Lyrics button's callback data; None when it is not one."""
    return number_after(LYRICS_PREFIX, data)


def video_markup(job: Job, *, share_enabled: bool) -> InlineKeyboardMarkup:
    """The keyboard of a delivered video (every sendVideo of a job uses this one function)."""
    rows = [format_buttons(job) + teaser_button(job)]
    # The track's words and its sing-along version: a row of their own (empty rows are left
    # out below).
    rows.append(lyrics_button(job) + karaoke_button(job))
    rows.append(loop_buttons(job))  # 🔁 Loop, ✨ Live (issue 20)
    if share_enabled and job.user_id is not None:  # only its owner can pick it inline
        label = text(job.language, "button_share")
        rows.append([InlineKeyboardButton(label, switch_inline_query=share_query(job.id))])
    return InlineKeyboardMarkup([row for row in rows if row])
