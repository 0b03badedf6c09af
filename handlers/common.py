"""Small Telegram-facing pieces every handler module shares: who sent it, language, replying."""

from __future__ import annotations

from telegram import CallbackQuery, Message, ReplyParameters, Update
from telegram.constants import ChatID
from telegram.ext import ContextTypes, filters

from bot.text.commands import AuthorTooLong, BadId, CommandSyntaxError
from bot.text.texts import language_for, text
from storage.jobs import Job, JobRepository

Context = ContextTypes.DEFAULT_TYPE

# New messages and channel posts only: an edit never resubmits (docs/architecture.md §13.7).
NEW_COMMANDS = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST

# Senders that stand for "someone anonymous in this chat", judged by the chat
# (docs/architecture.md §13.6).
_ANONYMOUS_SENDERS = frozenset({ChatID.ANONYMOUS_ADMIN, ChatID.FAKE_CHANNEL})


def sender_id(update: Update) -> int | None:
    """The real user behind an update; None for channel posts and anonymous admins."""
    user = update.effective_user
    if user is None or user.id in _ANONYMOUS_SENDERS:
        return None
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return None  # posted on behalf of a chat
    return user.id


def language_of(update: Update) -> str:
    """The reply language: Russian for `ru` users, else English (docs/architecture.md §13.10)."""
    user = update.effective_user
    return language_for(user.language_code if user else None)


def topic_of(message: Message) -> int | None:
    """The forum topic a message came from, if any."""
    return message.message_thread_id if message.is_topic_message else None


async def reply(message: Message, body: str, **kwargs: object) -> Message:
    """Answer `message` in its chat and topic; still answer if it was deleted meanwhile."""
    return await message.reply_text(
        body,
        reply_parameters=ReplyParameters(
            message_id=message.message_id, allow_sending_without_reply=True
        ),
        **kwargs,  # type: ignore[arg-type]
    )


async def job_under_button(
    update: Update, repo: JobRepository, job_id: int | None
) -> tuple[CallbackQuery, Message, Job] | None:
    """The tap, its message and the job a button names, only when that job belongs to the
    message's chat; a stale or forged button is answered "no longer available" instead."""
    query = update.callback_query
    if query is None:
        return None
    message = query.message if isinstance(query.message, Message) else None
    job = await repo.get(job_id) if job_id is not None and message is not None else None
    if job is None or message is None or job.chat_id != message.chat_id:
        await query.answer(text(language_of(update), "button_unavailable"))
        return None
    return query, message, job


def syntax_error_text(language: str, err: CommandSyntaxError, usage: str) -> str:
    """What a command's bad arguments are answered with: the id that is not one, the author
    that is too long, else the command's usage (catalogue key `usage`)."""
    if isinstance(err, BadId):
        return text(language, "bad_id", value=err.value[:40], name=err.name)
    if isinstance(err, AuthorTooLong):
        return text(language, "author_too_long", length=err.length, limit=err.limit)
    return text(language, usage)
