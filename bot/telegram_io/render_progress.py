"""A render's progress on its status message, with the Cancel button (docs/architecture.md §8.3).

Implements the engine's `ProgressPort` (bot/engine/render_plan.py); the engine never imports
this module (bot/wiring.py hands it over).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from bot.rendering import QueuePosition
from bot.telegram_io.status_messages import (
    MESSAGE_DEADLINE_SECONDS,
    is_gone,
    is_not_modified,
    telegram_deadline,
)
from bot.text.render import render_progress_text
from bot.text.texts import text
from storage.jobs import Job

log = logging.getLogger(__name__)

CANCEL_PREFIX = "rc:"
PROGRESS_INTERVAL_SECONDS = 5.0  # at most one status edit per 5 s while rendering (private)
# In groups Telegram allows 20 messages a minute: progress takes at most 4 of them.
GROUP_PROGRESS_INTERVAL_SECONDS = 15.0


def cancel_markup(job: Job) -> InlineKeyboardMarkup:
    """The Cancel button of a render's status message."""
    label = text(job.language, "button_cancel")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"{CANCEL_PREFIX}{job.id}")]]
    )


def progress_interval(chat_id: int) -> float:
    """The least time between two progress edits in a chat: groups, supergroups and channels
    (negative ids) share Telegram's 20 messages a minute, private chats do not."""
    return GROUP_PROGRESS_INTERVAL_SECONDS if chat_id < 0 else PROGRESS_INTERVAL_SECONDS


class TelegramRenderProgress:
    """The `ProgressPort` on Telegram: each render's progress on its status message."""

    def __init__(self, bot: Bot, *, interval: float | None = None) -> None:
        self._bot = bot
        self._interval = interval

    def for_job(self, job: Job) -> ProgressReporter:
        """A throttled reporter editing `job`'s status message."""
        return ProgressReporter(self._bot, job, interval=self._interval)


class ProgressReporter:
    """Shows a render's queue position and percentage on its status message (throttled)."""

    def __init__(
        self,
        bot: Bot,
        job: Job,
        *,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._job = job
        self._interval = progress_interval(job.chat_id) if interval is None else interval
        self._clock = clock
        self._last = -float("inf")
        self._shown = ""
        self._edit: asyncio.Task[None] | None = None
        self._pending: str | None = None

    def queued(self, position: QueuePosition) -> None:
        """The RenderQueue's callback: renders running or waiting before this one."""
        ahead = position.ahead + position.running
        self._post(render_progress_text(self._job, percent=None, ahead=ahead), force=True)

    def progress(self, fraction: float) -> None:
        """The engine's callback: ffmpeg's progress from 0 to 1."""
        percent = max(0, min(99, int(fraction * 100)))
        self._post(render_progress_text(self._job, percent=percent, ahead=None), force=False)

    async def close(self) -> None:
        """Stop editing (a pending edit is cancelled: the job's next phase comes next)."""
        self._pending = None
        if self._edit is not None:
            self._edit.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._edit

    def _post(self, body: str, *, force: bool) -> None:
        if self._job.status_message_id is None or body == self._shown:
            return
        if not force and self._clock() - self._last < self._interval:
            return
        if self._edit is not None and not self._edit.done():
            self._pending = body  # shown once the edit in flight is answered
            return
        self._start_edit(body)

    def _start_edit(self, body: str) -> None:
        self._last = self._clock()
        self._shown = body
        self._edit = asyncio.create_task(self._send(body), name=f"render-progress-{self._job.id}")

    async def _send(self, body: str) -> None:
        job = self._job
        try:
            async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
                await self._bot.edit_message_text(
                    body,
                    chat_id=job.chat_id,
                    message_id=job.status_message_id,
                    reply_markup=cancel_markup(job),
                )
        except BadRequest as exc:
            if not (is_not_modified(exc) or is_gone(exc)):
                log.info("job %s: progress not shown: %s", job.id, exc)
        except TelegramError as exc:
            log.info("job %s: progress not shown: %s", job.id, exc)
        pending, self._pending = self._pending, None
        if pending is not None and pending != self._shown:
            self._start_edit(pending)
