"""Who may start a job, and when: allowed lists, hourly quota, one job in flight per track.

Pure policy over the jobs table; no Telegram types (docs/architecture.md §3.1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.jobs import Job, JobRepository

QUOTA_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """ALLOWED_USER_IDS / ALLOWED_CHAT_IDS (empty = open) and ADMIN_USER_IDS."""

    allowed_users: frozenset[int] = frozenset()
    allowed_chats: frozenset[int] = frozenset()
    admins: frozenset[int] = frozenset()

    def allows(self, user_id: int | None, chat_id: int) -> bool:
        """Allowed if the lists are empty, the user is listed, or the chat is listed.

        `user_id` is None for channel posts and anonymous admins: they are judged by the chat.
        """
        if not self.allowed_users and not self.allowed_chats:
            return True
        if user_id is not None and (user_id in self.allowed_users or user_id in self.admins):
            return True
        return chat_id in self.allowed_chats

    def is_admin(self, user_id: int | None) -> bool:
        """Whether `user_id` is one of the bot's admins."""
        return user_id is not None and user_id in self.admins


@dataclass(frozen=True, slots=True)
class Admitted:
    """The job may start."""


@dataclass(frozen=True, slots=True)
class NotAllowed:
    """The user or chat is not on the allowed lists."""


@dataclass(frozen=True, slots=True)
class QuotaExceeded:
    """The sender made `limit` jobs within the last hour; the next fits at `retry_at`."""

    limit: int
    retry_at: datetime


@dataclass(frozen=True, slots=True)
class AlreadyInFlight:
    """This chat already has a job for the same track on its way."""

    job: Job


Verdict = Admitted | NotAllowed | QuotaExceeded | AlreadyInFlight


class Admission:
    """Decides whether a new job may start, before anything reaches the upstream."""

    def __init__(
        self,
        repo: JobRepository,
        policy: AccessPolicy,
        quota_per_hour: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._repo = repo
        self._policy = policy
        self._quota = quota_per_hour
        self._clock = clock

    async def check(
        self,
        *,
        user_id: int | None,
        chat_id: int,
        task_id: str,
        audio_id: str,
        video_format: str | None = None,
        teaser: bool = False,
        karaoke: bool = False,
        variant: str | None = None,
    ) -> Verdict:
        """The verdict for a new job of (`task_id`, `audio_id`) in `chat_id` by `user_id`; a
        render (`video_format`) is in flight apart from the provider's video of the track, and
        a teaser, a karaoke render and each variant (loop, live photo) apart from the full
        render."""
        if not self._policy.allows(user_id, chat_id):
            return NotAllowed()
        running = await self._repo.find_active_for_chat_track(
            chat_id,
            task_id,
            audio_id,
            video_format,
            teaser=teaser,
            karaoke=karaoke,
            variant=variant,
        )
        if running is not None:
            return AlreadyInFlight(running)
        if self._policy.is_admin(user_id):
            return Admitted()
        return await self._quota_verdict(user_id, chat_id)

    async def _quota_verdict(self, user_id: int | None, chat_id: int) -> Verdict:
        """Admitted while the sender made fewer than the hourly quota of jobs.

        Senders without a user id (channel posts, anonymous admins, "send as channel") share
        one quota per chat: Telegram names no person behind them, and a chat-wide budget cannot
        be multiplied by posting as more channels.
        """
        since = self._clock() - QUOTA_WINDOW
        if user_id is None:
            made = await self._repo.count_created_anonymously_since(chat_id, since)
        else:
            made = await self._repo.count_created_by_user_since(user_id, since)
        if made < self._quota:
            return Admitted()
        # The next job fits once enough of these (fallback renders aside, like the count) have
        # left the hour to bring the count below the quota.
        skip = made - self._quota
        if user_id is None:
            oldest = await self._repo.oldest_created_anonymously_since(chat_id, since, skip=skip)
        else:
            oldest = await self._repo.oldest_created_by_user_since(user_id, since, skip=skip)
        return QuotaExceeded(self._quota, (oldest or self._clock()) + QUOTA_WINDOW)
