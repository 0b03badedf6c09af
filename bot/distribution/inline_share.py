"""Which of a user's videos an inline query (`@Bot words`) asks for, and how they read (pure).

Only the asker's own delivered videos are ever passed in (`storage.jobs.DeliveredVideo`, a
narrow read of the row): the Share button's `#<job id>` selects exactly that video; free words
must all appear in the video's title, author or track id (case-insensitive), newest first, each
file once, at most 50 (docs/architecture.md §10.2).
"""

from __future__ import annotations

from typing import Final

from bot.text.render import headline
from bot.text.text_limits import CAPTION_LIMIT, fit
from bot.text.texts import text
from storage.jobs import DeliveredVideo

MAX_RESULTS: Final = 50  # Telegram's limit for one answerInlineQuery


def search_words(query: str) -> list[str]:
    """The casefolded words every offered video must contain."""
    return query.casefold().split()


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
