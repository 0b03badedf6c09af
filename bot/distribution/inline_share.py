"""Which of a user's videos an inline query (`@Bot words`) asks for, and how they read (pure).

Only the asker's own delivered videos are ever passed in (`storage.jobs.DeliveredVideo`, a
narrow read of the row): the Share button's `#<job id>` selects exactly that video; free words
must all appear in the video's title, author or track id (case-insensitive), newest first, each
file once, at most 50 (docs/architecture.md §10.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from bot.text.render import headline
from bot.text.text_limits import CAPTION_LIMIT, fit
from bot.text.texts import text
from storage.jobs import DeliveredVideo

MAX_RESULTS: Final = 50  # Telegram's limit for one answerInlineQuery
# Asked of storage beyond the 50, for videos whose file another of them already has (a render
# sent again by file_id); more copies than this only shorten the list.
DUPLICATE_SLACK: Final = 10


def search_words(query: str) -> list[str]:
    """The casefolded words every offered video must contain."""
    return query.casefold().split()


def each_file_once(
    videos: Iterable[DeliveredVideo], limit: int = MAX_RESULTS
) -> list[DeliveredVideo]:
    """The videos (given newest first) without a file already offered, at most `limit`."""
    picked: list[DeliveredVideo] = []
    files: set[str] = set()
    for video in videos:
        if video.file_id not in files:
            picked.append(video)
            files.add(video.file_id)
        if len(picked) >= limit:
            break
    return picked


def share_caption(video: DeliveredVideo) -> str:
    """The caption a shared video carries: who and what, within the caption limit."""
    return fit(
        lambda head: text(video.language, "share_caption", headline=head),
        headline(video),
        CAPTION_LIMIT,
    )


def share_title(video: DeliveredVideo) -> str:
    """The result's title in the inline list."""
    return headline(video)


def share_description(video: DeliveredVideo) -> str:
    """The result's second line: the job number and the day it was made."""
    made = video.made_at.strftime("%Y-%m-%d")
    return text(video.language, "share_description", job_id=video.id, date=made)
