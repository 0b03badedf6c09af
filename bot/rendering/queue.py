"""A first-come-first-served limit on concurrent renders (RENDER_CONCURRENCY) that tells each
waiting job its place in line."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """A waiting job's place: `ahead` jobs wait before it, `running` renders are in progress."""

    ahead: int
    running: int


PositionCallback = Callable[[QueuePosition], None]


def _ignore(_: QueuePosition) -> None:
    return None


class _Waiter:
    def __init__(self, on_position: PositionCallback) -> None:
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.on_position = on_position


class RenderQueue:
    """At most `concurrency` holders at once; the rest wait in arrival order."""

    def __init__(self, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._concurrency = concurrency
        self._running = 0
        self._waiting: deque[_Waiter] = deque()

    @property
    def running(self) -> int:
        """Renders holding a slot now."""
        return self._running

    @property
    def waiting(self) -> int:
        """Jobs waiting for a slot."""
        return len(self._waiting)

    @asynccontextmanager
    async def slot(self, on_position: PositionCallback = _ignore) -> AsyncIterator[None]:
        """Hold one render slot for the `async with` body; `on_position` hears each new place."""
        await self._acquire(on_position)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, on_position: PositionCallback) -> None:
        if self._running < self._concurrency and not self._waiting:
            self._running += 1
            return
        waiter = _Waiter(on_position)
        self._waiting.append(waiter)
        on_position(QueuePosition(len(self._waiting) - 1, self._running))
        try:
            await waiter.ready
        except asyncio.CancelledError:
            if waiter.ready.done() and not waiter.ready.cancelled():
                self._release()  # the slot was handed over just as we were cancelled
            else:
                if waiter in self._waiting:  # `_release` may have skipped it already
                    self._waiting.remove(waiter)
                self._announce()
            raise

    def _release(self) -> None:
        self._running -= 1
        while self._waiting and self._running < self._concurrency:
            waiter = self._waiting.popleft()
            if waiter.ready.done():
                # Cancelled, its task not resumed yet (in the same loop step as this release):
                # it gets no slot, and the next waiter does.
                continue
            self._running += 1
            waiter.ready.set_result(None)
        self._announce()

    def _announce(self) -> None:
        for ahead, waiter in enumerate(self._waiting):
            waiter.on_position(QueuePosition(ahead, self._running))
