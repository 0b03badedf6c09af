"""The update inbox (`update_inbox`): Telegram updates stored before they are confirmed.

An update is written here before Telegram is told it arrived (the next getUpdates offset, or
the webhook's 200) and marked handled once its handler has returned, so a kill at any moment
neither loses nor repeats a command; a restart handles what is still pending.
Must not import Telegram, httpx or anything from `bot`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.db import Database

# SQLite integers are signed 64-bit; Telegram's update ids are far below this.
MAX_UPDATE_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One stored update: its id and its JSON body as Telegram sent it."""

    update_id: int
    body: str


class UpdateInbox:
    """Stores, lists and retires Telegram updates."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        keep_for: timedelta = timedelta(days=2),
    ) -> None:
        self._db = db
        self._clock = clock
        self._keep_for = keep_for

    async def add(self, updates: Iterable[InboxItem], *, next_offset: int | None = None) -> int:
        """Store updates not seen before and, when given, the polling offset that confirms them,
        all in one transaction; return how many updates were new."""
        now = self._clock().timestamp()
        added = 0
        async with self._db.transaction():
            for item in updates:
                added += await self._db.execute(
                    "INSERT OR IGNORE INTO update_inbox (update_id, body, received_at)"
                    " VALUES (?, ?, ?)",
                    (item.update_id, item.body, now),
                )
            if next_offset is not None:
                await self._db.execute(
                    "INSERT INTO intake_state (id, next_offset) VALUES (1, ?)"
                    " ON CONFLICT (id) DO UPDATE SET next_offset = excluded.next_offset",
                    (next_offset,),
                )
        return added

    async def pending(self, limit: int = 100, after: int = -1) -> list[InboxItem]:
        """Updates not yet handled with an id above `after`, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT update_id, body FROM update_inbox WHERE handled_at IS NULL AND update_id > ?"
            " ORDER BY update_id LIMIT ?",
            (after, limit),
        )
        return [InboxItem(int(row[0]), str(row[1])) for row in rows]

    async def mark_handled(self, update_id: int) -> None:
        """Retire an update: its handler returned (or it was deliberately ignored)."""
        await self._db.execute(
            "UPDATE update_inbox SET handled_at = ? WHERE update_id = ? AND handled_at IS NULL",
            (self._clock().timestamp(), update_id),
        )

    async def next_offset(self) -> int | None:
        """The getUpdates offset that confirms every stored update, or None before the first."""
        row = await self._db.fetch_one("SELECT next_offset FROM intake_state WHERE id = 1")
        return None if row is None else int(row[0])

    async def forget_old(self) -> int:
        """Drop handled updates older than the keep period (Telegram redelivers a webhook
        update for at most a day, so the ids still dedupe redeliveries)."""
        cutoff = (self._clock() - self._keep_for).timestamp()
        return await self._db.execute(
            "DELETE FROM update_inbox WHERE handled_at IS NOT NULL AND handled_at < ?", (cutoff,)
        )

    async def count_pending(self) -> int:
        """How many updates wait to be handled."""
        row = await self._db.fetch_one("SELECT COUNT(*) FROM update_inbox WHERE handled_at IS NULL")
        return 0 if row is None else int(row[0])
