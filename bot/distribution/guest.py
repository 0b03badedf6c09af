"""Render it here (guest mode, docs/architecture.md §10.4): what a guest message asks for, the
results that answer it, and the guest editor — the loop step that puts the finished video (by
file_id) or a one-line error into the placeholder's inline message.

A placeholder is a text message (an article result): Telegram lets `editMessageMedia` add media
to a text message, and media edited into an inline message must already be on Telegram's
servers — the render is first posted to the caller's private chat with the bot (their copy),
whose `file_id` is then edited in.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultCachedVideo,
    InputMediaVideo,
    InputTextMessageContent,
    LinkPreviewOptions,
)
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.domain import JobState
from bot.engine.backoff import Backoff
from bot.engine.render_plan import BadPlan, RenderPlan, RenderPreparer, plan_from_json
from bot.telegram_io.status_messages import MESSAGE_DEADLINE_SECONDS, telegram_deadline
from bot.text.render import failure_reason, headline, render_caption
from bot.text.text_limits import CAPTION_LIMIT, fit
from bot.text.texts import text
from storage.guest_queries import GuestAnswers, GuestEdit
from storage.jobs import Job

log = logging.getLogger(__name__)

MAX_EDIT_ATTEMPTS: Final = 20  # about 2 hours of backoff; then the placeholder is left as is
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{3,32})")
# Telegram's words for an inline message that can no longer be edited (deleted, too old).
_GONE = ("message to edit not found", "message_id_invalid", "message can't be edited")


def guest_arguments(message_text: str | None, bot_username: str | None) -> str:
    """The words of a guest message after the bot's own @mentions are taken out."""
    if not message_text:
        return ""
    wanted = (bot_username or "").casefold()

    def drop_ours(match: re.Match[str]) -> str:
        return "" if match.group(1).casefold() == wanted else match.group(0)

    return " ".join(_MENTION.sub(drop_ours, message_text).split())


def article(
    result_id: str,
    title: str,
    body: str,
    *,
    preview: LinkPreviewOptions | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> InlineQueryResultArticle:
    """A text result (a refusal, a placeholder)."""
    return InlineQueryResultArticle(
        id=result_id[:64],
        title=title[:256] or "…",
        input_message_content=InputTextMessageContent(
            body, link_preview_options=preview or LinkPreviewOptions(is_disabled=True)
        ),
        reply_markup=markup,
    )


def placeholder(job: Job, cover_url: str | None) -> InlineQueryResultArticle:
    """The placeholder, "Rendering <title>…": a text message the video is later edited into;
    the cover, when known, is its large link preview above the text."""
    line = rendering_line(job)
    return article(f"render-{job.id}", line, line, preview=cover_preview(cover_url))


def rendering_line(job: Job) -> str:
    """The placeholder's text while the video is being made (before the render has read the
    track's title: "your video", not the track's id)."""
    if job.title is None:
        return text(job.language, "guest_rendering_untitled")
    return text(job.language, "guest_rendering", headline=headline(job))


def cover_preview(cover_url: str | None) -> LinkPreviewOptions | None:
    """The cover shown large above the placeholder's text (None: no preview)."""
    if not cover_url:
        return None
    return LinkPreviewOptions(url=cover_url, prefer_large_media=True, show_above_text=True)


def cached_video(job: Job) -> InlineQueryResultCachedVideo:
    """A video the caller can have at once (an earlier delivery of the same render)."""
    return InlineQueryResultCachedVideo(
        id=f"video-{job.id}",
        video_file_id=job.file_id or "",
        title=fit(lambda head: head, headline(job), 256),
        caption=render_caption(job),
    )


def start_markup(language: str, bot_username: str | None) -> InlineKeyboardMarkup | None:
    """A button opening the bot's private chat (None without a username)."""
    if not bot_username:
        return None
    label = text(language, "guest_start_button", bot=bot_username)
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, url=f"https://t.me/{bot_username}")]])


def settled_text(job: Job, bot_username: str | None) -> str:
    """The one line a placeholder ends with when no video can go in."""
    if job.state is JobState.UNDELIVERABLE and "forbidden" in (job.error or "").casefold():
        return text(job.language, "guest_start_first", bot=bot_username or "the bot")
    if job.state is JobState.UNDELIVERABLE:
        return text(job.language, "guest_not_posted", headline=headline(job))
    if job.state is JobState.TIMED_OUT:
        return text(job.language, "guest_timed_out", headline=headline(job))
    return fit(
        lambda head: text(job.language, "guest_failed", headline=head, reason=failure_reason(job)),
        headline(job),
        CAPTION_LIMIT,
    )


