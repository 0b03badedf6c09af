"""`/status [job]`, `/list` and the buttons they carry: look back at this chat's jobs.

Telegram-facing only: reads jobs through the repository, checks through the jobs service, and
renders via `bot.text.texts`/`bot.text.render`. A chat only ever sees its own jobs, whatever a
button says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    Update,
)
from telegram.constants import CallbackQueryLimit
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import JobState
from bot.engine.jobs import JobService
from bot.telegram_io.callback_data import number_after
from bot.telegram_io.delivery import SEND_DEADLINE, SEND_READ_TIMEOUT
from bot.telegram_io.loop_delivery import resend_variant
from bot.telegram_io.status_messages import (
    CHECK_STATUS_PREFIX,
    MESSAGE_DEADLINE_SECONDS,
    StatusMessages,
    check_status_markup,
    is_gone,
    is_not_modified,
    telegram_deadline,
)
from bot.telegram_io.video_buttons import inline_sharing_enabled, video_markup
from bot.text.render import (
    headline,
    link_message,
    phase_of,
    render_caption,
    status_text,
    video_caption,
)
from bot.text.text_limits import shorten
from bot.text.texts import text
from handlers.common import NEW_COMMANDS, Context, language_of, reply, topic_of
from storage.jobs import KIND_RENDER, Job, JobRepository

LIST_PREFIX = "ls:"
RESEND_PREFIX = "rs:"
PAGE_SIZE = 5
LABEL_LIMIT = 40  # characters; longer button labels are cut on phone screens anyway
_TOAST_LIMIT = CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH
_JOB_NUMBER = re.compile(r"#?(\d{1,18})")
_ICONS = {
    JobState.SUBMITTING: "⏳",
    JobState.PENDING: "⏳",
    JobState.SUCCEEDED: "📤",
    JobState.DELIVERED: "✅",
    JobState.FAILED: "❌",
    JobState.TIMED_OUT: "⌛",
    JobState.UNDELIVERABLE: "⚠️",
}
# States whose next status-message edit the engine makes itself (a submit or a delivery is
# under way): editing it here too could land after the engine's edit and show a stale phase.
_ENGINE_SHOWS_NEXT = frozenset({JobState.SUBMITTING, JobState.SUCCEEDED})
# States with a video to send again from the list: posted, or given up on while its link works.
_SENDABLE = frozenset({JobState.DELIVERED, JobState.UNDELIVERABLE})


class HistoryHandlers:
    """`/status`, `/list`, the list's buttons and every "Check status" button."""

    def __init__(
        self,
        *,
        jobs: JobService,
        repo: JobRepository,
        status: StatusMessages,
        retention_days: int,
        job_timeout_minutes: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._jobs = jobs
        self._repo = repo
        self._status = status
        self._retention_days = retention_days
        self._timeout = job_timeout_minutes
        self._clock = clock
        self._checking: set[int] = set()  # jobs a tap is checking right now: one poll per job

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the commands (messages and channel posts, never edits) and the button handlers."""
        application.add_handler(CommandHandler("status", self.on_status, NEW_COMMANDS))
        application.add_handler(CommandHandler("list", self.on_list, NEW_COMMANDS))
        application.add_handler(CallbackQueryHandler(self.on_page, pattern=f"^{LIST_PREFIX}"))
        application.add_handler(CallbackQueryHandler(self.on_resend, pattern=f"^{RESEND_PREFIX}"))
        # The check waits for the upstream: let the chat's next updates run meanwhile (the
        # inbox keeps the tap pending until it ends, docs/architecture.md §2.1).
        application.add_handler(
            CallbackQueryHandler(self.on_check, pattern=f"^{CHECK_STATUS_PREFIX}", block=False)
        )

    async def on_status(self, update: Update, context: Context) -> None:
        """The chat's latest job, or job number N of this chat."""
        message = update.effective_message
        if message is None:
            return
        language = language_of(update)
        args = context.args or []
        number = _JOB_NUMBER.fullmatch(args[0]) if len(args) == 1 else None
        if args and number is None:
            await reply(message, text(language, "history_usage_status"))
            return
        if number is not None:
            job = await self._job_of_chat(int(number[1]), message.chat_id)
            missing = text(language, "history_no_such_job", job_id=int(number[1]))
        else:
            latest = await self._repo.latest_for_chat(message.chat_id, limit=1)
            job = latest[0] if latest else None
            missing = text(language, "no_jobs")
        if job is None:
            await reply(message, missing)
            return
        job = replace(job, language=language)
        markup = check_status_markup(job, phase_of(job.state))
        await reply(message, self._card(job), reply_markup=markup)

    async def on_list(self, update: Update, context: Context) -> None:
        """The chat's recent jobs as buttons, newest first, one page at a time."""
        message = update.effective_message
        if message is not None:
            body, markup = await self._page(message.chat_id, 0, language_of(update))
            await reply(message, body, reply_markup=markup)

    async def on_page(self, update: Update, context: Context) -> None:
        """◀ / ▶ under a list: show that page in the same message."""
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        if query.message is None:
            return
        offset = number_after(LIST_PREFIX, query.data) or 0
        body, markup = await self._page(query.message.chat.id, offset, language_of(update))
        await _edit(context.bot, query.message, body, markup)

    async def on_resend(self, update: Update, context: Context) -> None:
        """A job in a list: post a finished video again (by file_id), else say where it is."""
        query = update.callback_query
        if query is None:
            return
        language = language_of(update)
        job = await self._tapped_job(query.data, query.message, RESEND_PREFIX)
        if job is None or query.message is None:
            await query.answer(text(language, "history_not_found"))
            return
        job = replace(job, language=language)
        now = self._clock()
        if job.state in _SENDABLE and (job.file_id or self._link_valid(job, now)):
            await query.answer()
            await self._send_again(context.bot, query.message, job, now)
            return
        if job.state is JobState.DELIVERED:
            await query.answer(text(language, "history_link_expired"))
            return
        sentence = status_text(job, phase_of(job.state), job_timeout_minutes=self._timeout)
        await query.answer(_toast(sentence))
        if len(sentence) > _TOAST_LIMIT and isinstance(query.message, Message):
            await reply(query.message, self._card(job))

    async def on_check(self, update: Update, context: Context) -> None:
        """ "Check status": answer at once, ask the upstream, then show what it said."""
        query = update.callback_query
        if query is None:
            return
        language = language_of(update)
        job = await self._tapped_job(query.data, query.message, CHECK_STATUS_PREFIX)
        if job is None or query.message is None:
            await query.answer(text(language, "history_not_found"))
            return
        await query.answer(text(language, "history_checking"))
        if job.id in self._checking:
            return  # another tap is asking the upstream; it will show the answer
        self._checking.add(job.id)
        try:
            job = await self._jobs.check_now(job.id) or job
        finally:
            self._checking.discard(job.id)
        await self._show_checked(context.bot, query.message, job, language)

    async def _show_checked(
        self, bot: Bot, message: MaybeInaccessibleMessage, job: Job, language: str
    ) -> None:
        """Edit the message that carried the button: the job's status message, or a card."""
        if message.message_id == job.status_message_id:
            if job.state not in _ENGINE_SHOWS_NEXT:
                await self._status.update(job, phase_of(job.state))  # "not modified" is fine
            return
        job = replace(job, language=language)
        markup = check_status_markup(job, phase_of(job.state))
        await _edit(bot, message, self._card(job), markup)

    async def _send_again(
        self, bot: Bot, message: MaybeInaccessibleMessage, job: Job, now: datetime
    ) -> None:
        """The video by its Telegram file_id (no provider link needed), else its link."""
        topic = topic_of(message) if isinstance(message, Message) else None
        if job.file_id is None:
            assert job.video_url is not None  # `_link_valid` said so
            await self._send_from_link(
                bot, message.chat.id, job, job.video_url, topic=topic, now=now
            )
            return
        if job.variant is not None:  # a Canvas loop or live photo (issue 20)
            await resend_variant(bot, message.chat.id, job, topic=topic)
            return
        if job.kind == KIND_RENDER:  # our own file: no provider link to date
            caption = render_caption(job)
        elif self._link_valid(job, now):
            caption = video_caption(job, self._retention_days, now)
        else:  # the caption's "link valid until" would be a date in the past
            caption = text(job.language, "history_resend_caption", headline=headline(job))
        await bot.send_video(
            message.chat.id,
            job.file_id,
            caption=caption,
            supports_streaming=True,
            message_thread_id=topic,
            reply_markup=video_markup(job, share_enabled=inline_sharing_enabled(bot)),
        )

    async def _send_from_link(
        self, bot: Bot, chat_id: int, job: Job, url: str, *, topic: int | None, now: datetime
    ) -> None:
        """The video by its provider link (Telegram fetches it), else the link itself."""
        try:
            async with telegram_deadline(SEND_DEADLINE):
                await bot.send_video(
                    chat_id,
                    url,
                    caption=video_caption(job, self._retention_days, now),
                    supports_streaming=True,
                    message_thread_id=topic,
                    read_timeout=SEND_READ_TIMEOUT,
                )
        except BadRequest:  # Telegram cannot fetch it (too large, refused): the link
            body = link_message(job, url, self._retention_days, now)
            async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
                await bot.send_message(chat_id, body, message_thread_id=topic)

    async def _page(
        self, chat_id: int, offset: int, language: str
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The list text and buttons for the page starting at `offset` (clamped)."""
        total = await self._repo.count_for_chat(chat_id)
        if total == 0:
            return text(language, "no_jobs"), None
        offset = min(offset - offset % PAGE_SIZE, (total - 1) // PAGE_SIZE * PAGE_SIZE)
        jobs = await self._repo.latest_for_chat(chat_id, limit=PAGE_SIZE, offset=offset)
        last = offset + len(jobs)
        body = text(language, "history_list_header", first=offset + 1, last=last, total=total)
        return body, list_markup(jobs, offset, total)

    async def _tapped_job(
        self, data: str | None, message: MaybeInaccessibleMessage | None, prefix: str
    ) -> Job | None:
        """The job a button names, only if it belongs to the chat the button is in."""
        job_id = number_after(prefix, data)
        if job_id is None or message is None:
            return None
        return await self._job_of_chat(job_id, message.chat.id)

    async def _job_of_chat(self, job_id: int, chat_id: int) -> Job | None:
        job = await self._repo.get(job_id)
        return job if job is not None and job.chat_id == chat_id else None

    def _link_valid(self, job: Job, now: datetime) -> bool:
        """Whether the provider's link to the video still works."""
        if job.video_url is None or job.completed_at is None:
            return False
        return job.completed_at + timedelta(days=self._retention_days) > now

    def _card(self, job: Job) -> str:
        """What `/status` says about one job, in `job.language`."""
        extras = ""
        if job.author:
            extras += text(job.language, "history_author", author=job.author)
        if job.domain_name:
            extras += text(job.language, "history_domain", domain=job.domain_name)
        state = status_text(job, phase_of(job.state), job_timeout_minutes=self._timeout)
        return text(
            job.language,
            "history_card",
            job_id=job.id,
            track=job.title or job.audio_id,
            extras=extras,
            state=state,
        )


def button_label(job: Job) -> str:
    """A list button: state icon, job number, track, author; cut to fit a phone screen."""
    parts = [job.title or job.audio_id, *([job.author] if job.author else [])]
    icon = "🔗" if job.state is JobState.DELIVERED and not job.file_id else _ICONS[job.state]
    label = f"{icon} #{job.id} {' · '.join(parts)}"
    return shorten(label, LABEL_LIMIT)


def list_markup(jobs: Sequence[Job], offset: int, total: int) -> InlineKeyboardMarkup:
    """One button per job, then ◀ / ▶ where there is a page before or after."""
    rows = [
        [InlineKeyboardButton(button_label(job), callback_data=f"{RESEND_PREFIX}{job.id}")]
        for job in jobs
    ]
    paging = []
    if offset > 0:
        previous = max(0, offset - PAGE_SIZE)
        paging.append(InlineKeyboardButton("◀", callback_data=f"{LIST_PREFIX}{previous}"))
    if offset + len(jobs) < total:
        following = offset + PAGE_SIZE
        paging.append(InlineKeyboardButton("▶", callback_data=f"{LIST_PREFIX}{following}"))
    if paging:
        rows.append(paging)
    return InlineKeyboardMarkup(rows)


def _toast(sentence: str) -> str:
    """A callback answer shows at most 200 characters."""
    return shorten(sentence, _TOAST_LIMIT)


async def _edit(
    bot: Bot, message: MaybeInaccessibleMessage, body: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Edit a message in place; unchanged content or a message that is gone is no error."""
    try:
        await bot.edit_message_text(
            body, chat_id=message.chat.id, message_id=message.message_id, reply_markup=markup
        )
    except BadRequest as exc:
        if not (is_not_modified(exc) or is_gone(exc)):
            raise
