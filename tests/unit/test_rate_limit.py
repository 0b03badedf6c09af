"""The sliding-window limiters of bot/engine/rate_limit.py."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.engine.rate_limit import Allowance, NoTurn, PerKeyWindow, SlidingWindowLimiter


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_calls_then_one_refusal_to_tell_then_quiet_ones() -> None:
    clock = Clock()
    window = PerKeyWindow(3, 60.0, clock=clock)
    assert [window.take("ann") for _ in range(3)] == [Allowance.GRANTED] * 3
    assert window.take("ann") is Allowance.REFUSED  # said once
    assert window.take("ann") is Allowance.REFUSED_AGAIN  # then nothing more
    assert window.take("bob") is Allowance.GRANTED  # another sender is not held back
    assert window.wait("ann") == pytest.approx(60.0)
    clock.now += 60.0
    assert window.wait("ann") == 0.0
    assert window.take("ann") is Allowance.GRANTED
    for _ in range(2):
        window.take("ann")
    assert window.take("ann") is Allowance.REFUSED  # a new round: told again


def test_idle_keys_are_forgotten_so_the_table_stays_small() -> None:
    clock = Clock()
    window = PerKeyWindow(1, 10.0, clock=clock, max_keys=8)
    for key in range(8):
        window.take(key)
    clock.now += 11.0
    window.take("late")  # past max_keys: the idle ones go
    assert len(window._starts) == 1


async def test_a_call_holds_its_place_until_a_period_after_it_ended() -> None:
    limiter = SlidingWindowLimiter(1, 0.2)
    async with limiter:
        await asyncio.sleep(0.3)  # a slow answer: longer than the period
        assert limiter.would_wait()
    started = time.monotonic()
    async with limiter:
        waited = time.monotonic() - started
    assert waited >= 0.15  # a period after the first one ended, not after it started


async def test_with_every_place_held_by_running_calls_the_next_waits_for_one_to_end() -> None:
    limiter = SlidingWindowLimiter(2, 0.05)
    release = asyncio.Event()

    async def slow_call() -> None:
        async with limiter:
            await release.wait()

    running = [asyncio.create_task(slow_call()) for _ in range(2)]
    await asyncio.sleep(0.1)
    third = asyncio.create_task(limiter.turn().__aenter__())
    await asyncio.sleep(0.2)  # far more than the period: still no place
    assert not third.done()
    release.set()
    await asyncio.wait_for(third, 2.0)
    await asyncio.gather(*running)


async def test_no_turn_within_the_longest_wait_is_said() -> None:
    limiter = SlidingWindowLimiter(1, 30.0)
    async with limiter:
        pass
    started = time.monotonic()
    with pytest.raises(NoTurn):
        async with limiter.turn(max_wait=0.1):
            pass
    assert time.monotonic() - started < 1.0


async def test_a_long_pause_is_refused_at_once() -> None:
    limiter = SlidingWindowLimiter(5, 1.0)
    limiter.pause(600.0)
    with pytest.raises(NoTurn) as caught:
        async with limiter.turn(max_wait=5.0):
            pass
    assert caught.value.wait > 500.0
