"""Sliding-window rate limits: a waiting one for calls to a remote API, a refusing one per key.

Token buckets (aiolimiter) let a full bucket through at once and then refill, so a burst at
the start of a backlog passes twice the documented rate within the first window; providers
count in windows (docs/providers.md §6.2), so these limiters do too. Pure asyncio and the
standard library: must not import the bot's other packages (the upstream client uses it).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from enum import Enum


class NoTurn(Exception):
    """No turn came within the caller's longest wait; `wait` is about how long one would take."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"no turn for about {wait:.1f}s")
        self.wait = wait


class SlidingWindowLimiter:
    """At most `max_calls` calls in any `period` seconds, as the far side counts them.

    `async with limiter:` (or `limiter.turn()`) waits for a place, holds it while the call runs
    and keeps it until `period` after the call *ended*. The far side sees a call arrive at some
    moment between our start and our end, however the network delays it; counting each call
    over that whole stretch keeps any window of the far side's within `max_calls`, whatever the
    arrival jitter. Turns are served in order. `pause` honours a Retry-After for every caller.
    """

    def __init__(
        self, max_calls: int, period: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_calls < 1 or period <= 0:
            raise ValueError("a limiter needs max_calls >= 1 and period > 0")
        self.max_calls = max_calls
        self.period = period
        self._clock = clock
        self._running = 0
        self._ended: deque[float] = deque()  # when finished calls ended, oldest first
        self._ended_now = asyncio.Event()  # set whenever a call ends
        self._paused_until = 0.0
        self._turn = asyncio.Lock()

    def would_wait(self) -> bool:
        """Whether a start right now would have to wait (for a "queued" notice)."""
        now = self._clock()
        self._forget_before(now - self.period)
        return self._turn.locked() or now < self._paused_until or self._full()

    def pause(self, seconds: float) -> None:
        """Let no call start for `seconds` (the far side asked us to slow down)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @asynccontextmanager
    async def turn(self, *, max_wait: float | None = None) -> AsyncIterator[None]:
        """Hold a place in the window for the body's call; NoTurn if none comes in `max_wait`."""
        await self._acquire(max_wait)
        try:
            yield
        finally:
            self._release()

    async def __aenter__(self) -> None:
        await self._acquire(None)

    async def __aexit__(self, *exc_info: object) -> None:
        self._release()

    async def _acquire(self, max_wait: float | None) -> None:
        paused_for = self._paused_until - self._clock()
        if max_wait is not None and paused_for > max_wait:
            raise NoTurn(paused_for)  # known to be too long: say so at once
        try:
            async with asyncio.timeout(max_wait), self._turn:
                await self._wait_for_place()
        except TimeoutError as exc:
            raise NoTurn(max(self._paused_until - self._clock(), self.period)) from exc
        self._running += 1

    async def _wait_for_place(self) -> None:
        while True:
            now = self._clock()
            self._forget_before(now - self.period)
            wait = self._paused_until - now
            if wait <= 0 and not self._full():
                return
            if wait <= 0 and self._ended:  # the oldest finished call leaves the window then
                wait = self._ended[0] + self.period - now
            if wait > 0:
                await asyncio.sleep(max(wait, 0.001))
            else:  # every place is held by a call still running: wait until one ends
                self._ended_now.clear()
                await self._ended_now.wait()

    def _release(self) -> None:
        self._running -= 1
        self._ended.append(self._clock())
        self._ended_now.set()

    def _full(self) -> bool:
        return self._running + len(self._ended) >= self.max_calls

    def _forget_before(self, cutoff: float) -> None:
        while self._ended and self._ended[0] <= cutoff:
            self._ended.popleft()


class Allowance(Enum):
    """What `PerKeyWindow.take` decided."""

    GRANTED = "granted"
    REFUSED = "refused"  # the first refusal since the key's last granted call: say so
    REFUSED_AGAIN = "refused_again"  # refused again: it was already said


class PerKeyWindow:
    """At most `max_calls` per key in any `period` seconds, decided at once (never waits).

    Kept in memory (rebuilt as the bot runs); keys whose window emptied are forgotten once more
    than `max_keys` are known, so the table stays small whatever the number of senders.
    """

    def __init__(
        self,
        max_calls: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 1024,
    ) -> None:
        if max_calls < 1 or period <= 0:
            raise ValueError("a limiter needs max_calls >= 1 and period > 0")
        self.max_calls = max_calls
        self.period = period
        self._clock = clock
        self._max_keys = max_keys
        self._starts: dict[Hashable, deque[float]] = {}
        self._refused: set[Hashable] = set()

    def take(self, key: Hashable) -> Allowance:
        """Take a place for `key` if its window has one."""
        now = self._clock()
        starts = self._starts.setdefault(key, deque())
        while starts and starts[0] <= now - self.period:
            starts.popleft()
        if len(starts) < self.max_calls:
            starts.append(now)
            self._refused.discard(key)
            self._forget_idle(now)
            return Allowance.GRANTED
        if key in self._refused:
            return Allowance.REFUSED_AGAIN
        self._refused.add(key)
        return Allowance.REFUSED

    def wait(self, key: Hashable) -> float:
        """Seconds until `key` has a place again (0 when it has one now)."""
        starts = self._starts.get(key)
        if not starts or len(starts) < self.max_calls:
            return 0.0
        return max(0.0, starts[0] + self.period - self._clock())

    def _forget_idle(self, now: float) -> None:
        if len(self._starts) <= self._max_keys:
            return
        cutoff = now - self.period
        for key in [k for k, starts in self._starts.items() if not starts or starts[-1] <= cutoff]:
            del self._starts[key]
            self._refused.discard(key)
