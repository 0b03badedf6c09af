"""Telegram update ids already taken in (`processed_updates`), so a redelivered webhook update
is processed once. Must not import Telegram, httpx or anything from `bot`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from storage.db import Database


class ProcessedUpdates:
    """Remembers update ids for a while."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        keep_for: timedelta = timedelta(days=2),
    ) -> None:
        self._db = db
        self._clock = clock
        self._keep_for = keep_for

    async def first_time(self, update_id: int) -> bool:
        """Record `update_id`; True only the first time it is seen."""
        now = self._clock().timestamp()
        inserted = await self._db.execute(
            "INSERT OR IGNORE INTO processed_updates (update_id, received_at) VALUES (?, ?)",
            (update_id, now),
        )
        return inserted == 1

    async def forget_old(self) -> int:
        """Drop ids older than the keep period (Telegram redelivers for at most a day)."""
        cutoff = (self._clock() - self._keep_for).timestamp()
        return await self._db.execute(
            "DELETE FROM processed_updates WHERE received_at < ?", (cutoff,)
        )
