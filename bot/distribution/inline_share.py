"""Which of a user's videos an inline query (`@Bot words`) offers, and how (pure; no I/O).

Only the asker's own delivered videos are ever passed in; this module picks from them: the
Share button's `#<job id>` selects exactly that video, free words must all appear in the
video's title line (case-insensitive), newest first, each file once, at most 50.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from bot.telegram_io.video_buttons import parse_share_query
from bot.text.render import headline
from bot.text.text_limits import CAPTION_LIMIT, fit
from bot.text.texts import text
from storage.jobs import Job

MAX_RESULTS: Final = 50  # Telegram's limit for one answerInlineQuery


def pick_videos(jobs: Iterable[Job], query: str, limit: int = MAX_RESULTS) -> list[Job]:
    """The videos matching `query` among `jobs` (given newest first)."""
    wanted_id = parse_share_query(query)
    words = [] if wanted_id is not None else query.casefold().split()
    picked: list[Job] = []
    files: set[str] = set()
    for job in jobs:
        if job.file_id is None or job.file_id in files:
            continue
        if wanted_id is not None and job.id != wanted_id:
            continue
        searchable = f"{headline(job)} {job.title or ''}".casefold()
        if all(word in searchable for word in words):
            picked.append(job)
            files.add(job.file_id)
            if len(picked) >= limit:
                break
    return picked


def share_caption(job: Job) -> str:
    """The caption a shared video carries: who and what, within the caption limit."""
    return fit(
        lambda head: text(job.language, "share_caption", headline=head),
        headline(job),
        CAPTION_LIMIT,
    )


def share_title(job: Job) -> str:
    """The result's title in the inline list."""
    return headline(job)


def share_description(job: Job) -> str:
    """The result's second line: the job number and the day it was made."""
    made = (job.delivered_at or job.created_at).strftime("%Y-%m-%d")
    return text(job.language, "share_description", job_id=job.id, date=made)
