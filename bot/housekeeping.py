"""Periodic clean-up of tables that only grow (old track picks, old update ids): one background
task that runs every chore at start and then every hour, for as long as the bot runs.

A failing chore (any exception) is reported to the part's health, which logs it once per cause;
the round is tried again after a capped backoff (docs/architecture.md §5.3).
No Telegram types. A chore is any `async () -> int` returning how many rows it removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from types import TracebackType

from bot.health import PartHealth, describe_cause

log = logging.getLogger(__name__)

Chore = Callable[[], Awaitable[int]]

HOUSEKEEPING_INTERVAL = timedelta(hours=1)


class ChoreFailed(Exception):
    """A chore raised: names the chore and its cause (the original is chained)."""


class Housekeeping:
    """Runs named chores now and then every `every`; `async with` starts and stops it."""

    def __init__(
        self,
        chores: Mapping[str, Chore],
        *,
        every: timedelta = HOUSEKEEPING_INTERVAL,
        health: PartHealth | None = None,
    ) -> None:
        self._chores = dict(chores)
        self._every = every.total_seconds()
        self.health = health or PartHealth("housekeeping")
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the background task is alive (for health checks)."""
        return self._task is not None and not self._task.done()

    async def __aenter__(self) -> Housekeeping:
        self._task = asyncio.create_task(self.run(), name="housekeeping")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()  # a chore is one short DELETE: nothing worth waiting for
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self) -> None:
        """Run every chore, then wait `every` (or, after a failure, the backoff); until
        stopped."""
        while not self._stopping.is_set():
            failure = await self.run_once()
            if failure is None:
                self.health.succeeded()
                wait = self._every
            else:
                wait = min(self._every, self.health.failed(failure))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), wait)

    async def run_once(self) -> Exception | None:
        """Run each chore once; a failing chore does not stop the others. Returns the last
        failure, if any (logged by the caller's health record, once per cause)."""
        failure: Exception | None = None
        for name, chore in self._chores.items():
            try:
                removed = await chore()
            except Exception as exc:  # noqa: BLE001 - a chore must never end the task; reported
                failure = ChoreFailed(f"{name}: {describe_cause(exc)}")
                failure.__cause__ = exc
                continue
            if removed:
                log.info("housekeeping: %s removed %d rows", name, removed)
        return failure
