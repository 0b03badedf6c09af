"""The jobs service: create jobs, submit them upstream, apply poll and callback results.

Plain typed Python: no Telegram types, no user-facing strings. Every state change is a
compare-and-set in storage, so whoever wins a transition does the follow-up work (design.md §2).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from aiolimiter import AsyncLimiter

from bot.backoff import Backoff
from bot.callback_tokens import CallbackTokens, callback_url, hash_token, placeholder_hash
from bot.domain import JobState, VideoRequest, VideoResult, VideoStatus
from bot.job_model import (
    AdminAlerts,
    EngineConfig,
    ErrorKind,
    JobRequest,
    Phase,
    StatusNotifier,
)
from bot.upstream.client import UpstreamClient
from bot.upstream.errors import (
    AlreadyExists,
    InsufficientCredits,
    InvalidTrack,
    Maintenance,
    MalformedResponse,
    RateLimited,
    Unauthorized,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from storage.jobs import Job, JobRepository, NewJob

log = logging.getLogger(__name__)

_Counter = Literal["submit_attempts", "poll_attempts", "delivery_attempts"]

MIN_POLL_GAP_SECONDS = 0.35  # keeps every task under 3 details requests per second (§7.11)


class JobService:
    """Submits jobs and applies what the upstream reports, one compare-and-set at a time."""

    def __init__(
        self,
        *,
        repo: JobRepository,
        client: UpstreamClient,
        config: EngineConfig,
        tokens: CallbackTokens,
        notifier: StatusNotifier,
        alerts: AdminAlerts,
        clock: Callable[[], datetime],
        rng: random.Random,
        wake_reconciler: Callable[[], None],
        wake_delivery: Callable[[], None],
    ) -> None:
        self._repo = repo
        self._client = client
        self._config = config
        self._tokens = tokens
        self._notifier = notifier
        self._alerts = alerts
        self._clock = clock
        self._rng = rng
        self._wake_reconciler = wake_reconciler
        self._wake_delivery = wake_delivery
        # Documented limits: 20 new tasks per 10 s (§2.5, §3.5); 10 queries/s per key (§2.5).
        self._create_limiter = AsyncLimiter(20, 10)
        self._details_limiter = AsyncLimiter(10, 1)
        factor = 3.0 if config.callbacks_enabled else 1.0  # callbacks on: polls are a safety net
        self._poll_backoff = Backoff(
            base=config.poll_interval * factor, cap=max(config.poll_interval, 300.0) * factor
        )
        self._submit_backoff = Backoff(base=5.0, cap=120.0)

    async def create(self, request: JobRequest) -> Job:
        """Write the job row (before any upstream call) and hand it to the reconciler."""
        job = await self._repo.create(
            NewJob(
                chat_id=request.chat_id,
                thread_id=request.thread_id,
                user_id=request.user_id,
                command_message_id=request.command_message_id,
                status_message_id=request.status_message_id,
                language=request.language,
                provider=self._config.provider.value,
                task_id=request.task_id,
                audio_id=request.audio_id,
                author=request.author,
                domain_name=request.domain_name,
                callback_token_hash=placeholder_hash(),
                next_poll_at=self._clock(),
                title=request.title,
            )
        )
        log.info("job %s created chat=%s state=%s", job.id, job.chat_id, job.state)
        self._wake_reconciler()
        return job

    async def process_due(self, job: Job) -> None:
        """Do the upstream work a due job needs: submit it, or poll it."""
        if job.state is JobState.SUBMITTING:
            await self._submit(job)
        elif job.state is JobState.PENDING:
            await self._poll(job)

    async def check_now(self, job_id: int) -> Job | None:
        """Look at a job right now (the "Check status" button); returns it as it then is.

        A pending job is polled at once, unless its row changed within MIN_POLL_GAP_SECONDS (a
        poll just started or ended): concurrent or rapid taps never push a task past three
        requests a second (design.md §7.11). A job still being submitted is retried at once;
        a timed-out job is polled once more and delivered if the video turned up after all.
        """
        job = await self._repo.get(job_id)
        if job is None:
            return None
        now = self._clock()
        if job.state in (JobState.PENDING, JobState.SUBMITTING):
            idle = timedelta(seconds=MIN_POLL_GAP_SECONDS)
            if await self._repo.make_due_if_idle(
                job.id, expected=job.state, now=now, idle_for=idle
            ):
                if job.state is JobState.PENDING:
                    await self._poll(replace(job, next_poll_at=now))
                else:
                    self._wake_reconciler()
        elif job.state is JobState.TIMED_OUT and job.video_task_id is not None:
            await self._recheck_timed_out(job)
        return await self._repo.get(job_id)

    async def _recheck_timed_out(self, job: Job) -> None:
        assert job.video_task_id is not None
        try:
            async with self._details_limiter:
                result = await self._client.details(job.video_task_id)
        except (UpstreamError, MalformedResponse) as exc:
            log.info("job %s: re-check unavailable: %s", job.id, exc)
            return
        if result.status is VideoStatus.SUCCEEDED and result.video_url:
            won = await self._repo.transition(
                job.id,
                expected=JobState.TIMED_OUT,
                to=JobState.SUCCEEDED,
                video_url=result.video_url,
                completed_at=result.completed_at or self._clock(),
                error_kind=None,
                next_delivery_at=self._clock(),
            )
            if won:
                log.info("job %s: video found after time-out state=succeeded", job.id)
                self._wake_delivery()

    # -- submission -------------------------------------------------------------------------

    async def _submit(self, job: Job) -> None:
        now = self._clock()
        if not await self._lease(job, JobState.SUBMITTING, now, "submit_attempts"):
            return
        token = self._tokens.token_for(job.id)
        await self._repo.transition(
            job.id, expected=JobState.SUBMITTING, callback_token_hash=hash_token(token)
        )
        request = VideoRequest(
            task_id=job.task_id,
            audio_id=job.audio_id,
            callback_url=callback_url(self._config.public_base_url, token),
            author=job.author,
            domain_name=job.domain_name,
        )
        try:
            async with self._create_limiter:
                video_task_id = await self._client.create(request)
        except AlreadyExists as exc:
            await self._recover_existing(job, exc)
        except (UpstreamUnavailable, MalformedResponse) as exc:
            await self._retry_submit(job, exc)
        except UpstreamRejected as exc:
            await self._fail_rejected(job, JobState.SUBMITTING, exc)
        else:
            await self.accepted(job, video_task_id, JobState.SUBMITTING)

    async def accepted(self, job: Job, video_task_id: str, expected: JobState) -> None:
        """Record the upstream's video task id and start polling it (if still `expected`)."""
        first_poll = self._clock() + timedelta(seconds=self._first_poll_delay())
        won = await self._repo.transition(
            job.id,
            expected=expected,
            to=JobState.PENDING,
            video_task_id=video_task_id,
            next_poll_at=first_poll,
            error_kind=None,
            error=None,
        )
        if won:
            log.info("job %s submitted video_task=%s state=pending", job.id, video_task_id)
            await self._show(job.id, Phase.RENDERING)

    def _first_poll_delay(self) -> float:
        factor = 3.0 if self._config.callbacks_enabled else 1.0
        return max(MIN_POLL_GAP_SECONDS, self._config.poll_interval * factor)

    async def _retry_submit(self, job: Job, exc: Exception) -> None:
        now = self._clock()
        if now - job.created_at >= self._config.submit_retry_window:
            kind = ErrorKind.RATE_LIMITED if isinstance(exc, RateLimited) else ErrorKind.UNAVAILABLE
            log.warning("job %s: giving up submitting after retries: %s", job.id, exc)
            await self._finish(job.id, JobState.SUBMITTING, JobState.FAILED, kind, str(exc))
            return
        delay = self._submit_backoff.delay(job.submit_attempts, self._rng)
        if isinstance(exc, RateLimited) and exc.retry_after:
            delay = max(delay, exc.retry_after)
        log.info("job %s: create failed (%s), retrying in %.1fs", job.id, exc, delay)
        await self._repo.transition(
            job.id, expected=JobState.SUBMITTING, next_poll_at=now + timedelta(seconds=delay)
        )
        await self._show(
            job.id, Phase.MAINTENANCE if isinstance(exc, Maintenance) else Phase.RETRYING
        )

    async def _fail_rejected(self, job: Job, expected: JobState, exc: UpstreamRejected) -> None:
        kind = _rejection_kind(exc)
        log.warning("job %s rejected by upstream (%s): %s", job.id, kind, exc.reason)
        if kind in (ErrorKind.CREDITS, ErrorKind.UNAUTHORIZED):
            await self._alerts.alert(kind, exc.reason)
        await self._finish(job.id, expected, JobState.FAILED, kind, exc.reason)

    async def _recover_existing(self, job: Job, exc: AlreadyExists) -> None:
        """ "Already exists" is recovered, not reported (design.md §2)."""
        for other in await self._repo.find_for_track(job.provider, job.task_id, job.audio_id):
            if other.id != job.id and other.video_url and other.state in _HAS_VIDEO:
                won = await self._repo.transition(
                    job.id,
                    expected=JobState.SUBMITTING,
                    to=JobState.SUCCEEDED,
                    video_task_id=other.video_task_id,
                    video_url=other.video_url,
                    file_id=other.file_id,
                    completed_at=other.completed_at or self._clock(),
                    next_poll_at=None,
                    next_delivery_at=self._clock(),
                )
                if won:
                    log.info(
                        "job %s: video already made as job %s; delivering it", job.id, other.id
                    )
                    self._wake_delivery()
                return
        existing = exc.existing_task_id or await self._known_video_task(job)
        if existing is None:
            await self._finish(
                job.id, JobState.SUBMITTING, JobState.FAILED, ErrorKind.ALREADY_EXISTS, exc.reason
            )
            return
        log.info("job %s: video already exists upstream as %s; polling it", job.id, existing)
        await self.accepted(job, existing, JobState.SUBMITTING)
        await self._repo.transition(job.id, expected=JobState.PENDING, next_poll_at=self._clock())
        self._wake_reconciler()

    async def _known_video_task(self, job: Job) -> str | None:
        for other in await self._repo.find_for_track(job.provider, job.task_id, job.audio_id):
            if other.id != job.id and other.video_task_id:
                return other.video_task_id
        return None

    # -- polling ----------------------------------------------------------------------------

    async def _poll(self, job: Job) -> None:
        now = self._clock()
        if now - job.created_at >= self._config.job_timeout:
            await self._finish(
                job.id, JobState.PENDING, JobState.TIMED_OUT, ErrorKind.TIMEOUT, None
            )
            return
        if job.video_task_id is None or not await self._lease(
            job, JobState.PENDING, now, "poll_attempts"
        ):
            return
        result: VideoResult | None = None
        try:
            async with self._details_limiter:
                result = await self._client.details(job.video_task_id)
        except (UpstreamUnavailable, MalformedResponse) as exc:
            log.info("job %s: details unavailable: %s", job.id, exc)
        except UpstreamRejected as exc:
            log.warning("job %s: details refused: %s", job.id, exc)
        fresh = await self._repo.get(job.id) or job
        if result is None and fresh.callback_video_url:
            # The poll could not answer; the callback's word is the best we have (§2).
            result = VideoResult(
                task_id=None, status=VideoStatus.SUCCEEDED, video_url=fresh.callback_video_url
            )
        await self._apply(fresh, result)

    async def _apply(self, job: Job, result: VideoResult | None) -> None:
        if (
            result is not None
            and result.raw_status is not None
            and result.status is VideoStatus.PENDING
        ):
            log.debug("job %s: upstream status %s", job.id, result.raw_status)
        if result is not None and result.status is VideoStatus.SUCCEEDED and result.video_url:
            won = await self._repo.transition(
                job.id,
                expected=JobState.PENDING,
                to=JobState.SUCCEEDED,
                video_url=result.video_url,
                completed_at=result.completed_at or self._clock(),
                next_poll_at=None,
                next_delivery_at=self._clock(),
            )
            if won:
                log.info("job %s succeeded chat=%s state=succeeded", job.id, job.chat_id)
                self._wake_delivery()
            return
        if result is not None and result.status is VideoStatus.FAILED:
            await self._finish(
                job.id, JobState.PENDING, JobState.FAILED, ErrorKind.PROVIDER_FAILED, result.error
            )
            return
        await self._schedule_poll(job)

    async def _schedule_poll(self, job: Job) -> None:
        now = self._clock()
        if job.callback_video_url:
            delay = 3.0  # a callback said done but the poll disagrees: look again soon (§2)
        else:
            delay = self._poll_backoff.delay(job.poll_attempts, self._rng)
        delay = max(MIN_POLL_GAP_SECONDS, delay)
        deadline = job.created_at + self._config.job_timeout
        next_at = min(now + timedelta(seconds=delay), max(deadline, now))
        await self._repo.transition(job.id, expected=JobState.PENDING, next_poll_at=next_at)

    # -- shared -----------------------------------------------------------------------------

    async def _lease(self, job: Job, state: JobState, now: datetime, counter: _Counter) -> bool:
        return await self._repo.claim(
            job.id,
            expected=state,
            column="next_poll_at",
            now=now,
            lease_until=now + timedelta(seconds=self._config.lease_seconds),
            counter=counter,
        )

    async def _finish(
        self,
        job_id: int,
        expected: JobState,
        to: JobState,
        kind: ErrorKind,
        detail: str | None,
    ) -> None:
        """Move to a final failure state; the delivery loop then tells the chat (an outbox)."""
        won = await self._repo.transition(
            job_id,
            expected=expected,
            to=to,
            error_kind=kind.value,
            error=detail,
            next_poll_at=None,
            next_delivery_at=self._clock(),
        )
        if won:
            log.info("job %s %s (%s) state=%s", job_id, to, kind, to)
            self._wake_delivery()

    async def _show(self, job_id: int, phase: Phase) -> None:
        job = await self._repo.get(job_id)
        if job is not None:
            await self._notifier.show(job, phase)


_HAS_VIDEO = frozenset({JobState.SUCCEEDED, JobState.DELIVERED})


def _rejection_kind(exc: UpstreamRejected) -> ErrorKind:
    if isinstance(exc, InsufficientCredits):
        return ErrorKind.CREDITS
    if isinstance(exc, Unauthorized):
        return ErrorKind.UNAUTHORIZED
    if isinstance(exc, InvalidTrack):
        return ErrorKind.INVALID_TRACK
    return ErrorKind.REJECTED
