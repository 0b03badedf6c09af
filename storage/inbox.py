"""The update inbox (`update_inbox`): Telegram updates stored before they are confirmed.

An update is written here before Telegram is told it arrived (the next getUpdates offset, or
the webhook's 200) and marked handled once its handler has returned, so a kill at any moment
neither loses nor repeats a command; a restart handles what is still pending.

Each update carries its lane (its chat, else its user; NULL: none) and only the oldest pending
update of a lane is its *head*, the one that may be handled now; marking it handled makes the
next one the head. So listing the updates that may run costs the same however many wait in one
busy chat (docs/architecture.md §2.2). Must not import Telegram, httpx or anything from `bot`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from storage.interface import Database
from storage.meta import take_lock
from storage.terms import LeaderTerm, hold_term

# SQLite integers are signed 64-bit; Telegram's update ids are far below this.
MAX_UPDATE_ID = 2**63 - 1
_LANE_OF_PENDING = (
    "SELECT lane, lane_head FROM update_inbox WHERE update_id = ? AND handled_at IS NULL"
)
# Every transaction that reads or moves a lane's head takes this lock first: on PostgreSQL two
# writers would otherwise each miss the other's uncommitted head (docs/architecture.md §7.5).
INBOX_LOCK_KEY: Final = "update_inbox_lock"
# The head of its lane when no other update of the lane waits (a NULL lane matches no row).
SQL_ADD: Final = (
    "INSERT INTO update_inbox (update_id, body, received_at, lane, lane_head)"
    " VALUES (?, ?, ?, ?, CASE WHEN NOT EXISTS (SELECT 1 FROM update_inbox"
    "  WHERE lane = ? AND handled_at IS NULL) THEN 1 ELSE 0 END)"
    " ON CONFLICT (update_id) DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One stored update: its id and its JSON body as Telegram sent it."""

    update_id: int
    body: str
    lane: int | None = None  # the chat (else the user) whose updates are handled in order


class UpdateInbox:
    """Stores, lists and retires Telegram updates.

    Given a `term` (the leader's, PostgreSQL only), every write of this inbox is guarded by
    it: once a newer term exists it raises StaleTerm and writes nothing (§5.4). The leader's
    poller and inbox worker use such an inbox; the webhook, on any process, an unguarded one."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        keep_for: timedelta = timedelta(days=2),
        *,
        term: LeaderTerm | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._keep_for = keep_for
        self._term = term

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """A write transaction: the term guard (if any) first, then the inbox lock."""
        async with self._db.transaction():
            if self._term is not None:
                await hold_term(self._db, self._term)
            await self._lock()
            yield

    async def add(self, updates: Iterable[InboxItem], *, next_offset: int | None = None) -> int:
        """Store updates not seen before and, when given, the polling offset that confirms them,
        all in one transaction; return how many updates were new."""
        now = self._clock().timestamp()
        added = 0
        async with self._writing():
            for item in updates:
                added += await self._db.execute(
                    SQL_ADD, (item.update_id, item.body, now, item.lane, item.lane)
                )
            if next_offset is not None:
                await self._db.execute(
                    "INSERT INTO intake_state (id, next_offset) VALUES (1, ?)"
                    " ON CONFLICT (id) DO UPDATE SET next_offset = excluded.next_offset",
                    (next_offset,),
                )
        return added

    async def pending(self, limit: int = 100) -> list[InboxItem]:
        """The heads of the lanes (and the updates without a lane) not yet handled, oldest
        first: at most one update per chat, however many wait behind it."""
        rows = await self._db.fetch_all(
            "SELECT update_id, body, lane FROM update_inbox"
            " WHERE handled_at IS NULL AND lane_head = 1 ORDER BY update_id LIMIT ?",
            (limit,),
        )
        return [InboxItem(int(row[0]), str(row[1]), _lane(row[2])) for row in rows]

    async def mark_handled(self, update_id: int) -> None:
        """Retire an update: its handler returned (or it was deliberately ignored); the next
        update of its lane becomes the head."""
        async with self._writing():
            row = await self._db.fetch_one(_LANE_OF_PENDING, (update_id,))
            if row is None:
                return
            await self._db.execute(
                "UPDATE update_inbox SET handled_at = ?, lane_head = 0 WHERE update_id = ?",
                (self._clock().timestamp(), update_id),
            )
            if row[1] and row[0] is not None:
                await self._promote(int(row[0]))

    async def release_lane(self, update_id: int) -> None:
        """Let the lane of a still unfinished update go on: the update leaves its lane (it
        stays pending, is not listed again by this process and is handled again, without a
        lane, after a restart) and the next update of the lane becomes the head."""
        async with self._writing():
            row = await self._db.fetch_one(_LANE_OF_PENDING, (update_id,))
            if row is None or row[0] is None:
                return
            await self._db.execute(
                "UPDATE update_inbox SET lane = NULL, lane_head = 0 WHERE update_id = ?",
                (update_id,),
            )
            if row[1]:
                await self._promote(int(row[0]))

    async def restore_released(self) -> int:
        """At start: updates released from their lane by the previous run and never finished
        are heads again (of no lane); return how many."""
        async with self._writing():
            return await self._db.execute(
                "UPDATE update_inbox SET lane_head = 1"
                " WHERE handled_at IS NULL AND lane IS NULL AND lane_head = 0"
            )

    async def _lock(self) -> None:
        await take_lock(self._db, INBOX_LOCK_KEY)

    async def _promote(self, lane: int) -> None:
        await self._db.execute(
            "UPDATE update_inbox SET lane_head = 1 WHERE update_id ="
            " (SELECT MIN(update_id) FROM update_inbox WHERE lane = ? AND handled_at IS NULL)",
            (lane,),
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


def _lane(value: object) -> int | None:
    return value if isinstance(value, int) else None
