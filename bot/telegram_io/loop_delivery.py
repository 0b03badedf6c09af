"""Sending a Canvas loop or live photo (issue 20, docs/architecture.md §10.3); delivery.py hands
every render with a `variant` here, by file_id or as the rendered files.

- A **loop** goes out with sendDocument, so Telegram keeps the file byte for byte (a video would
  be re-encoded, and Spotify wants the file as made), with its thumbnail and a caption saying
  where it goes (Spotify for Artists → the track → Canvas).
- A **live photo** goes out with sendLivePhoto: its video (the loop with the hook's audio) and
  its still photo (the loop's first frame). Both file_ids are kept (`file_id`,
  `still_file_id`), so it is sent again by file_id later. Where Telegram refuses it (a
  BadRequest such as LIVE_PHOTO_INVALID, or a Bot API without the method: 404, which
  python-telegram-bot raises as InvalidToken), `LiveRefused` is raised and delivery falls back:
  the live job ends FAILED without a notice and a chorus teaser of the track takes its place
  (its status message too), and the chat is told why in one line.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from telegram import Bot, InputFile, Message
from telegram.error import BadRequest, EndPointNotFound, InvalidToken, TelegramError

from bot.domain import JobState
from bot.engine.job_model import ErrorKind, stand_in_render
from bot.engine.loop_variants import VARIANT_FORMAT
from bot.engine.render_workdirs import remove_work_dir, work_dir_of
from bot.telegram_io.status_messages import (
    MESSAGE_DEADLINE_SECONDS,
    reply_to,
    telegram_deadline,
)
from bot.telegram_io.telegram_refusals import Refusal, permanent_refusal
from bot.text.render import headline
from bot.text.texts import text
from storage.chats import ChatSettingsRepository
from storage.jobs import VARIANT_LIVE, Job, JobRepository

log = logging.getLogger(__name__)

SEND_DEADLINE = 90.0  # by file_id; an upload adds its write and read time


class LiveRefused(Exception):
    """Telegram does not take this live photo (or knows no sendLivePhoto): fall back."""


async def send_variant(
    bot: Bot,
    job: Job,
    media: str | InputFile,
    *,
    thumbnail: InputFile | None,
    still: InputFile | None,
    write: float,
    read: float,
) -> Message:
    """Send a loop (`media` its file_id or file) as a document, or a live photo with its
    still (`still`, else the row's `still_file_id` when `media` is a file_id)."""
    caption = variant_caption(job)
    async with telegram_deadline(SEND_DEADLINE + (0.0 if isinstance(media, str) else write + read)):
        if job.variant != VARIANT_LIVE:
            return await bot.send_document(
                job.chat_id,
                media,
                caption=caption,
                thumbnail=None if isinstance(media, str) else thumbnail,
                disable_content_type_detection=True,
                message_thread_id=job.thread_id,
                reply_parameters=reply_to(job),
                write_timeout=write,
                read_timeout=read,
            )
        photo: str | InputFile | None = still
        if isinstance(media, str):
            photo = job.still_file_id
        if photo is None:  # a file_id without its still: upload both again
            raise BadRequest("the live photo's still has no file_id")
        try:
            return await bot.send_live_photo(
                job.chat_id,
                media,
                photo,
                caption=caption,
                message_thread_id=job.thread_id,
                reply_parameters=reply_to(job),
                write_timeout=write,
                read_timeout=read,
            )
        except (EndPointNotFound, InvalidToken) as exc:  # 404: this Bot API has no such method
            raise LiveRefused(str(exc)) from exc
        except BadRequest as exc:
            if isinstance(media, str) or _not_about_the_photo(exc):
                raise  # a refused file_id: delivery uploads the files; the chat: as any post
            raise LiveRefused(exc.message) from exc


async def resend_variant(bot: Bot, chat_id: int, job: Job, *, topic: int | None) -> Message:
    """A delivered loop or live photo again by its file_id(s) (the history's "send again")."""
    assert job.file_id is not None
    async with telegram_deadline(SEND_DEADLINE):
        if job.variant == VARIANT_LIVE and job.still_file_id is not None:
            return await bot.send_live_photo(
                chat_id,
                job.file_id,
                job.still_file_id,
                caption=variant_caption(job),
                message_thread_id=topic,
            )
        return await bot.send_document(
            chat_id, job.file_id, caption=variant_caption(job), message_thread_id=topic
        )


def _not_about_the_photo(exc: BadRequest) -> bool:
    """Refusals about the chat, the topic or the bot's rights, not the live photo itself."""
    words = exc.message.lower()
    return (
        "chat not found" in words
        or "thread not found" in words
        or permanent_refusal(exc) is Refusal.RIGHTS
    )


def is_quiet(job: Job) -> bool:
    """A loop or live photo nobody asked for in a chat (no command message: the channel
    poster's, bot/distribution/channel_live.py): its failures are logged, never told."""
    return job.variant is not None and job.command_message_id is None


def sent_file_ids(message: Message) -> tuple[str | None, str | None]:
    """The file_id to keep of a sent video, document or live photo, and a live photo's
    still's."""
    if message.live_photo is not None:
        sizes = message.live_photo.photo or message.photo
        return message.live_photo.file_id, sizes[-1].file_id if sizes else None
    if message.document is not None:
        return message.document.file_id, None
    return (message.video.file_id if message.video else None), None


def variant_caption(job: Job) -> str:
    """A loop says what it is and where it goes; a live photo names its track."""
    key = "live_caption" if job.variant == VARIANT_LIVE else "loop_caption"
    return text(job.language, key, headline=headline(job))


async def fall_back_to_teaser(
    *,
    bot: Bot,
    repo: JobRepository,
    chats: ChatSettingsRepository,
    job: Job,
    why: str,
    clock: Callable[[], datetime],
    wake_renderer: Callable[[], None],
    lyrics_revision: Callable[[int, str, str], Awaitable[str | None]] | None = None,
) -> None:
    """The live photo was refused: in one transaction the live job fails without a notice
    and a chorus teaser of the track (the chat's settings, its status message) is written due
    now; then the chat hears why in one line. Only the caller that wins does any of it. A
    quiet live photo (a channel's, `is_quiet`) only fails, with a log line."""
    if is_quiet(job):
        if await repo.transition(
            job.id,
            expected=JobState.SUCCEEDED,
            to=JobState.FAILED,
            error_kind=ErrorKind.LIVE_REFUSED.value,
            error=why[:300],
            next_delivery_at=None,
        ):
            remove_work_dir(work_dir_of(job.output_path))
            log.warning("job %s: live photo refused in chat %s (%s)", job.id, job.chat_id, why)
        return
    defaults = await chats.get(job.chat_id)
    teaser = stand_in_render(
        job,
        due=clock(),
        author=defaults.author,
        domain_name=defaults.domain_name,
        video_format=VARIANT_FORMAT,
        lyrics=defaults.lyrics,
        teaser=True,
        lyric_style=defaults.lyric_style.stored if defaults.lyrics else None,
        look=defaults.look.stored,
        # The chat's corrected words, as every teaser with lyrics in the chat shows them.
        lyrics_revision=(
            await lyrics_revision(job.chat_id, job.task_id, job.audio_id)
            if defaults.lyrics and lyrics_revision is not None
            else None
        ),
    )
    created = await repo.fail_into_fallback(
        job.id,
        expected=JobState.SUCCEEDED,
        error_kind=ErrorKind.LIVE_REFUSED.value,
        error=why[:300],
        render=teaser,
    )
    if created is None:
        return
    remove_work_dir(work_dir_of(job.output_path))
    log.warning("job %s: live photo refused (%s); teaser job %s instead", job.id, why, created.id)
    wake_renderer()
    try:
        async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
            await bot.send_message(
                job.chat_id,
                text(job.language, "live_refused", reason=why[:200]),
                message_thread_id=job.thread_id,
                reply_parameters=reply_to(job),
            )
    except TelegramError as exc:
        log.warning("job %s: could not tell chat %s why: %s", job.id, job.chat_id, exc)
