"""Periodic clean-up of tables that only grow (old track picks, old update ids): one background
task that runs every chore at start and then every hour, for as long as the bot runs.

No Telegram types. A chore is any `async () -> int` returning how many rows it removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from types import TracebackType

log = logging.getLogger(__name__)

Chore = Callable[[], Awaitable[int]]

HOUSEKEEPING_INTERVAL = timedelta(hours=1)


class Housekeeping:
    """Runs named chores now and then every `every`; `async with` starts and stops it."""

    def __init__(
        self, chores: Mapping[str, Chore], *, every: timedelta = HOUSEKEEPING_INTERVAL
    ) -> None:
        self._chores = dict(chores)
        self._every = every.total_seconds()
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
        """Run every chore, then wait `every`; until stopped."""
        while not self._stopping.is_set():
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._every)

    async def run_once(self) -> None:
        """Run each chore once; a failing chore is logged and the others still run."""
        for name, chore in self._chores.items():
            try:
                removed = await chore()
            except sqlite3.Error:
                log.exception("housekeeping: %s failed; will try again next round", name)
                continue
            if removed:
                log.info("housekeeping: %s removed %d rows", name, removed)
