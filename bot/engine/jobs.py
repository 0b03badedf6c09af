"""The jobs service: create jobs, submit them upstream, apply poll and callback results.

Plain typed Python: no Telegram types, no user-facing strings. Every state change is a
compare-and-set in storage, so whoever wins a transition does the follow-up work
(docs/architecture.md §4.3).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from bot.domain import JobState, VideoRequest, VideoResult, VideoStatus
from bot.engine.backoff import Backoff
from bot.engine.callback_tokens import CallbackTokens, callback_url, hash_token, placeholder_hash
from bot.engine.error_kinds import kind_of
from bot.engine.job_model import (
    AdminAlerts,
    EngineConfig,
    ErrorKind,
    JobRequest,
    Phase,
    StatusNotifier,
    stand_in_render,
)
from bot.engine.video_hosts import VideoHosts
from bot.upstream.client import UpstreamClient
from bot.upstream.errors import (
    AlreadyExists,
    Maintenance,
    MalformedResponse,
    RateLimited,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from storage.jobs import KIND_PROVIDER, KIND_RENDER, Job, JobRepository, NewJob

log = logging.getLogger(__name__)

_Counter = Literal["submit_attempts", "poll_attempts", "delivery_attempts"]

TITLE_LOOKUP_SECONDS = 10.0
MIN_POLL_GAP_SECONDS = 0.35  # keeps every task under 3 details requests per second (§13.11)


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
        wake_submitter: Callable[[], None],
        wake_reconciler: Callable[[], None],
        wake_delivery: Callable[[], None],
        video_hosts: VideoHosts,
        wake_renderer: Callable[[], None] | None = None,
    ) -> None:
        self._repo = repo
        self._video_hosts = video_hosts
        self._client = client
        self._config = config
        self._tokens = tokens
        self._notifier = notifier
        self._alerts = alerts
        self._clock = clock
        self._rng = rng
        self._wake_submitter = wake_submitter
        self._wake_reconciler = wake_reconciler
        self._wake_delivery = wake_delivery
        self._wake_renderer = wake_renderer or wake_submitter
        factor = 3.0 if config.callbacks_enabled else 1.0  # callbacks on: polls are a safety net
        # Polls back off to ten times the first delay, at most 5 minutes (never below it).
        cap = max(config.poll_interval, min(300.0, config.poll_interval * 10))
        self._poll_backoff = Backoff(base=config.poll_interval * factor, cap=cap * factor)
        self._submit_backoff = Backoff(base=5.0, cap=120.0)

    # -- intake -----------------------------------------------------------------------------

    async def create(self, request: JobRequest) -> Job:
        """Write the job row before anything is visible; it is submitted once `announce`d.

        Writing it again for the same Telegram update returns the first row (a restart
        handles an update whose handler was interrupted)."""
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
                next_poll_at=None,
                title=request.title,
                intake_update_id=request.update_id,
                kind=request.kind,
                video_format=request.video_format,
                source_file_id=request.source_file_id,
                source_file_name=request.source_file_name,
                lyrics=request.lyrics,
                teaser=request.teaser,
                karaoke=request.karaoke,
                variant=request.variant,
                lyric_style=request.lyric_style,
                look=request.look,
                lyrics_revision=request.lyrics_revision,
            )
        )
        log.info("job %s created chat=%s state=%s", job.id, job.chat_id, job.state)
        return job

    async def job_for_update(self, update_id: int) -> Job | None:
        """The job a Telegram update already created, if any."""
        return await self._repo.for_update(update_id)

    @staticmethod
    def awaits_announcement(job: Job) -> bool:
        """Whether the job's row is written but its status message not yet recorded."""
        return job.state is JobState.SUBMITTING and job.next_poll_at is None

    async def announce(self, job: Job, status_message_id: int | None, phase: Phase) -> None:
        """Record the status message (None if it could not be sent), the phase it shows, and
        queue the submission (or the render)."""
        if await self._repo.announce(job.id, status_message_id, phase.value, self._clock()):
            if job.kind == KIND_RENDER:
                self._wake_renderer()
            else:
                self._wake_submitter()

    # -- the loops' steps -------------------------------------------------------------------

    async def submit_due(self, job: Job) -> None:
        """The submit loop's step: send a due job to the upstream."""
        if job.state is JobState.SUBMITTING:
            await self._submit(job)

    async def check_due(self, job: Job) -> None:
        """The reconciler's step: poll a pending job, or re-check one a callback woke."""
        if job.state is JobState.PENDING and job.video_task_id is not None:
            await self._poll(job)
        elif job.state is JobState.PENDING:
            await self._await_callback(job)
        elif job.state in _RECHECKABLE:
            await self._recheck_final(job)
        else:
            await self._repo.transition(job.id, expected=job.state, next_poll_at=None)

    async def check_now(self, job_id: int) -> Job | None:
        """Look at a job right now (the "Check status" button); returns it as it then is.

        A pending job is polled at once, unless its row changed within MIN_POLL_GAP_SECONDS (a
        poll just started or ended): concurrent or rapid taps never push a task past three
        requests a second (docs/architecture.md §13.11). A job still being submitted is retried
        at once; a timed-out job is polled once more and delivered if the video turned up after all.
        """
        job = await self._repo.get(job_id)
        if job is None or job.kind == KIND_RENDER:  # renders are ours: nothing to ask
            return job
        now = self._clock()
        if job.state in (JobState.PENDING, JobState.SUBMITTING) and job.next_poll_at is not None:
            idle = timedelta(seconds=MIN_POLL_GAP_SECONDS)
            if await self._repo.make_due_if_idle(
                job.id, expected=job.state, now=now, idle_for=idle
            ):
                if job.state is JobState.PENDING:
                    await self.check_due(replace(job, next_poll_at=now))
                else:
                    self._wake_submitter()
        elif job.state is JobState.TIMED_OUT and job.video_task_id is not None:
            await self._recheck_final(job, leased=True)
        return await self._repo.get(job_id)

    # -- submission -------------------------------------------------------------------------

    async def _submit(self, job: Job) -> None:
        if self._client.create_would_wait():
            await self._show(job.id, Phase.QUEUED)
        now = self._clock()
        if now - job.created_at >= self._config.job_timeout:
            # Still queued at its deadline: never spend credits on a job we gave up on.
            await self._finish(
                job.id, JobState.SUBMITTING, JobState.FAILED, ErrorKind.NOT_SUBMITTED, None
            )
            return
        if not await self._lease(job, JobState.SUBMITTING, now, "submit_attempts"):
            return
        token = self._tokens.token_for(job.id)
        await self._repo.transition(
            job.id, expected=JobState.SUBMITTING, callback_token_hash=hash_token(token)
        )
        try:
            # Waits for a turn at the provider's create rate (at most TURN_WAIT_SECONDS, well
            # inside the lease), else RateLimited: retried like any slow-down.
            video_task_id = await self._client.create(self._video_request(job, token))
        except AlreadyExists as exc:
            await self._recover_existing(job, exc)
        except (UpstreamUnavailable, MalformedResponse) as exc:
            await self._retry_submit(job, exc)
        except UpstreamRejected as exc:
            await self._fail_rejected(job, JobState.SUBMITTING, exc)
        else:
            await self.accepted(job, video_task_id, JobState.SUBMITTING)

    def _video_request(self, job: Job, token: str) -> VideoRequest:
        return VideoRequest(
            task_id=job.task_id,
            audio_id=job.audio_id,
            callback_url=callback_url(self._config.public_base_url, token),
            author=job.author,
            domain_name=job.domain_name,
        )

    async def accepted(self, job: Job, video_task_id: str, expected: JobState) -> None:
        """Record the upstream's video task id and start polling it (if still `expected`).

        A callback that named this very task while the create's answer was on its way (kept as
        a hint) makes the first poll due at once instead of after the usual delay."""
        fresh = await self._repo.get(job.id) or job
        now = self._clock()
        called_back = fresh.callback_task_id == video_task_id
        first_poll = now if called_back else now + timedelta(seconds=self._first_poll_delay())
        won = await self._repo.transition(
            job.id,
            expected=expected,
            to=JobState.PENDING,
            video_task_id=video_task_id,
            callback_task_id=None,
            next_poll_at=first_poll,
            error_kind=None,
            error=None,
        )
        if won:
            log.info("job %s submitted video_task=%s state=pending", job.id, video_task_id)
            self._wake_reconciler()
            await self._show(job.id, Phase.RENDERING)
            if job.title is None:
                await self._learn_title(job)

    async def _learn_title(self, job: Job) -> None:
        """Look up the track's title while the video is being made (best effort), so the
        caption, /list and the share list name the song rather than its audio id."""
        try:
            async with asyncio.timeout(TITLE_LOOKUP_SECONDS):
                tracks = await self._client.tracks(job.task_id)
        except (UpstreamError, TimeoutError) as exc:
            log.info("job %s: track title not known (%s)", job.id, exc)
            return
        for track in tracks.tracks:
            if track.audio_id == job.audio_id and track.title:
                await self._repo.record_title(job.id, track.title)
                return

    def _first_poll_delay(self) -> float:
        factor = 3.0 if self._config.callbacks_enabled else 1.0
        return max(MIN_POLL_GAP_SECONDS, self._config.poll_interval * factor)

    async def _retry_submit(self, job: Job, exc: UpstreamUnavailable | MalformedResponse) -> None:
        now = self._clock()
        if now - job.created_at >= self._config.submit_retry_window:
            kind = kind_of(exc)
            log.warning("job %s: giving up submitting after retries: %s", job.id, exc)
            await self._finish(job.id, JobState.SUBMITTING, JobState.FAILED, kind, str(exc))
            return
        delay = self._submit_backoff.delay(job.submit_attempts, self._rng)
        if isinstance(exc, RateLimited) and exc.retry_after:
            delay = max(delay, exc.retry_after)
        log.info("job %s: create failed (%s), retrying in %.1fs", job.id, exc, delay)
        if await self._repo.transition(
            job.id, expected=JobState.SUBMITTING, next_poll_at=now + timedelta(seconds=delay)
        ):
            phase = Phase.MAINTENANCE if isinstance(exc, Maintenance) else Phase.RETRYING
            await self._show(job.id, phase)

    async def _fail_rejected(self, job: Job, expected: JobState, exc: UpstreamRejected) -> None:
        kind = kind_of(exc)
        log.warning("job %s rejected by upstream (%s): %s", job.id, kind, exc.reason)
        if kind in (ErrorKind.CREDITS, ErrorKind.UNAUTHORIZED):
            await self._alerts.alert(kind, exc.reason)
        await self._finish(job.id, expected, JobState.FAILED, kind, exc.reason)

    async def _recover_existing(self, job: Job, exc: AlreadyExists) -> None:
        """ "Already exists" is recovered, not reported (docs/architecture.md §4.5)."""
        if await self._reuse_known_video(job):
            return
        existing = exc.existing_task_id or await self._known_video_task(job)
        if existing is not None:
            log.info("job %s: video already exists upstream as %s; polling it", job.id, existing)
            await self.accepted(job, existing, JobState.SUBMITTING)
            await self._repo.transition(
                job.id, expected=JobState.PENDING, next_poll_at=self._clock()
            )
            self._wake_reconciler()
        elif self._config.callbacks_enabled:
            await self._await_own_callback(job)
        else:
            await self._finish(
                job.id, JobState.SUBMITTING, JobState.FAILED, ErrorKind.ALREADY_EXISTS, exc.reason
            )

    async def _reuse_known_video(self, job: Job) -> bool:
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
                return True
        return False

    async def _await_own_callback(self, job: Job) -> None:
        """An earlier create of this job was accepted but its answer lost, and the provider
        names no task: the video still comes to this job's own callback URL, so wait for it
        until the job's deadline instead of failing (a callback then wakes it)."""
        fresh = await self._repo.get(job.id) or job
        now = self._clock()
        wake_at = now if fresh.callback_task_id else job.created_at + self._config.job_timeout
        won = await self._repo.transition(
            job.id, expected=JobState.SUBMITTING, to=JobState.PENDING, next_poll_at=wake_at
        )
        if won:
            log.info("job %s: video already exists upstream; waiting for its callback", job.id)
            self._wake_reconciler()
            await self._show(job.id, Phase.RENDERING)

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
        result = await self._details(job, job.video_task_id)
        fresh = await self._repo.get(job.id) or job
        if result is None and fresh.callback_video_url:
            # The poll could not answer; a signed callback's word is the best we have (§4.7).
            result = VideoResult(
                task_id=None, status=VideoStatus.SUCCEEDED, video_url=fresh.callback_video_url
            )
        await self._apply(fresh, result)

    async def _details(self, job: Job, video_task_id: str) -> VideoResult | None:
        """The upstream's details of a task, or None when it cannot answer now."""
        try:
            return await self._client.details(video_task_id)  # within the provider's rate
        except (UpstreamUnavailable, MalformedResponse) as exc:
            log.info("job %s: details unavailable: %s", job.id, exc)
        except UpstreamRejected as exc:
            log.warning("job %s: details refused: %s", job.id, exc)
        return None

    async def _await_callback(self, job: Job) -> None:
        """A pending job without a task id (see `_await_own_callback`): adopt the task a
        callback named once a details answer ties it to this job, or keep waiting."""
        now = self._clock()
        if not await self._lease(job, JobState.PENDING, now, "poll_attempts"):
            return
        named = job.callback_task_id
        if named is not None:
            result = await self._details(job, named)
            if result is None:  # cannot tell now: look again soon
                delay = self._poll_backoff.delay(job.poll_attempts, self._rng)
                await self._schedule(job, JobState.PENDING, now + timedelta(seconds=delay))
                return
            if self._belongs_to(job, result):
                await self._adopt(job, named, result)
                return
            log.warning("job %s: callback named task %s of another job; ignored", job.id, named)
            await self._repo.transition(job.id, expected=JobState.PENDING, callback_task_id=None)
        deadline = job.created_at + self._config.job_timeout
        if now >= deadline:
            await self._finish(
                job.id, JobState.PENDING, JobState.TIMED_OUT, ErrorKind.TIMEOUT, None
            )
        else:
            await self._schedule(job, JobState.PENDING, deadline)

    def _belongs_to(self, job: Job, result: VideoResult) -> bool:
        """Whether a details answer shows the task was made for this job: it was created with
        this job's own callback URL or, where the dialect names no URL, for this track."""
        if result.callback_url is not None:
            own = callback_url(self._config.public_base_url, self._tokens.token_for(job.id))
            return result.callback_url == own
        return result.audio_id is not None and result.audio_id == job.audio_id

    async def _adopt(self, job: Job, video_task_id: str, result: VideoResult) -> None:
        won = await self._repo.transition(
            job.id,
            expected=JobState.PENDING,
            video_task_id=video_task_id,
            callback_task_id=None,
        )
        if won:
            log.info("job %s: follows video task %s named by its callback", job.id, video_task_id)
            fresh = await self._repo.get(job.id) or job
            await self._apply(fresh, result)

    async def _recheck_final(self, job: Job, *, leased: bool = False) -> None:
        """One more look at a failed-as-existing or timed-out job a callback (or the "Check
        status" button) woke: deliver the video if the upstream has it after all."""
        now = self._clock()
        if not leased and not await self._repo.claim(
            job.id,
            expected=job.state,
            column="next_poll_at",
            now=now,
            lease_until=now + timedelta(seconds=self._config.lease_seconds),
        ):
            return
        task = job.video_task_id or job.callback_task_id
        result = await self._details(job, task) if task is not None else None
        ours = result is not None and (
            job.video_task_id is not None or self._belongs_to(job, result)
        )
        if result is not None and ours and result.status is VideoStatus.SUCCEEDED:
            won = await self._repo.transition(
                job.id,
                expected=job.state,
                to=JobState.SUCCEEDED,
                video_task_id=task,
                callback_task_id=None,
                video_url=result.video_url,
                completed_at=result.completed_at or self._clock(),
                error_kind=None,
                error=None,
                next_poll_at=None,
                next_delivery_at=self._clock(),
            )
            if won:
                log.info("job %s: video found after %s state=succeeded", job.id, job.state)
                self._wake_delivery()
                return
        await self._repo.transition(job.id, expected=job.state, next_poll_at=None)

    async def _apply(self, job: Job, result: VideoResult | None) -> None:
        if (
            result is not None
            and result.raw_status is not None
            and result.status is VideoStatus.PENDING
        ):
            log.debug("job %s: upstream status %s", job.id, result.raw_status)
        if result is not None and result.status is VideoStatus.SUCCEEDED and result.video_url:
            self._video_hosts.learn(result.video_url)
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
            delay = 3.0  # a signed callback said done but the poll disagrees: look again soon
        else:
            delay = self._poll_backoff.delay(job.poll_attempts, self._rng)
        delay = max(MIN_POLL_GAP_SECONDS, delay)
        deadline = job.created_at + self._config.job_timeout
        next_at = min(now + timedelta(seconds=delay), max(deadline, now))
        await self._schedule(job, JobState.PENDING, next_at)

    async def _schedule(self, job: Job, state: JobState, at: datetime) -> None:
        await self._repo.transition(job.id, expected=state, next_poll_at=at)

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
        """Move to a final failure state; the delivery loop then tells the chat (an outbox).
        A provider's own failure or a credits refusal becomes a local render instead when
        RENDER_FALLBACK is on (issue 10)."""
        fallback = to is JobState.FAILED and kind in _FALLBACK_KINDS
        if (
            fallback
            and self._config.render_fallback
            and await self._fall_back(job_id, expected, kind, detail)
        ):
            return
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

    async def _fall_back(
        self, job_id: int, expected: JobState, kind: ErrorKind, detail: str | None
    ) -> bool:
        """Fail the job quietly and write the render that stands in for it; True if done."""
        job = await self._repo.get(job_id)
        if job is None or job.kind != KIND_PROVIDER or job.state is not expected:
            return False
        render = stand_in_render(
            job,
            due=self._clock(),
            author=job.author,
            domain_name=job.domain_name,
            video_format=FALLBACK_FORMAT,
            lyric_style=job.lyric_style,
            look=job.look,
            lyrics_revision=job.lyrics_revision,
        )
        created = await self._repo.fail_into_fallback(
            job_id, expected=expected, error_kind=kind.value, error=detail, render=render
        )
        if created is None:
            return False
        log.info("job %s failed (%s); rendering it locally as job %s", job_id, kind, created.id)
        self._wake_renderer()
        await self._notifier.show(created, Phase.FALLBACK)
        return True

    async def _show(self, job_id: int, phase: Phase) -> None:
        """Show `phase` unless the status message already says it (no needless edit)."""
        job = await self._repo.get(job_id)
        if (
            job is not None
            and job.status_phase != phase.value
            and await self._notifier.show(job, phase)
        ):
            await self._repo.record_status_phase(job.id, phase.value)


_HAS_VIDEO = frozenset({JobState.SUCCEEDED, JobState.DELIVERED})
# Failures our own renderer stands in for (issue 10): the provider's own failure to make the
# video (GENERATE_MP4_FAILED, vidgo `failed`) and a refusal for credits.
_FALLBACK_KINDS = frozenset({ErrorKind.PROVIDER_FAILED, ErrorKind.CREDITS})
FALLBACK_FORMAT = "16:9"  # a fallback render stands in for the provider's landscape video
# Final states a callback may still turn into a video (docs/architecture.md §4.2; `_recheck_final`).
_RECHECKABLE = frozenset({JobState.FAILED, JobState.TIMED_OUT})
