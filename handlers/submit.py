"""Starting a job from Telegram: admission, chat defaults, the status message, the job row.

Shared by `/video <taskId> <audioId>` and the track picker's buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Message, Update

from bot.admission import Admission, AlreadyInFlight, NotAllowed, QuotaExceeded
from bot.job_model import JobRequest
from bot.jobs import JobService
from bot.texts import text
from handlers.common import language_of, reply, sender_id, topic_of
from storage.chats import ChatSettingsRepository


class JobStarter:
    """Turns a validated request in a chat into a job, or into a clear refusal."""

    def __init__(
        self,
        *,
        jobs: JobService,
        admission: Admission,
        chats: ChatSettingsRepository,
        default_domain: str | None,
    ) -> None:
        self._jobs = jobs
        self._admission = admission
        self._chats = chats
        self._default_domain = default_domain

    async def start(
        self,
        update: Update,
        command: Message,
        *,
        task_id: str,
        audio_id: str,
        author: str | None,
        title: str | None = None,
        once_admitted: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Check admission, post the status message replying to `command`, write the job.

        `once_admitted` runs only for an admitted request; returning False stops the start."""
        language = language_of(update)
        user_id = sender_id(update)
        verdict = await self._admission.check(
            user_id=user_id, chat_id=command.chat_id, task_id=task_id, audio_id=audio_id
        )
        if isinstance(verdict, NotAllowed):
            await reply(command, text(language, "not_allowed"))
            return
        if isinstance(verdict, AlreadyInFlight):
            await reply(command, text(language, "already_in_flight", job_id=verdict.job.id))
            return
        if isinstance(verdict, QuotaExceeded):
            retry_at = verdict.retry_at.strftime("%H:%M")
            await reply(
                command, text(language, "quota_exceeded", limit=verdict.limit, time=retry_at)
            )
            return
        if once_admitted is not None and not await once_admitted():
            return
        defaults = await self._chats.get(command.chat_id)
        status = await reply(command, text(language, "status_submitting"))
        await self._jobs.create(
            JobRequest(
                chat_id=command.chat_id,
                thread_id=topic_of(command),
                user_id=user_id,
                command_message_id=command.message_id,
                status_message_id=status.message_id,
                language=language,
                task_id=task_id,
                audio_id=audio_id,
                author=author or defaults.author,
                domain_name=defaults.domain_name or self._default_domain,
                title=title,
            )
        )
