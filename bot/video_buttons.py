"""The inline keyboard under every delivered video, built in one place (issue 10).

Format buttons: one per shape the video is not ("9:16", "1:1", "16:9"); the provider's video
is landscape. A tap renders the same track in that shape (handlers/render.py).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.rendering import VideoFormat, parse_format
from storage.jobs import Job

FORMAT_PREFIX = "rf:"
_CODES: dict[VideoFormat, str] = {
    VideoFormat.VERTICAL: "v",
    VideoFormat.SQUARE: "s",
    VideoFormat.LANDSCAPE: "l",
}
_BY_CODE = {code: video_format for video_format, code in _CODES.items()}


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


def video_markup(job: Job) -> InlineKeyboardMarkup:
    """The keyboard of a delivered video (every sendVideo of a job uses this one function)."""
    return InlineKeyboardMarkup([format_buttons(job)])


def parse_format_button(data: str | None) -> tuple[int, VideoFormat] | None:
    """(job id, format) from a format button's callback data; None when it is not one."""
    rest = (data or "").removeprefix(FORMAT_PREFIX)
    job_part, _, code = rest.partition(":")
    if not (job_part.isascii() and job_part.isdigit() and len(job_part) <= 18):
        return None
    video_format = _BY_CODE.get(code)
    return None if video_format is None else (int(job_part), video_format)
