"""A sliding-window rate limiter: at most `max_calls` starts in any `period` seconds.

Token buckets (aiolimiter) let a full bucket through at once and then refill, so a burst at
the start of a backlog passes twice the documented rate within the first window; providers
count in windows (docs/providers.md §6.2), so this limiter does too. `pause` honours a provider's
Retry-After for every caller.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable


class SlidingWindowLimiter:
    """`async with limiter:` waits until a start fits the window; starts are served in order."""

    def __init__(
        self,
        max_calls: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_calls < 1 or period <= 0:
            raise ValueError("a limiter needs max_calls >= 1 and period > 0")
        self.max_calls = max_calls
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._turn = asyncio.Lock()

    def would_wait(self) -> bool:
        """Whether a start right now would have to wait (for a "queued" notice)."""
        now = self._clock()
        self._forget_before(now - self.period)
        return self._turn.locked() or now < self._paused_until or self._full()

    def pause(self, seconds: float) -> None:
        """Let no start through for `seconds` (the provider asked us to slow down)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self) -> None:
        """Wait for a free place in the window and take it."""
        async with self._turn:
            while True:
                now = self._clock()
                self._forget_before(now - self.period)
                wait = self._paused_until - now
                if wait <= 0 and not self._full():
                    self._starts.append(now)
                    return
                if wait <= 0:
                    wait = self._starts[0] + self.period - now
                await self._sleep(max(wait, 0.001))

    def _full(self) -> bool:
        return len(self._starts) >= self.max_calls

    def _forget_before(self, cutoff: float) -> None:
        while self._starts and self._starts[0] <= cutoff:
            self._starts.popleft()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        return None
