"""Fixing a track's words from Telegram (issue 19, docs/architecture.md §9.5): `/lyrics edit
<taskId> <audioId>`, the "✏️ Lyrics" button under a video, the user's reply, and `/lyrics reset
<taskId> <audioId>`.

The edit waiting for a reply is a row (`lyric_edit_sessions`), never memory, so a restart between
the list and the reply — or between the two halves of a reply — loses nothing. Telegram-facing
only: parsing, applying and storing are `bot.engine.lyric_corrections`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.engine.admission import AccessPolicy
from bot.engine.lyric_corrections import LyricCorrections, NoLyrics
from bot.lyrics.corrected import Applied
from bot.lyrics.edits import CorrectionError
from bot.rendering import parse_format
from bot.telegram_io.video_buttons import (
    LYRICS_PREFIX,
    format_button_data,
    parse_lyrics_button,
)
from bot.text.commands import (
    CommandSyntaxError,
    command_arguments,
    parse_lyrics_edit_args,
)
from bot.text.texts import text
from handlers.common import (
    NEW_COMMANDS,
    Context,
    job_under_button,
    language_of,
    reply,
    sender_id,
    syntax_error_text,
)
from storage.jobs import KIND_RENDER, JobRepository
from storage.lyric_corrections import EditSession, LyricEditSessionRepository

log = logging.getLogger(__name__)

EDIT_LIFETIME = timedelta(days=2)  # how long the bot waits for a reply to its numbered lines
SECOND_MESSAGE_WINDOW = timedelta(minutes=2)  # a correction's second message joins the first
# In a private chat a message that is not a reply counts as the answer only this long after the
# list was sent (later, chatting on with the bot is not taken for a correction).
PLAIN_ANSWER_WINDOW = timedelta(hours=1)
# `/lyrics edit …` and `/lyrics reset …`; every other `/lyrics` is a chat setting
# (handlers/settings.py), so this handler is registered before that one.
EDIT_COMMAND = filters.Regex(r"(?i)^/lyrics(@\w+)?\s+(edit|reset)(\s|$)")
# Only these can be a correction: in a group, a reply (to the numbered lines); in a private chat
# also the next plain message. A busy group's other messages never reach the database.
_REPLIES = (
    filters.UpdateType.MESSAGE
    & filters.TEXT
    & ~filters.COMMAND
    & (filters.ChatType.PRIVATE | filters.REPLY)
)


class LyricsEditHandlers:
    """`/lyrics edit|reset`, the Lyrics button and the replies with corrections."""

    def __init__(
        self,
        *,
        corrections: LyricCorrections,
        sessions: LyricEditSessionRepository,
        repo: JobRepository,
        policy: AccessPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self._corrections = corrections
        self._sessions = sessions
        self._repo = repo
        self._policy = policy
        self._clock = clock

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the handlers; before `/lyrics`'s settings handler (new messages only)."""
        application.add_handler(
            CommandHandler("lyrics", self.on_command, NEW_COMMANDS & EDIT_COMMAND)
        )
        application.add_handler(
            CallbackQueryHandler(self.on_button, pattern=rf"^{LYRICS_PREFIX}\d+$")
        )
        application.add_handler(MessageHandler(_REPLIES, self.on_reply))

    async def on_command(self, update: Update, context: Context) -> None:
        """`/lyrics edit <taskId> <audioId>` or `/lyrics reset <taskId> <audioId>`."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        language = language_of(update)
        try:
            args = parse_lyrics_edit_args(command_arguments(message.text))
        except CommandSyntaxError as err:
            await reply(message, syntax_error_text(language, err, "usage_lyrics_edit"))
            return
        if args is None:
            await reply(message, text(language, "usage_lyrics_edit"))
            return
        user_id = sender_id(update)
        if not self._policy.allows(user_id, message.chat_id):
            await reply(message, text(language, "not_allowed"))
        elif args.action == "reset":
            done = await self._corrections.reset(message.chat_id, args.task_id, args.audio_id)
            await reply(
                message, text(language, "lyrics_reset_done" if done else "lyrics_reset_none")
            )
        elif user_id is None:
            await reply(message, text(language, "lyrics_edit_anonymous"))
        else:
            await self._send_lines(message, language, user_id, args.task_id, args.audio_id)

    async def on_button(self, update: Update, context: Context) -> None:
        """The Lyrics button under a video: the same as `/lyrics edit` for its track, the
        numbered lines replying to the video."""
        query = update.callback_query
        job_id = parse_lyrics_button(query.data if query else None)
        tapped = await job_under_button(update, self._repo, job_id)
        if tapped is None:
            return
        query, message, job = tapped
        language = language_of(update)
        user_id = query.from_user.id if query.from_user else None
        if user_id is None or not self._policy.allows(user_id, message.chat_id):
            await query.answer(text(language, "not_allowed"), show_alert=True)
            return
        await query.answer(text(language, "lyrics_edit_starting"))
        await self._send_lines(message, language, user_id, job.task_id, job.audio_id)

    async def on_reply(self, update: Update, context: Context) -> None:
        """A text message that may be a correction: a reply to the bot's numbered lines from
        the user who asked, or (in a private chat) the next message while an edit waits."""
        message = update.message
        user_id = sender_id(update)
        if message is None or message.text is None or user_id is None:
            return
        session = await self._sessions.get(message.chat_id, user_id)
        if session is None or not self._is_correction(message, session):
            return
        language = language_of(update)
        if session.done_update_id == update.update_id and session.done_reply is not None:
            # This update was handled before a restart: answer it again, change nothing.
            markup = await self._render_markup(session, language)
            await reply(message, session.done_reply, reply_markup=markup)
            return
        await self._correct(update.update_id, message, language, session)

    def _is_correction(self, message: Message, session: EditSession) -> bool:
        now = self._clock().timestamp()
        if now > session.expires_at:
            return False
        replied = message.reply_to_message
        if replied is not None:
            return replied.message_id in session.message_ids
        sent_at = session.expires_at - EDIT_LIFETIME.total_seconds()
        return (
            message.chat.type == ChatType.PRIVATE
            and session.done_update_id is None
            and now - sent_at <= PLAIN_ANSWER_WINDOW.total_seconds()
        )

    async def _correct(
        self, update_id: int, message: Message, language: str, session: EditSession
    ) -> None:
        assert message.text is not None
        now = self._clock().timestamp()
        first = session.first_text
        joins = (
            first is not None
            and session.first_at is not None
            and now - session.first_at <= SECOND_MESSAGE_WINDOW.total_seconds()
        )
        tries = [f"{first}\n{message.text}", message.text] if joins else [message.text]
        failures: list[CorrectionError] = []
        for body in tries:
            try:
                outcome = await self._corrections.apply(
                    session.chat_id, session.task_id, session.audio_id, body
                )
            except CorrectionError as exc:
                failures.append(exc)
                continue
            if isinstance(outcome, NoLyrics):
                await reply(message, text(language, "lyrics_edit_none"))
                return
            markup = await self._render_markup(session, language)
            answer = _saved_text(language, outcome)
            if markup is None:
                command = text(
                    language,
                    "lyrics_edit_render_command",
                    task_id=session.task_id,
                    audio_id=session.audio_id,
                )
                answer = f"{answer}\n{command}"
            await self._sessions.finish(session.chat_id, session.user_id, update_id, answer)
            await reply(message, answer, reply_markup=markup)
            return
        error = failures[0]
        # A reply that fails only for its row count may be the first half of a long list: keep
        # it for one more message (at most two messages make a correction).
        holds = not joins and all(p.line is None for p in error.problems)
        await self._sessions.hold_first(
            session.chat_id, session.user_id, message.text if holds else None
        )
        answer = text(language, "lyrics_edit_failed", problems=problems_text(language, error))
        if holds:
            answer = f"{answer}\n\n{text(language, 'lyrics_edit_send_rest')}"
        await reply(message, answer)

    async def _send_lines(
        self, message: Message, language: str, user_id: int, task_id: str, audio_id: str
    ) -> None:
        """The intro and the numbered lines (plain text), then wait for the user's reply."""
        view = await self._corrections.view(message.chat_id, task_id, audio_id)
        if isinstance(view, NoLyrics):
            key = "lyrics_edit_none" if view.known else "lyrics_edit_unavailable"
            await reply(message, text(language, key))
            return
        track = await self._track_name(task_id, audio_id)
        bodies = [text(language, "lyrics_edit_intro", track=track, count=view.line_count)]
        bodies += view.chunks
        if view.second_lines:
            bodies.append(text(language, "lyrics_edit_seconds", lines=view.second_lines))
        sent = [await reply(message, body) for body in bodies]
        expires = (self._clock() + EDIT_LIFETIME).timestamp()
        await self._sessions.start(
            message.chat_id,
            user_id,
            self._corrections.provider,
            task_id,
            audio_id,
            message_ids=[m.message_id for m in sent],
            expires_at=expires,
        )
        log.info("chat %s: lyrics of %s/%s sent for editing", message.chat_id, task_id, audio_id)

    async def _track_name(self, task_id: str, audio_id: str) -> str:
        """The track's title in quotes when a job of it knows one, else its ids."""
        jobs = await self._repo.find_for_track(self._corrections.provider, task_id, audio_id)
        title = next((job.title for job in jobs if job.title), None)
        return f"«{title}»" if title else f"{task_id} {audio_id}"

    async def _render_markup(
        self, session: EditSession, language: str
    ) -> InlineKeyboardMarkup | None:
        """A button rendering the track again in the chat's latest render format, or None
        (then the answer names the command)."""
        jobs = await self._repo.find_for_track(session.provider, session.task_id, session.audio_id)
        for job in jobs:
            if job.chat_id == session.chat_id and job.kind == KIND_RENDER and not job.teaser:
                video_format = parse_format(job.video_format or "")
                if video_format is None or job.source_file_id is not None:
                    continue
                label = text(language, "button_lyrics_render", video_format=video_format.value)
                data = format_button_data(job.id, video_format)
                return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        return None


def _saved_text(language: str, applied: Applied) -> str:
    key = "lyrics_edit_changed_one" if len(applied.changed) == 1 else "lyrics_edit_changed"
    changes = (
        text(language, key, lines=", ".join(map(str, applied.changed)))
        if applied.changed
        else text(language, "lyrics_edit_unchanged")
    )
    if applied.second_line_count:
        changes = text(
            language, "lyrics_edit_second_count", changes=changes, seconds=applied.second_line_count
        )
    return text(language, "lyrics_edit_saved", changes=changes)


def problems_text(language: str, error: CorrectionError) -> str:
    """The problems of a correction one per line, by line number, in the chat's language."""
    rows = []
    for problem in error.problems:
        reason = text(language, f"lyrics_problem_{problem.key}", **dict(problem.values))
        if problem.line is not None:
            reason = text(language, "lyrics_problem_line", line=problem.line, reason=reason)
        rows.append(reason)
    return "\n".join(rows)
