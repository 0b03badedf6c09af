"""The leader's wake-up listener (bot/wakeups_pg.py): a NOTIFY from any process wakes the part
its channel names; after its connection is lost it reconnects and wakes every part once, since
notifications sent meanwhile are lost (docs/architecture.md §5.4)."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.health import PartHealth
from bot.wakeups_pg import INBOX_CHANNEL, JOBS_CHANNEL, WakeListener, notify
from storage.postgres_db import PostgresDatabase


async def test_a_notify_wakes_its_channels_part_and_a_lost_connection_wakes_all(
    pg_dsn: str, pg_admin: Any
) -> None:
    inbox, jobs = asyncio.Event(), asyncio.Event()
    health = PartHealth("wakeup-listener")
    listener = WakeListener(
        pg_dsn, {INBOX_CHANNEL: inbox.set, JOBS_CHANNEL: jobs.set}, health=health
    )
    task = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(listener.listening.wait(), 5)
        assert inbox.is_set()  # the full wake on connecting
        assert jobs.is_set()
        inbox.clear()
        jobs.clear()

        async with PostgresDatabase.connect(pg_dsn) as db:  # as another bot process would
            await notify(db, INBOX_CHANNEL)
        await asyncio.wait_for(inbox.wait(), 1)
        assert not jobs.is_set()

        inbox.clear()
        await pg_admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'musicvideo-bot wakeups'"
        )
        await asyncio.wait_for(jobs.wait(), 5)  # nobody notified the jobs channel: a full wake
        assert inbox.is_set()
        assert health.status().healthy
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
