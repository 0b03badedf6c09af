"""The "🔁 Loop" and "✨ Live" buttons under a delivered video of a provider track (issue 20,
docs/architecture.md §10.3; handlers/loop.py answers them). Pure: no I/O.

Callback data `lp:<job id>` (a Canvas loop) and `lv:<job id>` (a live photo) of the video's
job; none under an uploaded file's render (the buttons stand for "this provider track"), nor
under a loop or live photo itself (those are documents and live photos, not videos).
"""

from __future__ import annotations

from typing import Final

from telegram import InlineKeyboardButton

from bot.telegram_io.callback_data import number_after
from bot.text.texts import text
from storage.jobs import Job

LOOP_PREFIX: Final = "lp:"
LIVE_PREFIX: Final = "lv:"


def loop_buttons(job: Job) -> list[InlineKeyboardButton]:
    """The row of both buttons, or none for a video that cannot have them."""
    if job.source_file_id is not None or job.variant is not None:
        return []
    return [
        InlineKeyboardButton(
            text(job.language, "button_loop"), callback_data=f"{LOOP_PREFIX}{job.id}"
        ),
        InlineKeyboardButton(
            text(job.language, "button_live"), callback_data=f"{LIVE_PREFIX}{job.id}"
        ),
    ]


def parse_loop_button(data: str | None) -> tuple[int, bool] | None:
    """(job id, live photo?) of a Loop or Live button's callback data; None for other data."""
    if (job_id := number_after(LOOP_PREFIX, data)) is not None:
        return job_id, False
    if (job_id := number_after(LIVE_PREFIX, data)) is not None:
        return job_id, True
    return None
