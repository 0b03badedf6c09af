"""The one status message per job: edited through its phases (docs/architecture.md §4.8)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, TelegramError, TimedOut

from bot.engine.job_model import Phase
from bot.text.render import status_text
from bot.text.texts import text
from storage.jobs import Job

log = logging.getLogger(__name__)

FINAL_PHASES = frozenset({Phase.FAILED, Phase.TIMED_OUT, Phase.UNDELIVERABLE, Phase.DELIVERED})
# Phases whose message carries a "Check status" button (a timed-out job may still turn up).
_CHECKABLE = frozenset(
    {
        Phase.SUBMITTING,
        Phase.QUEUED,
        Phase.RETRYING,
        Phase.MAINTENANCE,
        Phase.RENDERING,
        Phase.UPLOADING,
        Phase.TIMED_OUT,
    }
)
CHECK_STATUS_PREFIX = "st:"
MESSAGE_DEADLINE_SECONDS = 45.0  # one text message or edit, rate-limiter wait included


@asynccontextmanager
async def telegram_deadline(seconds: float) -> AsyncIterator[None]:
    """Bound a Telegram call in total (queueing, retries, a half-open connection); running
    out raises TimedOut, a NetworkError, so callers treat it as any other network failure."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            yield
    except TimeoutError as exc:
        if not deadline.expired():
            raise
        raise TimedOut(f"no answer from Telegram within {seconds:g}s") from exc


def check_status_markup(job: Job, phase: Phase) -> InlineKeyboardMarkup | None:
    """The "Check status" button for a job still on its way, else no keyboard."""
    if phase not in _CHECKABLE:
        return None
    label = text(job.language, "button_check_status")
    button = InlineKeyboardButton(label, callback_data=f"{CHECK_STATUS_PREFIX}{job.id}")
    return InlineKeyboardMarkup([[button]])


def is_not_modified(error: BadRequest) -> bool:
    """Telegram's answer to an edit that changes nothing: not an error for us."""
    return "message is not modified" in error.message.lower()


def is_gone(error: BadRequest) -> bool:
    """The message to edit was deleted or can no longer be edited."""
    lowered = error.message.lower()
    return "message to edit not found" in lowered or "message can't be edited" in lowered


class StatusMessages:
    """Edits (or, when it is gone, re-sends) a job's status message."""

    def __init__(self, bot: Bot, *, job_timeout_minutes: float) -> None:
        self._bot = bot
        self._job_timeout_minutes = job_timeout_minutes

    async def show(self, job: Job, phase: Phase) -> bool:
        """Best effort: a failure to show an intermediate phase is logged, never raised.
        True when the message now shows `phase`."""
        try:
            await self.update(job, phase)
        except TelegramError as exc:
            log.info("job %s: status message not updated (%s): %s", job.id, phase, exc)
            return False
        return True

    async def update(self, job: Job, phase: Phase, *, root_cause: Job | None = None) -> None:
        """Show `phase`; a final phase whose message is gone is sent anew. Raises TelegramError."""
        timeout = self._job_timeout_minutes
        body = status_text(job, phase, job_timeout_minutes=timeout, root_cause=root_cause)
        markup = check_status_markup(job, phase)
        if job.status_message_id is not None:
            try:
                async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
                    await self._bot.edit_message_text(
                        body,
                        chat_id=job.chat_id,
                        message_id=job.status_message_id,
                        reply_markup=markup,
                    )
            except BadRequest as exc:
                if is_not_modified(exc):
                    return
                if not is_gone(exc):
                    raise
            else:
                return
        if phase in FINAL_PHASES and phase is not Phase.DELIVERED:
            async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
                await self._bot.send_message(
                    job.chat_id,
                    body,
                    message_thread_id=job.thread_id,
                    reply_parameters=reply_to(job),
                    reply_markup=markup,
                )


def reply_to(job: Job) -> ReplyParameters | None:
    """Reply to the command message, or send without the reply if it was deleted."""
    if job.command_message_id is None:
        return None
    return ReplyParameters(message_id=job.command_message_id, allow_sending_without_reply=True)
