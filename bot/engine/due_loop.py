"""One loop over rows that are due, woken early by an event: the shape of the poll reconciler
and the delivery worker (docs/architecture.md §5.1). No per-job timers; nothing lost on restart.

A sliding window: up to `concurrency` jobs run at once, and a free slot is refilled as soon as
any job finishes, so one slow job never holds back the others. Every step runs under
`step_timeout`; a step that exceeds it is cancelled and the job is picked up again when due.
With a fair share, at most `per_key` rows of one key (a chat) are in progress at once, so one
chat's backlog never holds back the others (the due query must rank rows per key, §5.1).
An iteration that fails (a due query's database error) is reported to the loop's `PartHealth`,
which logs it once per cause; the loop backs off and goes on (docs/architecture.md §5.3).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Generic, Protocol, TypeVar

from bot.health import PartHealth

log = logging.getLogger(__name__)

FAILURE_COOLDOWN_SECONDS = 1.0  # a job whose step failed is not taken again sooner
SPIN_GUARD_SECONDS = 0.02  # least wait between two looks at the table
BLOCKED_WAIT_SECONDS = 1.0  # most wait while every due row is in progress or cooling down


class _Fill(Enum):
    """What one look at the due rows found."""

    FULL = "every slot busy"
    MORE = "started jobs; more may be due"
    BLOCKED = "due rows, but all in progress or cooling down"
    IDLE = "nothing more due now"


class DueRow(Protocol):
    """What the loop needs of a due row (a job, a channel post): its id."""

    @property
    def id(self) -> int: ...


RowT = TypeVar("RowT", bound=DueRow)


@dataclass(frozen=True, slots=True)
class FairShare(Generic[RowT]):
    """At most `per_key` rows with the same `key(row)` (a chat) in progress at once."""

    key: Callable[[RowT], Hashable]
    per_key: int


class DueLoop(Generic[RowT]):
    """Repeatedly fetches due jobs and keeps up to `concurrency` of them in progress, then
    sleeps until the next due time, a wake-up or a finished job, whichever comes first."""

    def __init__(
        self,
        name: str,
        *,
        fetch_due: Callable[[datetime, int], Awaitable[list[RowT]]],
        next_due: Callable[[], Awaitable[datetime | None]],
        process: Callable[[RowT], Awaitable[None]],
        clock: Callable[[], datetime],
        batch_size: int = 50,
        concurrency: int = 8,
        max_idle_seconds: float = 60.0,
        wakeup: asyncio.Event | None = None,
        step_timeout: float = 300.0,
        stop_grace_seconds: float = 5.0,
        fair_share: FairShare[RowT] | None = None,
        health: PartHealth | None = None,
    ) -> None:
        self.name = name
        self._fetch_due = fetch_due
        self._next_due = next_due
        self._process = process
        self._clock = clock
        self._batch_size = max(1, batch_size)
        self._concurrency = max(1, concurrency)
        self._max_idle = max_idle_seconds
        self._wake = wakeup or asyncio.Event()
        self._step_timeout = step_timeout
        self._stop_grace = stop_grace_seconds
        self._fair = fair_share
        self.health = health or PartHealth(name)
        self._stopping = False
        self._stopped = asyncio.Event()  # set by `stop`; unlike the wake-up, never cleared
        self._running: dict[int, asyncio.Task[bool]] = {}  # job id → its step: never two
        self._keys: dict[int, Hashable] = {}  # job id in progress → its fair-share key
        self._cooldown: dict[int, float] = {}  # job id → monotonic time it may run again

    async def next_due_at(self) -> datetime | None:
        """The earliest planned due time of this loop's rows, or None."""
        return await self._next_due()

    @property
    def in_progress(self) -> frozenset[int]:
        """Ids of the jobs being processed right now."""
        return frozenset(self._running)

    @property
    def stopping(self) -> bool:
        """Whether `stop` was called."""
        return self._stopping

    def wake(self) -> None:
        """Look for due work now instead of at the next planned time."""
        self._wake.set()

    def stop(self) -> None:
        """Take no new work; `run` returns once in-flight steps finish (or after the grace
        period, cancelling what is left)."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()

    async def run(self) -> None:
        """Process due jobs until `stop` is called (or the task is cancelled); an iteration
        that fails is reported to `health` and retried after its backoff, never ends the loop."""
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    timeout = await self._iterate()
                except Exception as exc:  # noqa: BLE001 - the loop must outlive any failure; logged by health
                    await self._back_off(self.health.failed(exc))
                    continue
                self.health.succeeded()
                if timeout is not None:
                    await self._wait(timeout)
        finally:
            await self._drain()

    async def _iterate(self) -> float | None:
        """Start what is due; None to look again at once, else how long to wait at most
        (math.inf: until a step finishes)."""
        outcome = await self._fill()
        if self.stopping:
            return None
        if outcome is _Fill.MORE and len(self._running) < self._concurrency:
            return None
        return await self._timeout(outcome)

    async def _back_off(self, seconds: float) -> None:
        """Wait out a failed iteration's backoff; only `stop` cuts it short (a wake-up would
        turn a failing database into a hot loop)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    async def _fill(self) -> _Fill:
        """Start due jobs in the free slots and say what the loop should wait for."""
        free = self._concurrency - len(self._running)
        if free <= 0:
            return _Fill.FULL
        now_mono = time.monotonic()
        self._cooldown = {k: v for k, v in self._cooldown.items() if v > now_mono}
        # Rows in progress or cooling down may still read as due: fetch past them.
        limit = min(self._batch_size, free) + len(self._running) + len(self._cooldown)
        # With a fair share the query returns at most `per_key` rows per key, ranked (every
        # key's first row, then every key's second…), so the rows skipped for a key at its share
        # are rows of keys in progress: `len(self._running)` covers them as well.
        due = await self._fetch_due(self._clock(), limit)
        started = 0
        busy = Counter(self._keys.values())
        for job in due:
            if started >= free:
                return _Fill.MORE
            if job.id in self._running or job.id in self._cooldown:
                continue
            key = self._fair.key(job) if self._fair is not None else None
            if self._fair is not None and busy[key] >= self._fair.per_key:
                continue
            self._start(job, key)
            busy[key] += 1
            started += 1
        if started == 0:
            return _Fill.BLOCKED if due else _Fill.IDLE
        return _Fill.MORE if len(due) >= limit else _Fill.IDLE

    def _start(self, job: RowT, key: Hashable) -> None:
        task = asyncio.create_task(self._guarded(job), name=f"{self.name}-job{job.id}")
        self._running[job.id] = task
        if self._fair is not None:
            self._keys[job.id] = key
        task.add_done_callback(functools.partial(self._finished, job.id))

    def _finished(self, job_id: int, task: asyncio.Task[bool]) -> None:
        if self._running.get(job_id) is task:
            del self._running[job_id]
            self._keys.pop(job_id, None)
        if task.cancelled() or not task.result():
            self._cooldown[job_id] = time.monotonic() + FAILURE_COOLDOWN_SECONDS

    async def _timeout(self, outcome: _Fill) -> float:
        """How long to wait at most before looking again (math.inf: until a step ends)."""
        if outcome is _Fill.FULL or len(self._running) >= self._concurrency:
            return math.inf  # only a finished job (or stop) frees a slot
        if outcome is _Fill.BLOCKED:
            # Every due row is in progress, cooling down or of a chat at its share: look again
            # when one could start.
            soonest = min(self._cooldown.values(), default=math.inf) - time.monotonic()
            return max(SPIN_GUARD_SECONDS, min(BLOCKED_WAIT_SECONDS, soonest))
        return await self._idle_seconds()

    async def _wait(self, seconds: float) -> None:
        """Wait for a wake-up, a finished job or `seconds` (never past max idle)."""
        if self.stopping:
            return
        waker = asyncio.create_task(self._wake.wait())
        try:
            await asyncio.wait(
                {waker, *self._running.values()},
                timeout=None if math.isinf(seconds) else seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            waker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waker

    async def _idle_seconds(self) -> float:
        next_at = await self._next_due()
        timeout = self._max_idle
        if next_at is not None:
            timeout = min(timeout, max(0.0, (next_at - self._clock()).total_seconds()))
        return max(timeout, SPIN_GUARD_SECONDS)

    async def _drain(self) -> None:
        """Let in-flight steps finish for the grace period, then cancel the rest."""
        tasks = list(self._running.values())
        if not tasks:
            return
        try:
            _, pending = await asyncio.wait(tasks, timeout=self._stop_grace)
        finally:
            for task in tasks:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if pending:
            log.warning("%s: cancelled %s steps still running at stop", self.name, len(pending))

    async def _guarded(self, job: RowT) -> bool:
        """Process one job under the step deadline; a failure is logged with the job id and
        the loop goes on. True when the step completed."""
        deadline = asyncio.timeout(self._step_timeout)
        try:
            async with deadline:
                await self._process(job)
        except TimeoutError:
            if deadline.expired():
                log.warning(
                    "%s: job %s exceeded the %.0fs step deadline; cancelled, retried when due",
                    self.name,
                    job.id,
                    self._step_timeout,
                )
                return False
            log.exception("%s: job %s failed; will retry when due again", self.name, job.id)
            return False
        except Exception:  # the loop's safety net: one bad job never stops the others
            log.exception("%s: job %s failed; will retry when due again", self.name, job.id)
            return False
        return True
