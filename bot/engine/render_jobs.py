"""The renderer loop's step: render a due render job from its plan into an MP4 waiting for
delivery (docs/architecture.md §8.2).

A render is a job like the provider ones: the row exists before any work, every change is a
compare-and-set, the lease is released at start (so a restart renders again) and the finished
file goes out through the delivery loop. Rendering reads only the row and its `RenderPlan`
(prepared through the `RenderPreparer` port when the row has none yet): it fetches the
sources, runs `bot.rendering` in a RenderQueue slot, reports progress through the
`ProgressPort` and handles Cancel.

With PostgreSQL (docs/architecture.md §8.8) the two halves run apart: the leader's renderer
loop prepares a due render and queues it as a task-engine job (`process`), and whichever
process runs the engine's worker renders it (`render_dispatched`) under a fencing number and
hands the file straight to delivery.

Must not import Telegram, bot.text, handlers, the provider client or the preparation.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.domain import JobState
from bot.engine.job_model import ErrorKind
from bot.engine.loops import render_variant
from bot.engine.render_plan import (
    BadPlan,
    ProgressPort,
    RenderPlan,
    RenderPreparer,
    RenderProgress,
    RenderRefused,
    SourcePending,
    SourceTransient,
    SourceUnavailable,
    plan_from_json,
)
from bot.engine.render_sources import RenderSources
from bot.engine.render_workdirs import fresh_dir, job_dirs, remove_work_dir
from bot.rendering import (
    BadInput,
    RenderedVideo,
    Renderer,
    RenderError,
    RenderQueue,
    TrackTooLong,
)
from storage.jobs import KIND_RENDER, Job, JobRepository
from storage.render_dispatch import RenderDispatch

log = logging.getLogger(__name__)

RENDER_ATTEMPTS = 3  # attempts of one render (transient or unexpected failures), then it fails
RETRY_SECONDS = 15.0  # the first retry's delay; doubled for each later one
# No retry is planned past this much time from the job's creation: it fails instead.
RENDER_RETRY_WINDOW = timedelta(hours=2)
CANCEL_NOTICE_DELAY = timedelta(seconds=2)  # the delivery loop tells "cancelled" after this
# How long the leader leaves a queued render alone before it checks its engine job again
# (a render the engine lost, e.g. stopped by a shutdown, is queued again after this).
DISPATCH_LEASE = timedelta(seconds=60)
# A dispatched render's file waits this long for its renderer's own delivery before the
# leader's delivery loop may take it (docs/architecture.md §8.8).
HAND_OVER_LEASE = timedelta(minutes=15)

# Hands a dispatched render's outcome (attempt `fence`: a file, or a failure to tell) to
# delivery.
HandOver = Callable[[int, int], Awaitable[None]]


class RenderJobs:
    """Renders due render jobs from their plans, one RenderQueue slot each, and cancels them
    on request."""

    def __init__(
        self,
        *,
        repo: JobRepository,
        preparer: RenderPreparer,
        sources: RenderSources,
        progress: ProgressPort,
        renderer: Callable[[], Awaitable[Renderer]],
        queue: RenderQueue,
        work_root: Path,
        clock: Callable[[], datetime],
        wake_delivery: Callable[[], None],
        lease_seconds: float = 4 * 3600.0,
        dispatch: RenderDispatch | None = None,
        hand_over: HandOver | None = None,
    ) -> None:
        self._repo = repo
        self._preparer = preparer
        self._sources = sources
        self._progress = progress
        self._renderer = renderer
        self._queue = queue
        self._work_root = work_root
        self._clock = clock
        self._wake_delivery = wake_delivery
        self._lease_seconds = lease_seconds
        self._dispatch = dispatch
        self._hand_over = hand_over
        self._running: dict[int, asyncio.Task[bool]] = {}
        self._cancelled: set[int] = set()

    @property
    def step_deadline(self) -> float:
        """The longest one step may take: waiting in the queue, fetching and rendering."""
        return self._lease_seconds

    async def process(self, job: Job) -> None:
        """The renderer loop's step: lease the job, prepare it unless its plan is stored,
        render it, hand it to delivery."""
        if job.state is not JobState.SUBMITTING or job.kind != KIND_RENDER:
            return
        now = self._clock()
        if not await self._repo.claim(
            job.id,
            expected=JobState.SUBMITTING,
            column="next_poll_at",
            now=now,
            lease_until=now + timedelta(seconds=self._lease_seconds),
            # With the engine an attempt is counted when a worker claims it.
            counter=None if self._dispatch is not None else "submit_attempts",
        ):
            return
        if self._dispatch is not None:
            await self._prepare_and_queue(job)
            return
        await self._run(job, fence=None)

    async def _prepare_and_queue(self, job: Job) -> None:
        """With the engine (§8.8): prepare the render unless its plan is stored, then queue
        it; a preparation that fails is retried or failed as a render attempt would be."""
        assert self._dispatch is not None
        try:
            if job.render_plan is None and await self._preparer.prepare(job) is None:
                return
        except SourcePending as exc:  # no attempt was counted for a preparation here
            await self._wait_for_source(job, exc, fence=None, give_back=False)
            return
        except RenderRefused as exc:
            await self._fail(job, ErrorKind(exc.kind), exc.detail, fence=None)
            return
        except SourceTransient as exc:
            await self._retry_or_fail(job, exc, ErrorKind.SOURCE_UNAVAILABLE, fence=None)
            return
        except SourceUnavailable as exc:
            await self._fail(job, ErrorKind.SOURCE_UNAVAILABLE, str(exc), fence=None)
            return
        await self._dispatch.queue(job.id, lease_until=self._clock() + DISPATCH_LEASE)

    async def render_dispatched(self, job_id: int) -> datetime | None:
        """The engine task (§8.8): claim the next attempt of a queued render (a new fencing
        number), render it, and hand the outcome to delivery (the file, or the failure to
        tell); every write of this attempt is a compare-and-set on its fence, so an attempt
        that froze and woke up changes nothing. Returns when to try again, if this attempt
        planned a retry (the engine runs the same job again then)."""
        now = self._clock()
        job = await self._repo.claim_render(
            job_id, lease_until=now + timedelta(seconds=self._lease_seconds)
        )
        if job is None:
            log.info("job %s: nothing to render (cancelled, rendered or not prepared)", job_id)
            return None
        return await self._run(job, fence=job.render_fence)

    async def sweep(self) -> int:
        """At start: remove work dirs no render waits on (a kill can leave them behind); a
        rendered file waiting for delivery stays."""
        folders = await asyncio.to_thread(job_dirs, self._work_root)
        removed = 0
        for job_id, folder in folders:
            job = await self._repo.get(job_id)
            if job is None or job.state is not JobState.SUCCEEDED:
                await asyncio.to_thread(remove_work_dir, folder)
                removed += 1
        return removed

    async def cancel(self, job_id: int) -> bool:
        """Cancel a render not yet finished (ffmpeg is killed); True if this call did it."""
        job = await self._repo.get(job_id)
        if job is None or job.kind != KIND_RENDER or job.state is not JobState.SUBMITTING:
            return False
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            to=JobState.FAILED,
            error_kind=ErrorKind.CANCELLED.value,
            error=None,
            next_poll_at=None,
            next_delivery_at=self._clock() + CANCEL_NOTICE_DELAY,
        )
        if not won:
            return False
        # A render claimed but not started yet has no task here: it looks at its row first
        # thing (`_attempt`) and stops there.
        if self._dispatch is not None:  # the render may run in another process (§8.8)
            await self._dispatch.abort(job.id)
        task = self._running.get(job.id)
        if task is not None:
            self._cancelled.add(job.id)
            task.cancel()
            # Its outcome is recorded by `_run`, which awaits it; only wait for ffmpeg to end.
            await asyncio.wait({task}, timeout=10.0)
        await self._repo.transition(
            job.id, expected=JobState.FAILED, next_delivery_at=self._clock()
        )
        self._wake_delivery()
        return True

    def _delivery_due(self, fence: int | None) -> datetime:
        """When the leader's delivery loop may take a rendered job: at once in-process; a
        dispatched render's own process delivers it first (§8.8)."""
        now = self._clock()
        return now if fence is None or self._hand_over is None else now + HAND_OVER_LEASE

    async def _reuse(self, job: Job, fence: int | None) -> bool | None:
        """The same track, format and look was rendered and posted before: send it again.
        A file_id still on a render being rendered is one Telegram refused (delivery sent the
        job back, docs/architecture.md §6.2): that one is not reused. None: nothing to reuse
        (render it); else whether this attempt recorded the reuse."""
        done = await self._repo.find_rendered(job)
        if done is None or (job.file_id is not None and done.file_id == job.file_id):
            return None
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            to=JobState.SUCCEEDED,
            fence=fence,
            file_id=done.file_id,
            still_file_id=done.still_file_id,  # a live photo's still (issue 20)
            render_facts=done.render_facts,
            title=job.title or done.title,
            completed_at=self._clock(),
            next_poll_at=None,
            next_delivery_at=self._delivery_due(fence),
        )
        if won:
            log.info("job %s: rendered before as job %s; sending it again", job.id, done.id)
            self._wake_delivery()
        return won

    async def _run(self, job: Job, *, fence: int | None) -> datetime | None:
        """One attempt in a child task Cancel can stop; every way it can end is recorded on
        the row (a success, a retry, or a failure the chat is told about). The retry's time
        when one was planned."""
        reporter = self._progress.for_job(job)
        task = asyncio.create_task(self._attempt(job, reporter, fence), name=f"render-{job.id}")
        self._running[job.id] = task
        retry_at: datetime | None = None
        try:
            await task
        except asyncio.CancelledError:
            if job.id in self._cancelled and not _current_cancelling():
                log.info("job %s: render cancelled by the user", job.id)
                return None
            if fence is not None:  # stopped (a worker's shutdown): queued again by the leader
                await asyncio.shield(self._give_back(job, fence))
            raise
        except SourcePending as exc:
            retry_at = await self._wait_for_source(job, exc, fence=fence, give_back=True)
        except RenderRefused as exc:
            await self._fail(job, ErrorKind(exc.kind), exc.detail, fence=fence)
        except SourceTransient as exc:
            retry_at = await self._retry_or_fail(
                job, exc, ErrorKind.SOURCE_UNAVAILABLE, fence=fence
            )
        except (SourceUnavailable, BadInput) as exc:
            await self._fail(job, ErrorKind.SOURCE_UNAVAILABLE, str(exc), fence=fence)
        except TrackTooLong as exc:
            await self._fail(job, ErrorKind.TRACK_TOO_LONG, None, log_detail=str(exc), fence=fence)
        except RenderError as exc:
            await self._fail(job, ErrorKind.RENDER_FAILED, None, log_detail=str(exc), fence=fence)
        except Exception as exc:  # anything else (a full disk, a flood wait…)
            # must not leave the job in SUBMITTING until its 4 h lease runs out: retried
            # within the attempt cap, then failed with a notice (docs/architecture.md §8.2).
            log.exception("job %s: render attempt failed unexpectedly", job.id)
            retry_at = await self._retry_or_fail(job, exc, ErrorKind.RENDER_FAILED, fence=fence)
        finally:
            self._running.pop(job.id, None)
            self._cancelled.discard(job.id)
            await reporter.close()
        if fence is not None and self._hand_over is not None and retry_at is None:
            await self._hand_over(job.id, fence)  # delivery reads the row: what to send, if any
        return retry_at

    async def _give_back(self, job: Job, fence: int) -> None:
        """A dispatched attempt stopped before its end: the row is due again at once, so the
        leader queues it anew (only while no later attempt has taken it)."""
        if await self._repo.transition(
            job.id, expected=JobState.SUBMITTING, fence=fence, next_poll_at=self._clock()
        ):
            log.info("job %s: render stopped before its end; queued again", job.id)

    async def _attempt(self, job: Job, reporter: RenderProgress, fence: int | None) -> bool:
        """Reuse an earlier render or render its plan anew in a fresh work dir; the dir goes
        unless the rendered file is handed to delivery. True when the row now says
        SUCCEEDED by this attempt."""
        fresh = await self._repo.get(job.id)
        if fresh is None or fresh.state is not JobState.SUBMITTING:
            log.info("job %s: cancelled before its render started", job.id)
            return False
        if fence is not None and fresh.render_fence != fence:
            log.info("job %s: a later attempt took this render over", job.id)
            return False
        if (reused := await self._reuse(fresh, fence)) is not None:
            return reused
        plan = await self._plan(fresh)
        if plan is None:
            return False
        folder = self._work_root / f"job{job.id}"
        try:
            await asyncio.to_thread(fresh_dir, folder)
            video, title = await self._render(fresh, plan, folder, reporter)
            if await self._succeeded(fresh, video, title, fence):
                return True
        except BaseException:
            remove_work_dir(folder)
            raise
        remove_work_dir(folder)
        return False

    async def _plan(self, job: Job) -> RenderPlan | None:
        """The plan stored on the row, else one prepared now (None: the job moved on)."""
        if job.render_plan is not None:
            try:
                return plan_from_json(job.render_plan)
            except BadPlan as exc:
                if self._dispatch is not None:  # no provider here: prepared by the leader
                    raise SourceUnavailable(f"stored render plan unreadable: {exc}") from exc
                log.warning("job %s: stored render plan unreadable (%s); preparing", job.id, exc)
        return await self._preparer.prepare(job)

    async def _render(
        self, job: Job, plan: RenderPlan, folder: Path, reporter: RenderProgress
    ) -> tuple[RenderedVideo, str]:
        renderer = await self._renderer()
        if plan.variant is not None:  # a Canvas loop or live photo (docs/architecture.md §10.3)
            return await render_variant(
                self._sources,
                self._queue,
                job=job,
                plan=plan,
                folder=folder,
                renderer=renderer,
                reporter=reporter,
            )
        spec = await self._sources.spec(job, plan, folder, renderer)
        async with self._queue.slot(on_position=reporter.queued):
            reporter.progress(0.0)
            video = await renderer.render(spec, workdir=folder, on_progress=reporter.progress)
        return video, spec.title

    async def _succeeded(
        self, job: Job, video: RenderedVideo, title: str, fence: int | None
    ) -> bool:
        facts = {
            "width": video.width,
            "height": video.height,
            "duration": video.duration,
            "size": video.size,
            "thumbnail": str(video.thumbnail),
            "cover": str(video.cover),
        }
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            to=JobState.SUCCEEDED,
            fence=fence,
            file_id=None,  # a file_id Telegram refused (§6.2) is not tried again
            output_path=str(video.path),
            render_facts=json.dumps(facts),
            title=title,
            completed_at=self._clock(),
            next_poll_at=None,
            next_delivery_at=self._delivery_due(fence),
        )
        if won:
            log.info("job %s rendered (%s bytes) state=succeeded", job.id, video.size)
            self._wake_delivery()
        return won

    async def _retry_or_fail(
        self, job: Job, exc: Exception, kind: ErrorKind, *, fence: int | None
    ) -> datetime | None:
        """Try again later while attempts and the retry window last, else fail as `kind`;
        when the retry is, if this call planned one."""
        fresh = await self._repo.get(job.id) or job
        attempts = max(1, fresh.submit_attempts)
        delay = RETRY_SECONDS * 2 ** (attempts - 1)
        if isinstance(exc, SourceTransient):
            delay = max(delay, exc.retry_after)
        retry_at = self._clock() + timedelta(seconds=delay)
        if attempts >= RENDER_ATTEMPTS or retry_at > fresh.created_at + RENDER_RETRY_WINDOW:
            detail = f"{type(exc).__name__}: {exc}"
            await self._fail(job, kind, None, log_detail=detail, fence=fence)
            return None
        log.info(
            "job %s: render attempt %s failed (%s); retry in %.0fs", job.id, attempts, exc, delay
        )
        # With the engine its job runs again then; the row says so too, so the leader queues
        # it again should that engine job be lost (§8.8).
        planned = await self._repo.transition(
            job.id, expected=JobState.SUBMITTING, fence=fence, next_poll_at=retry_at
        )
        return retry_at if planned else None

    async def _wait_for_source(
        self, job: Job, exc: SourcePending, *, fence: int | None, give_back: bool
    ) -> datetime | None:
        """A source still being made (a karaoke's separation, docs/architecture.md §9.7):
        look again after its wait, giving back the attempt this step counted (waiting is not
        failing; the source's own deadline ends the wait)."""
        fresh = await self._repo.get(job.id) or job
        retry_at = self._clock() + timedelta(seconds=exc.retry_after)
        attempts = max(0, fresh.submit_attempts - 1) if give_back else fresh.submit_attempts
        log.info(
            "job %s: waiting for its source (%s); again in %.0fs", job.id, exc, exc.retry_after
        )
        planned = await self._repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            fence=fence,
            next_poll_at=retry_at,
            submit_attempts=attempts,
        )
        return retry_at if planned else None

    async def _fail(
        self,
        job: Job,
        kind: ErrorKind,
        detail: str | None,
        *,
        log_detail: str | None = None,
        fence: int | None,
    ) -> None:
        log.warning("job %s: render failed (%s): %s", job.id, kind, log_detail or detail)
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            to=JobState.FAILED,
            fence=fence,
            error_kind=kind.value,
            error=detail[:300] if detail else None,
            next_poll_at=None,
            next_delivery_at=self._clock(),
        )
        if won:
            self._wake_delivery()


def _current_cancelling() -> bool:
    """Whether the current task itself is being cancelled (shutdown), not just the child."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
