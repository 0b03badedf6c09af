"""Wake-ups across bot processes sharing one PostgreSQL database: a process that stored work for
the leader (a webhook update, an accepted provider callback) sends `NOTIFY`; the leader `LISTEN`s
on a dedicated connection and wakes the part concerned (docs/architecture.md §5.4).

Imported only when DATABASE_URL names PostgreSQL: psycopg is imported here, so the embedded
SQLite default never loads it (there one process wakes its loops with in-memory events). No
Telegram types, no repositories.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import psycopg
from psycopg import sql

from bot.health import PartHealth
from storage.interface import Database

log = logging.getLogger(__name__)

INBOX_CHANNEL: Final = "musicvideo_inbox"  # an update was stored: wake the inbox worker
JOBS_CHANNEL: Final = "musicvideo_jobs"  # a job changed (a callback): wake the job loops
# How long the listener waits without a notification before it proves the connection alive.
PROBE_INTERVAL_SECONDS: Final = 5.0
QUERY_TIMEOUT_SECONDS: Final = 2.0
CONNECT_TIMEOUT_SECONDS: Final = 5
MAX_BACKOFF_SECONDS: Final = 5.0  # short: wake-ups missed meanwhile wait for the reconnect

Sleep = Callable[[float], Awaitable[None]]


async def notify(db: Database, channel: str) -> None:
    """Tell the leader (whichever process it is) to look at `channel`'s work now."""
    await db.execute("SELECT pg_notify(?, '')", (channel,))


class WakeListener:
    """`LISTEN`s on the channels of `wakes` and calls the channel's wake for each notification.

    On every (re)connect it calls every wake once: notifications sent while it was not
    listening are lost, the work they announced is not. Connection failures are reported to
    `health` and retried with a short capped backoff; it runs until cancelled."""

    def __init__(
        self,
        dsn: str,
        wakes: Mapping[str, Callable[[], None]],
        *,
        health: PartHealth,
        probe_interval: float = PROBE_INTERVAL_SECONDS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._dsn = dsn
        self._wakes = dict(wakes)
        self._health = health
        self._probe_interval = probe_interval
        self._sleep = sleep
        self.listening = asyncio.Event()  # set while a LISTEN connection is up

    async def run(self) -> None:
        """Listen until cancelled, reconnecting after any failure of the connection."""
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError, TimeoutError) as exc:
                self.listening.clear()
                await self._sleep(min(self._health.failed(exc, expected=True), MAX_BACKOFF_SECONDS))

    async def _listen(self) -> None:
        async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS + 1.0):
            conn = await psycopg.AsyncConnection.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                application_name="musicvideo-bot wakeups",
                # A peer gone silent is found by the probe; these end a dead socket's waits.
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=3,
            )
        async with conn:
            for channel in self._wakes:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self.listening.set()
            self._health.succeeded()
            self._wake_all()
            while True:
                async for note in conn.notifies(timeout=self._probe_interval):
                    self._wake(note.channel)
                await self._probe(conn)

    async def _probe(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """A quiet connection may be a dead one: prove it alive (or raise to reconnect)."""
        async with asyncio.timeout(QUERY_TIMEOUT_SECONDS):
            await conn.execute("SELECT 1")
        self._health.succeeded()

    def _wake(self, channel: str) -> None:
        wake = self._wakes.get(channel)
        if wake is not None:
            wake()

    def _wake_all(self) -> None:
        for wake in self._wakes.values():
            wake()
