"""One loop over rows that are due, woken early by an event: the shape of the poll reconciler
and the delivery worker (design.md §2). No per-job tasks or timers; nothing lost on restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from storage.jobs import Job

log = logging.getLogger(__name__)


class DueLoop:
    """Repeatedly fetches due jobs, processes a bounded batch concurrently, then sleeps until
    the next due time or a wake-up, whichever comes first."""

    def __init__(
        self,
        name: str,
        *,
        fetch_due: Callable[[datetime, int], Awaitable[list[Job]]],
        next_due: Callable[[], Awaitable[datetime | None]],
        process: Callable[[Job], Awaitable[None]],
        clock: Callable[[], datetime],
        batch_size: int = 50,
        concurrency: int = 8,
        max_idle_seconds: float = 60.0,
        wakeup: asyncio.Event | None = None,
    ) -> None:
        self.name = name
        self._fetch_due = fetch_due
        self._next_due = next_due
        self._process = process
        self._clock = clock
        self._batch_size = batch_size
        self._slots = asyncio.Semaphore(concurrency)
        self._max_idle = max_idle_seconds
        self._wake = wakeup or asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Look for due work now instead of at the next planned time."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the batch in hand, then return from `run`."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Process due jobs until `stop` is called."""
        while not self._stopping:
            self._wake.clear()
            due = await self._fetch_due(self._clock(), self._batch_size)
            failures = 0
            if due:
                outcomes = await asyncio.gather(*(self._guarded(job) for job in due))
                failures = outcomes.count(False)
                if len(due) == self._batch_size and not failures:
                    continue
            await self._sleep_until_due(min_seconds=1.0 if failures else 0.02 if due else 0.0)

    async def _sleep_until_due(self, min_seconds: float) -> None:
        """Wait for the next due time or a wake-up; `min_seconds` keeps a stuck row from
        turning the loop into a busy spin."""
        next_at = await self._next_due()
        timeout = self._max_idle
        if next_at is not None:
            timeout = min(timeout, max(0.0, (next_at - self._clock()).total_seconds()))
        timeout = max(timeout, min_seconds)
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _guarded(self, job: Job) -> bool:
        """Process one job; a failure is logged with the job id and the loop goes on."""
        async with self._slots:
            try:
                await self._process(job)
            except Exception:
                log.exception("%s: job %s failed; will retry when due again", self.name, job.id)
                return False
            return True
