"""RENDER_CONCURRENCY: renders wait in arrival order and hear their place in line."""

from __future__ import annotations

import asyncio

import pytest

from bot.rendering.queue import QueuePosition, RenderQueue


async def test_waiting_jobs_run_in_order_and_hear_their_position() -> None:
    queue = RenderQueue(1)
    release = {name: asyncio.Event() for name in "abc"}
    started: list[str] = []
    heard: dict[str, list[QueuePosition]] = {name: [] for name in "abc"}

    async def job(name: str) -> None:
        async with queue.slot(heard[name].append):
            started.append(name)
            await release[name].wait()

    tasks = [asyncio.create_task(job(name)) for name in "abc"]
    async with asyncio.timeout(5):
        while queue.waiting < 2:
            await asyncio.sleep(0)
    assert started == ["a"]
    assert heard["b"] == [QueuePosition(ahead=0, running=1)]
    assert heard["c"] == [QueuePosition(ahead=1, running=1)]
    release["a"].set()
    async with asyncio.timeout(5):
        while started != ["a", "b"]:
            await asyncio.sleep(0)
    assert heard["c"][-1] == QueuePosition(ahead=0, running=1)
    release["b"].set()
    release["c"].set()
    await asyncio.gather(*tasks)
    assert started == ["a", "b", "c"]
    assert (queue.running, queue.waiting) == (0, 0)


async def test_a_cancelled_waiter_leaves_the_line() -> None:
    queue = RenderQueue(2)
    gate = asyncio.Event()
    heard: list[QueuePosition] = []

    async def hold() -> None:
        async with queue.slot():
            await gate.wait()

    holders = [asyncio.create_task(hold()) for _ in range(2)]
    async with asyncio.timeout(5):
        while queue.running < 2:
            await asyncio.sleep(0)
    first = asyncio.create_task(hold())
    second = asyncio.create_task(_slot(queue, heard))
    async with asyncio.timeout(5):
        while queue.waiting < 2:
            await asyncio.sleep(0)
    assert heard == [QueuePosition(ahead=1, running=2)]
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert heard[-1] == QueuePosition(ahead=0, running=2)
    gate.set()
    await asyncio.gather(*holders, second)
    assert (queue.running, queue.waiting) == (0, 0)


async def _slot(queue: RenderQueue, heard: list[QueuePosition]) -> None:
    async with queue.slot(heard.append):
        pass


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RenderQueue(0)


async def test_a_waiter_cancelled_as_the_running_render_ends_leaks_no_slot() -> None:
    """A waiting render cancelled in the same loop step as the running one finishes: the
    finished render keeps its result and the one slot stays usable (RENDER_CONCURRENCY=1)."""
    queue = RenderQueue(1)
    gate = asyncio.Event()

    async def finished_render() -> str:
        async with queue.slot():
            await gate.wait()
        return "video"

    running = asyncio.create_task(finished_render())
    async with asyncio.timeout(5):
        while queue.running < 1:
            await asyncio.sleep(0)
    waiting = asyncio.create_task(_slot(queue, []))
    async with asyncio.timeout(5):
        while queue.waiting < 1:
            await asyncio.sleep(0)
    gate.set()  # the running render leaves its slot in the next step...
    waiting.cancel()  # ...and the waiter's future is cancelled before its task resumes
    assert await running == "video"
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert (queue.running, queue.waiting) == (0, 0)
    async with asyncio.timeout(5):  # a later render still gets the slot
        await _slot(queue, [])
