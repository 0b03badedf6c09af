"""Our own renderer from Telegram (issue 10): `/render`, audio uploads, the format buttons under
every video and the Cancel button of a render's status message. Telegram-facing only: parses,
checks who may do what and hands the request to `JobStarter` or `RenderJobs`."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.engine.admission import AccessPolicy
from bot.engine.render_jobs import RenderJobs
from bot.rendering import VideoFormat, format_token
from bot.telegram_io.callback_data import number_after
from bot.telegram_io.render_progress import CANCEL_PREFIX
from bot.telegram_io.video_buttons import FORMAT_PREFIX, parse_format_button
from bot.text.commands import (
    CommandSyntaxError,
    command_arguments,
    parse_render_args,
)
from bot.text.texts import text
from handlers.commands import PickerOffer
from handlers.common import (
    NEW_COMMANDS,
    Context,
    job_under_button,
    language_of,
    reply,
    syntax_error_text,
)
from handlers.submit import JobStarter, RenderSource
from storage.jobs import Job, JobRepository

UPLOAD_TASK_ID = "upload"  # the task id of renders of uploaded files (audio id: the file's)
DOWNLOAD_LIMIT_BYTES = 20 * 1024 * 1024  # what a bot may download on the public Bot API server
_ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
_AUDIO_FILES = filters.AUDIO | filters.VOICE | filters.Document.AUDIO


@dataclass(frozen=True, slots=True)
class AudioFile:
    """An audio file someone sent: what a render of it needs."""

    file_id: str
    unique_id: str
    name: str
    size: int | None


def audio_of(message: Message | None) -> AudioFile | None:
    """The audio file of an audio message, a voice message or an audio document."""
    if message is None:
        return None
    if message.audio is not None:
        a = message.audio
        name = a.file_name or a.title or "audio"
        return AudioFile(a.file_id, a.file_unique_id, name, a.file_size)
    if message.voice is not None:
        v = message.voice
        return AudioFile(v.file_id, v.file_unique_id, "voice.ogg", v.file_size)
    doc = message.document
    if doc is not None and (doc.mime_type or "").startswith("audio/"):
        return AudioFile(doc.file_id, doc.file_unique_id, doc.file_name or "audio", doc.file_size)
    return None


class RenderHandlers:
    """`/render`, audio uploads in private chats, format buttons and Cancel."""

    def __init__(
        self,
        *,
        starter: JobStarter,
        picker: PickerOffer,
        renders: RenderJobs,
        repo: JobRepository,
        policy: AccessPolicy,
    ) -> None:
        self._starter = starter
        self._picker = picker
        self._renders = renders
        self._repo = repo
        self._policy = policy

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the handlers (new messages only, never edits)."""
        application.add_handler(CommandHandler("render", self.on_render, NEW_COMMANDS))
        private_audio = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & _AUDIO_FILES
        application.add_handler(MessageHandler(private_audio, self.on_audio))
        application.add_handler(CallbackQueryHandler(self.on_format, pattern=f"^{FORMAT_PREFIX}"))
        # Cancel waits for ffmpeg to end: let the chat's next updates run meanwhile (the inbox
        # keeps the tap pending until it ends, docs/architecture.md §2.1).
        application.add_handler(
            CallbackQueryHandler(self.on_cancel, pattern=rf"^{CANCEL_PREFIX}\d+$", block=False)
        )

    async def on_render(self, update: Update, context: Context) -> None:
        """`/render <taskId> <audioId> [format] [author]`, `/render <taskId>` (the picker) or
        `/render [format]` replying to an audio file."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        language = language_of(update)
        try:
            args = parse_render_args(command_arguments(message.text), format_token)
        except CommandSyntaxError as err:
            await reply(message, syntax_error_text(language, err, "usage_render"))
            return
        video_format = args.video_format or VideoFormat.VERTICAL.value
        if args.task_id is None and message.reply_to_message is None:
            await reply(message, text(language, "usage_render"))
        elif args.task_id is None:
            await self._render_upload(update, message.reply_to_message, video_format, message)
        elif args.audio_id is None:
            await self._picker.offer(
                update, message, args.task_id, args.author, video_format, lyrics=args.lyrics
            )
        else:
            await self._starter.start(
                update,
                message,
                task_id=args.task_id,
                audio_id=args.audio_id,
                author=args.author,
                render=RenderSource(video_format, lyrics=args.lyrics),
            )

    async def on_audio(self, update: Update, context: Context) -> None:
        """An audio file sent in a private chat: render it (the caption may name a format)."""
        message = update.effective_message
        if message is None:
            return
        words = (message.caption or "").split()
        video_format = format_token(words[0]) if words else None
        await self._render_upload(update, message, video_format or "9:16", message)

    async def on_format(self, update: Update, context: Context) -> None:
        """A format button under a video: render that video's track in that format."""
        query = update.callback_query
        parsed = parse_format_button(query.data if query else None)
        tapped = await job_under_button(update, self._repo, parsed[0] if parsed else None)
        if tapped is None or parsed is None:
            return
        query, message, job = tapped
        language = language_of(update)
        video_format = parsed[1].value
        await query.answer(text(language, "render_starting", video_format=video_format))
        await self._starter.start(
            update,
            message,
            task_id=job.task_id,
            audio_id=job.audio_id,
            author=job.author,
            title=job.title,
            # Under a karaoke video the other shapes are karaoke too.
            render=RenderSource(
                video_format, job.source_file_id, job.source_file_name, karaoke=job.karaoke
            ),
        )

    async def on_cancel(self, update: Update, context: Context) -> None:
        """Cancel: the job's owner, a chat admin or a bot admin stops its render."""
        query = update.callback_query
        job_id = number_after(CANCEL_PREFIX, query.data if query else None)
        tapped = await job_under_button(update, self._repo, job_id)
        if tapped is None:
            return
        query, _, job = tapped
        language = language_of(update)
        if not await self._may_cancel(context, job, query.from_user.id):
            await query.answer(text(language, "render_cancel_denied"), show_alert=True)
            return
        done = await self._renders.cancel(job.id)
        await query.answer(
            text(language, "render_cancel_done" if done else "render_cancel_too_late")
        )

    async def _render_upload(
        self, update: Update, source: Message | None, video_format: str, command: Message
    ) -> None:
        """Render the audio file of `source` (the video replies to it), or say why not."""
        language = language_of(update)
        audio = audio_of(source)
        if audio is None or source is None:
            await reply(command, text(language, "render_reply_to_audio"))
            return
        if audio.size is not None and audio.size > DOWNLOAD_LIMIT_BYTES:
            size, limit = f"{audio.size / 1024 / 1024:.1f}", DOWNLOAD_LIMIT_BYTES // 1024 // 1024
            await reply(command, text(language, "audio_too_big", size=size, limit=limit))
            return
        await self._starter.start(
            update,
            source,
            task_id=UPLOAD_TASK_ID,
            audio_id=audio.unique_id,
            author=None,
            render=RenderSource(video_format, audio.file_id, audio.name),
        )

    async def _may_cancel(self, context: Context, job: Job, user_id: int) -> bool:
        if user_id == job.user_id or self._policy.is_admin(user_id):
            return True
        try:
            member = await context.bot.get_chat_member(job.chat_id, user_id)
        except BadRequest:  # e.g. a private chat: only its owner may
            return False
        return member.status in _ADMIN_STATUSES
