"""Housekeeping prunes old rows at start and then periodically, on a real SQLite file."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pytest

from bot.housekeeping import Housekeeping
from storage.inbox import InboxItem, UpdateInbox
from storage.interface import Database
from storage.picks import TrackPickRepository
from tests.storage.factories import FakeClock

QUICK = timedelta(milliseconds=10)
MONTH = timedelta(days=30)


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def test_old_picks_and_update_ids_are_pruned_again_and_again(
    db: Database, clock: FakeClock
) -> None:
    picks = TrackPickRepository(db, clock)
    updates = UpdateInbox(db, clock)
    rounds = 0

    async def count_round() -> int:
        nonlocal rounds
        rounds += 1
        return 0

    async def two_more_rounds() -> None:
        target = rounds + 2
        await wait_until(lambda: rounds >= target)

    chores = {
        "track picks": partial(picks.forget_older_than, MONTH),
        "handled updates": updates.forget_old,
        "rounds": count_round,
    }
    async with Housekeeping(chores, every=QUICK) as housekeeping:
        for update_id in (1, 2):  # the same rows pruned twice: periodic, not once at start
            [pick] = await picks.offer(-1, "task", [("audio", "Song", 1.0)], None)
            assert await updates.add([InboxItem(update_id, "{}")]) == 1
            await updates.mark_handled(update_id)
            await two_more_rounds()  # fresh rows survive
            assert await picks.get(pick.id) is not None
            assert await updates.add([InboxItem(update_id, "{}")]) == 0
            clock.advance((MONTH + timedelta(days=1)).total_seconds())
            await two_more_rounds()
            assert await picks.get(pick.id) is None
            assert await updates.add([InboxItem(update_id, "{}")]) == 1  # forgotten: new again
            await updates.mark_handled(update_id)
        assert housekeeping.running
    assert not housekeeping.running


async def test_a_failing_chore_does_not_stop_the_others(db: Database) -> None:
    rounds = 0

    async def broken() -> int:
        raise sqlite3.OperationalError("database is locked")

    async def count_round() -> int:
        nonlocal rounds
        rounds += 1
        return 0

    async with Housekeeping({"broken": broken, "rounds": count_round}, every=QUICK) as hk:
        await wait_until(lambda: rounds >= 3)
        assert hk.running


async def test_housekeeping_survives_any_exception_and_reports_it_once(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    rounds = 0
    failures_left = 3

    async def flaky() -> int:  # e.g. a full disk, or a bug in a chore: not an sqlite3 error
        nonlocal failures_left
        if failures_left:
            failures_left -= 1
            raise OSError(28, "No space left on device")
        return 0

    async def count_round() -> int:
        nonlocal rounds
        rounds += 1
        return 0

    with caplog.at_level(logging.ERROR):
        async with Housekeeping({"flaky": flaky, "rounds": count_round}, every=QUICK) as hk:
            await wait_until(lambda: rounds >= 5 and failures_left == 0)
            assert hk.running
            await wait_until(lambda: hk.health.status().healthy)
    failing = [r for r in caplog.records if "housekeeping failing" in r.getMessage()]
    assert len(failing) == 1  # once per cause, not once per round
    assert "flaky: OSError" in failing[0].getMessage()
