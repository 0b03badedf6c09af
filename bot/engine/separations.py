"""A karaoke render's instrumental: the track's vocal separation, asked for once and shared
(docs/architecture.md §9.7, docs/providers.md §5.2).

The `track_separations` row is the lock: the render that moves a track from "no row" (or a
spent one) to `requested` sends the one request; every other karaoke render of the track
waits for that row's outcome. A waiting render is not a failed attempt: it is looked at
again later (`SourcePending`) until the separation succeeds, fails or runs past its
deadline. A failure fails the render (`RenderRefused`) — never the original audio instead.

The instrumental's URL is kept for `REUSE_FOR` (the provider keeps the files about 14 days);
after that the next karaoke render asks again, which costs credits and counts in the quota
again. Must not import Telegram, bot.text or handlers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Final, NoReturn

from bot.domain import SeparationResult, SeparationStatus
from bot.engine.job_model import AdminAlerts, ErrorKind
from bot.engine.render_plan import RenderRefused, SourcePending, SourceTransient
from bot.upstream.errors import (
    InsufficientCredits,
    MalformedResponse,
    RateLimited,
    Unauthorized,
    Unsupported,
    UpstreamRejected,
    UpstreamUnavailable,
)
from storage.jobs import Job
from storage.separations import FAILED, SUCCEEDED, Separation, SeparationRepository

log = logging.getLogger(__name__)

# How long a separation may stay pending before the renders waiting on it fail.
SEPARATION_DEADLINE: Final = timedelta(minutes=20)
# The provider keeps the separated files 14-15 days (docs/providers.md §5.2): a stored URL is
# used for 13 of them, then asked for again.
REUSE_FOR: Final = timedelta(days=13)
# A claim whose request never reached the provider (its process died while sending) is taken
# over after this long.
STALE_CLAIM: Final = timedelta(minutes=2)


class SeparationSource:
    """The instrumental URL of a track, from its one stored separation."""

    def __init__(
        self,
        *,
        repo: SeparationRepository,
        provider: str,
        request: Callable[[str, str, str], Awaitable[str]],
        details: Callable[[str], Awaitable[SeparationResult]],
        callback_url: str,
        clock: Callable[[], datetime],
        poll_seconds: float = 10.0,
        alerts: AdminAlerts | None = None,
    ) -> None:
        """`request(task_id, audio_id, callback_url)` asks for a separation and returns its
        task id; `details(separation_task_id)` polls it (the provider client's `separate`
        and `separation_details`)."""
        self._repo = repo
        self._provider = provider
        self._request = request
        self._details = details
        self._callback_url = callback_url
        self._clock = clock
        self._poll = poll_seconds
        self._alerts = alerts

    async def instrumental(self, job: Job) -> str:
        """The instrumental's URL for the job's track. Raises SourcePending while the
        separation is on its way, RenderRefused when it failed, SourceTransient when the
        provider could not be asked now."""
        key = (self._provider, job.task_id, job.audio_id)
        row = await self._repo.get(*key)
        if row is None or self._spent(row, job):
            claimed = await self._repo.claim(
                *key, replacing=row, user_id=job.user_id, chat_id=job.chat_id
            )
            if claimed is None:  # another render claimed it first: wait for its outcome
                raise SourcePending(
                    "another render asks for the separation", retry_after=min(1.0, self._poll)
                )
            await self._send(claimed)
        if row.state == SUCCEEDED and row.instrumental_url:
            return row.instrumental_url
        if row.state == FAILED:
            raise RenderRefused(row.error_kind or ErrorKind.KARAOKE_FAILED.value, row.error)
        if row.separation_task_id is None:
            raise SourcePending(
                "the separation request is being sent", retry_after=min(1.0, self._poll)
            )
        return await self._check(row)

    def _spent(self, row: Separation, job: Job) -> bool:
        """Whether the row is no use to this job and a new request is due: failed before
        this job was made, expired, or claimed by a sender that never finished sending."""
        now = self._clock()
        if row.state == FAILED:
            return row.completed_at is not None and row.completed_at < job.created_at
        if row.state == SUCCEEDED:
            return row.completed_at is None or now - row.completed_at > REUSE_FOR
        return row.separation_task_id is None and now - row.requested_at > STALE_CLAIM

    async def _send(self, claimed: Separation) -> NoReturn:
        """Send the one request of a claimed row; always ends by raising (pending, refused or
        transient)."""
        track = f"{claimed.task_id}/{claimed.audio_id}"
        try:
            task_id = await self._request(claimed.task_id, claimed.audio_id, self._callback_url)
        except Unsupported as exc:  # vidgo: refused by the command already; nothing was sent
            await self._repo.release(claimed)
            raise RenderRefused(ErrorKind.KARAOKE_FAILED.value, str(exc)) from exc
        except (UpstreamUnavailable, MalformedResponse) as exc:
            # Not taken (or not known to be): the claim goes, and nothing counts in the quota.
            await self._repo.release(claimed)
            wait = exc.retry_after if isinstance(exc, RateLimited) and exc.retry_after else 0.0
            log.info("separation of %s not sent now (%s)", track, exc)
            raise SourceTransient(f"separation not requested: {exc}", retry_after=wait) from exc
        except UpstreamRejected as exc:
            kind = _refusal_kind(exc)
            await self._repo.fail(claimed, kind.value, exc.reason)
            await self._alert(exc)
            log.warning("separation of %s refused (%s)", track, exc)
            raise RenderRefused(kind.value, exc.reason) from exc
        await self._repo.record_sent(claimed, task_id)
        log.info("separation of %s requested: task %s", track, task_id)
        raise SourcePending("separation requested", retry_after=self._poll)

    async def _check(self, row: Separation) -> str:
        """Poll the separation; its URL once it succeeded."""
        assert row.separation_task_id is not None
        overdue = self._clock() - row.requested_at > SEPARATION_DEADLINE
        try:
            result = await self._details(row.separation_task_id)
        except (UpstreamUnavailable, MalformedResponse) as exc:
            if overdue:
                await self._finish_failed(row, ErrorKind.KARAOKE_FAILED, "no answer in time")
            raise SourcePending(f"not checked now: {exc}", retry_after=self._poll) from exc
        except UpstreamRejected as exc:
            await self._finish_failed(row, _refusal_kind(exc), exc.reason)
        if result.status is SeparationStatus.SUCCEEDED and result.instrumental_url:
            await self._repo.succeed(row, result.instrumental_url)
            log.info("separation of %s/%s succeeded", row.task_id, row.audio_id)
            return result.instrumental_url
        if result.status is SeparationStatus.FAILED:
            await self._finish_failed(row, ErrorKind.KARAOKE_FAILED, result.error)
        if overdue:
            minutes = int(SEPARATION_DEADLINE.total_seconds() // 60)
            await self._finish_failed(row, ErrorKind.KARAOKE_FAILED, f"not done in {minutes} min")
        raise SourcePending("separation pending", retry_after=self._poll)

    async def _finish_failed(self, row: Separation, kind: ErrorKind, error: str | None) -> NoReturn:
        """Record the failure (unless another render did) and refuse the render with the
        failure the row holds."""
        if not await self._repo.fail(row, kind.value, error):
            stored = await self._repo.get(row.provider, row.task_id, row.audio_id)
            if stored is not None and stored.state == SUCCEEDED:
                raise SourcePending("separation finished meanwhile", retry_after=0.0)
            if stored is not None and stored.state == FAILED:
                kind_value = stored.error_kind or ErrorKind.KARAOKE_FAILED.value
                raise RenderRefused(kind_value, stored.error)
        log.warning("separation of %s/%s failed (%s): %s", row.task_id, row.audio_id, kind, error)
        raise RenderRefused(kind.value, error)

    async def _alert(self, exc: UpstreamRejected) -> None:
        """Tell the admins what only they can fix (credits, the key), as for videos."""
        if self._alerts is None:
            return
        if isinstance(exc, InsufficientCredits):
            await self._alerts.alert(ErrorKind.CREDITS, exc.reason)
        elif isinstance(exc, Unauthorized):
            await self._alerts.alert(ErrorKind.UNAUTHORIZED, exc.reason)


def _refusal_kind(exc: UpstreamRejected) -> ErrorKind:
    return (
        ErrorKind.KARAOKE_CREDITS
        if isinstance(exc, InsufficientCredits)
        else (ErrorKind.KARAOKE_FAILED)
    )