class WakeWhenPrepared:
    """A render preparer that wakes the guest editor once a plan is stored, so a waiting
    placeholder shows the track's title and cover within moments (§10.4)."""

    def __init__(self, preparer: RenderPreparer, wake: Callable[[], None]) -> None:
        self._preparer = preparer
        self._wake = wake

    async def prepare(self, job: Job) -> RenderPlan | None:
        """The wrapped preparer's plan; the guest editor is woken when there is one."""
        plan = await self._preparer.prepare(job)
        if plan is not None:
            self._wake()
        return plan


class GuestEditor:
    """The guest editor loop's step: one settled job's placeholder gets its final content.

    Idempotent: an edit made before a restart and made again is "not modified", which counts
    as done. Network errors and flood waits are retried with backoff."""

    def __init__(
        self,
        *,
        bot: Bot,
        answers: GuestAnswers,
        clock: Callable[[], datetime],
        rng: random.Random,
    ) -> None:
        self._bot = bot
        self._answers = answers
        self._clock = clock
        self._rng = rng
        self._backoff = Backoff(base=2.0, cap=600.0)

    async def process(self, edit: GuestEdit) -> None:
        """Edit the placeholder of `edit.job` into its video, or into why there is none; while
        it renders, once its plan is known, into "Rendering <title>…" with the cover."""
        if not edit.settled:
            await self._dress(edit)
            return
        job, inline_message_id = edit.job, edit.answer.inline_message_id
        try:
            async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
                await self._edit(job, inline_message_id)
        except RetryAfter as exc:
            retry = exc.retry_after
            seconds = retry.total_seconds() if isinstance(retry, timedelta) else float(retry)
            await self._postpone(edit, seconds, str(exc))
            return
        except BadRequest as exc:
            words = exc.message.casefold()
            if "not modified" not in words and not any(gone in words for gone in _GONE):
                await self._postpone(edit, None, str(exc))
                return
            log.info("job %s: placeholder left as it is: %s", job.id, exc)
        except (NetworkError, TimeoutError) as exc:
            await self._postpone(edit, None, str(exc))
            return
        except TelegramError as exc:  # Forbidden and the like: nobody can edit it any more
            log.warning("job %s: placeholder not edited: %s", job.id, exc)
        if await self._answers.finish(job.id):
            log.info("job %s: guest placeholder settled (%s)", job.id, job.state.value)

    async def _dress(self, edit: GuestEdit) -> None:
        """Best effort, once: the placeholder shows the title and cover the render's plan
        names (a failure only leaves the plainer placeholder until the video comes)."""
        job = edit.job
        try:
            plan = plan_from_json(job.render_plan or "")
        except BadPlan:
            plan = None
        if plan is not None and (plan.title or plan.cover_url):
            dressed = replace(job, title=plan.title or job.title)
            try:
                async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
                    await self._bot.edit_message_text(
                        rendering_line(dressed),
                        inline_message_id=edit.answer.inline_message_id,
                        link_preview_options=cover_preview(plan.cover_url)
                        or LinkPreviewOptions(is_disabled=True),
                    )
            except (TelegramError, TimeoutError) as exc:
                log.info("job %s: placeholder not dressed: %s", job.id, exc)
        await self._answers.dressed(job.id)

    async def _edit(self, job: Job, inline_message_id: str) -> None:
        if job.state is JobState.DELIVERED and job.file_id:
            media = InputMediaVideo(
                job.file_id, caption=render_caption(job), supports_streaming=True
            )
            await self._bot.edit_message_media(media, inline_message_id=inline_message_id)
            return
        username = _username(self._bot)
        await self._bot.edit_message_text(
            settled_text(job, username),
            inline_message_id=inline_message_id,
            reply_markup=start_markup(job.language, username)
            if "forbidden" in (job.error or "").casefold()
            else None,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def _postpone(self, edit: GuestEdit, seconds: float | None, why: str) -> None:
        attempts = edit.answer.edit_attempts + 1
        if attempts >= MAX_EDIT_ATTEMPTS:
            log.warning("job %s: gave up editing the placeholder: %s", edit.job.id, why)
            await self._answers.finish(edit.job.id)
            return
        delay = seconds if seconds is not None else self._backoff.delay(attempts, self._rng)
        log.info("job %s: placeholder edit retry in %.1fs (%s)", edit.job.id, delay, why)
        await self._answers.postpone(edit.job.id, self._clock() + timedelta(seconds=delay))


def _username(bot: Bot) -> str | None:
    try:
        return bot.username
    except RuntimeError:  # not initialised (never in the running bot)
        return None
