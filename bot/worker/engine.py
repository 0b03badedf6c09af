"""The task engine's worker for renders (docs/architecture.md §8.8): procrastinate's worker
running the `render` task, plus the watch that re-queues the renders of workers that died.

Imported only with PostgreSQL (procrastinate and psycopg come with it): by `python -m bot worker`
and by a bot with RENDER_CONCURRENCY ≥ 1, which renders in-process through the same engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import procrastinate
import procrastinate.exceptions
import procrastinate.jobs

from storage.render_dispatch import RENDER_QUEUE, RENDER_TASK

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EngineTimings:
    """How fast the engine notices things. A worker writes its heartbeat every `heartbeat`
    seconds; one silent for `stalled_after` is dead and its renders are queued again by the
    watch, which looks every `watch_every` seconds; an abort request not received by
    LISTEN/NOTIFY is found by polling every `abort_poll`. The defaults find a killed worker's
    render within about 20 s (docs/architecture.md §8.8); tests pass shorter ones."""

    heartbeat: float = 5.0
    stalled_after: float = 15.0
    watch_every: float = 5.0
    abort_poll: float = 2.0
    fetch_poll: float = 5.0  # new jobs come by NOTIFY; this is the fallback

    @classmethod
    def scaled(cls, stalled_after: float) -> EngineTimings:
        """Every period in proportion to `stalled_after` (the test-only knob)."""
        third = stalled_after / 3
        return cls(
            heartbeat=third,
            stalled_after=stalled_after,
            watch_every=third,
            abort_poll=min(2.0, third),
            fetch_poll=min(5.0, third),
        )


# Renders job `job_id`; returns when to try it again, if the attempt planned a retry.
RenderTask = Callable[[int], Awaitable[datetime | None]]


class RetryAt(Exception):
    """The render's attempt planned a retry at `at`: the engine runs the same job then."""

    def __init__(self, at: datetime) -> None:
        super().__init__(f"retry at {at.isoformat()}")
        self.at = at


class AgainWhenStopped(procrastinate.BaseRetryStrategy):
    """A render stopped by its worker's shutdown goes straight back to the queue for another
    worker (a Cancel's abort is not retried: the engine fails an aborted job instead, and the
    row is FAILED already); one whose attempt planned a retry runs again at that time. Any
    other outcome is recorded on the row by `RenderJobs`."""

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> procrastinate.RetryDecision | None:
        """Retry at once after a cancellation, at the planned time after `RetryAt`, never
        otherwise."""
        if isinstance(exception, asyncio.CancelledError):
            return procrastinate.RetryDecision(retry_in={"seconds": 0})
        if isinstance(exception, RetryAt):
            return procrastinate.RetryDecision(retry_at=exception.at)
        return None


async def run_render_worker(
    url: str,
    render: RenderTask,
    *,
    concurrency: int,
    name: str,
    timings: EngineTimings | None = None,
) -> None:
    """Run the engine's worker on `url` with `concurrency` renders at once until cancelled;
    then running renders are cancelled (ffmpeg killed) and given back (`RenderJobs`), so
    another worker takes them. Never returns otherwise."""
    timings = timings or EngineTimings()
    connector = procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=4)
    app = procrastinate.App(connector=connector)

    @app.task(name=RENDER_TASK, queue=RENDER_QUEUE, retry=AgainWhenStopped())
    async def render_task(job_id: int) -> None:
        if (retry_at := await render(job_id)) is not None:
            raise RetryAt(retry_at)

    async with app.open_async():
        watch = asyncio.create_task(_watch_stalled(app, timings), name=f"{name}-stalled-watch")
        try:
            await app.run_worker_async(
                queues=[RENDER_QUEUE],
                name=name,
                concurrency=concurrency,
                install_signal_handlers=False,  # our process owns SIGTERM
                shutdown_graceful_timeout=0.0,  # a stop cancels renders: others take them
                update_heartbeat_interval=timings.heartbeat,
                stalled_worker_timeout=timings.stalled_after,
                abort_job_polling_interval=timings.abort_poll,
                fetch_job_polling_interval=timings.fetch_poll,
                listen_notify=True,
            )
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch


async def _watch_stalled(app: procrastinate.App, timings: EngineTimings) -> None:
    """Every `watch_every` s: renders running on a worker without a heartbeat for
    `stalled_after` s (killed, frozen, cut off) go back to the queue; the next attempt's
    fencing number makes the old one's later writes change nothing."""
    manager = app.job_manager
    while True:
        await asyncio.sleep(timings.watch_every)
        try:
            stalled = await manager.get_stalled_jobs(
                queue=RENDER_QUEUE, seconds_since_heartbeat=timings.stalled_after
            )
            for job in stalled:
                try:
                    await manager.retry_job(job)
                except procrastinate.exceptions.ConnectorException:
                    continue  # another watch re-queued it first
                log.warning(
                    "render engine job %s (%s) was on a worker that stopped answering;"
                    " queued again",
                    job.id,
                    job.task_kwargs,
                )
            await manager.prune_stalled_workers(timings.stalled_after)
        except procrastinate.exceptions.ConnectorException as exc:
            log.warning("stalled-render watch: %s", exc)
