"""All SQL for `channel_posts`: one row per video and channel, posted exactly once.

Must not import Telegram, httpx or anything from `bot`. Rows are derived from the jobs
delivered in linked chats since the last look (`derive`; the time of the look is kept in
`meta`), leased by one worker at a time (`claim`, which also keeps each channel's pace) and
finished with a compare-and-set, like the rows of `jobs`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from storage.interface import Database, Row
from storage.jobs import from_timestamp, to_timestamp
from storage.meta import take_lock


class PostState(StrEnum):
    """Where one channel post is."""

    PENDING = "pending"  # due (or backing off) until posted
    POSTED = "posted"  # the video is in the channel
    FAILED = "failed"  # Telegram refused it for good (rights lost, gave up)
    CANCELLED = "cancelled"  # the link was switched off or changed before it was posted


@dataclass(frozen=True, slots=True)
class ChannelPost:
    """One row of `channel_posts`."""

    id: int
    job_id: int
    chat_id: int
    channel_id: int
    linked_at: datetime
    file_id: str
    state: PostState
    caption: str | None
    message_id: int | None
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    posted_at: datetime | None


_COLUMNS: Final = tuple(f.name for f in fields(ChannelPost))
_TIMES: Final = frozenset(
    {"linked_at", "next_attempt_at", "sent_at", "created_at", "updated_at", "posted_at"}
)
_CHANGEABLE: Final = frozenset({"caption", "message_id", "next_attempt_at", "error", "posted_at"})

# New rows: every video delivered with a file_id in a linked chat since the link was made
# (videos only: a Canvas loop or live photo, `variant`, is no video to post; issue 20).
# Only videos delivered since the last look are read (the index jobs_delivered_at), so a
# look costs the same at any history size; the look before is remembered in `meta`. The
# overlap re-reads a little: a delivery stamped just before a look but written after it.
# (SQLite needs the WHERE before ON CONFLICT to parse an upsert over a join; CROSS JOIN keeps
# the recent deliveries as the outer loop. DOUBLE PRECISION, not REAL: PostgreSQL's REAL is a
# 4-byte float, up to 64 s off at today's unix times; SQLite reads both as its REAL.)
DERIVED_UNTIL_KEY: Final = "channel_posts_derived_until"
DERIVE_OVERLAP_SECONDS: Final = 300.0
SQL_DERIVE: Final = (
    "INSERT INTO channel_posts (job_id, chat_id, channel_id, linked_at, file_id, state,"
    " next_attempt_at, created_at, updated_at)"
    " SELECT j.id, l.chat_id, l.channel_id, l.linked_at, j.file_id, 'pending', ?, ?, ?"
    " FROM jobs AS j CROSS JOIN autopost_links AS l"
    " WHERE j.state = 'delivered' AND j.file_id IS NOT NULL AND j.variant IS NULL"
    " AND j.delivered_at >="
    " COALESCE((SELECT CAST(value AS DOUBLE PRECISION) FROM meta WHERE key = ?) - ?, 0)"
    " AND l.chat_id = j.chat_id AND l.channel_id IS NOT NULL AND l.linked_at IS NOT NULL"
    " AND j.delivered_at >= l.linked_at"
    " ON CONFLICT (job_id, channel_id) DO NOTHING"
)
SQL_SET_DERIVED_UNTIL: Final = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
SQL_DUE: Final = (
    "SELECT * FROM channel_posts WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?"
    " ORDER BY next_attempt_at, id LIMIT ?"
)
SQL_NEXT_DUE: Final = (
    "SELECT next_attempt_at FROM channel_posts WHERE next_attempt_at IS NOT NULL"
    " ORDER BY next_attempt_at LIMIT 1"
)
# A lease that also takes a place in the channel's window: never more than `per_window`
# sends to one channel since `window_start`, however many workers race (one statement, run
# under CLAIM_LOCK_KEY: on PostgreSQL two claims would otherwise each count without the other).
CLAIM_LOCK_KEY: Final = "channel_posts_claim_lock"
SQL_CLAIM: Final = (
    "UPDATE channel_posts SET next_attempt_at = ?, attempts = attempts + 1, sent_at = ?,"
    " updated_at = ? WHERE id = ? AND state = 'pending' AND next_attempt_at IS NOT NULL"
    " AND next_attempt_at <= ? AND (SELECT COUNT(*) FROM channel_posts AS p"
    " WHERE p.channel_id = channel_posts.channel_id AND p.sent_at > ?) < ?"
)


def _post(row: Row) -> ChannelPost:
    values: dict[str, Any] = {name: row[name] for name in _COLUMNS}
    for name in _TIMES:
        values[name] = from_timestamp(values[name])
    values["state"] = PostState(values["state"])
    return ChannelPost(**values)


class ChannelPostRepository:
    """Reads and writes `channel_posts`; every state change is a compare-and-set."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = db
        self._clock = clock

    def _now(self) -> float:
        return to_timestamp(self._clock())

    async def derive(self) -> int:
        """Write the missing rows for videos delivered in linked chats since the last look
        (and a little before it); return how many."""
        now = self._now()
        since = (DERIVED_UNTIL_KEY, DERIVE_OVERLAP_SECONDS)
        made = await self._db.execute(SQL_DERIVE, (now, now, now, *since))
        # The time of this look, even when the clock went back: the next look starts there.
        # (Killed before this line, the next look only reads a little more.)
        await self._db.execute(SQL_SET_DERIVED_UNTIL, (DERIVED_UNTIL_KEY, repr(now)))
        return made

    async def get(self, post_id: int) -> ChannelPost | None:
        """The row with this id, or None."""
        row = await self._db.fetch_one("SELECT * FROM channel_posts WHERE id = ?", (post_id,))
        return None if row is None else _post(row)

    async def for_job(self, job_id: int) -> list[ChannelPost]:
        """Every post of one video, oldest first."""
        sql = "SELECT * FROM channel_posts WHERE job_id = ? ORDER BY id"
        return [_post(row) for row in await self._db.fetch_all(sql, (job_id,))]

    async def due(self, now: datetime, limit: int = 50) -> list[ChannelPost]:
        """Pending posts whose attempt is due, earliest first."""
        rows = await self._db.fetch_all(SQL_DUE, (to_timestamp(now), limit))
        return [_post(row) for row in rows]

    async def next_due_at(self) -> datetime | None:
        """The earliest planned attempt, or None."""
        row = await self._db.fetch_one(SQL_NEXT_DUE)
        return None if row is None else from_timestamp(row[0])

    async def sends_since(self, channel_id: int, since: datetime) -> list[datetime]:
        """When posts to `channel_id` were last sent after `since`, oldest first."""
        sql = (
            "SELECT sent_at FROM channel_posts WHERE channel_id = ? AND sent_at > ?"
            " ORDER BY sent_at"
        )
        rows = await self._db.fetch_all(sql, (channel_id, to_timestamp(since)))
        return [datetime.fromtimestamp(row[0], UTC) for row in rows]

    async def claim(
        self,
        post_id: int,
        *,
        now: datetime,
        lease_until: datetime,
        window_start: datetime,
        per_window: int,
    ) -> bool:
        """Lease a due post and count it as sent to its channel now; False if another worker
        has it, it is no longer pending, or the channel's window is full."""
        at = to_timestamp(now)
        params = (to_timestamp(lease_until), at, at, post_id, at, to_timestamp(window_start))
        async with self._db.transaction():
            await take_lock(self._db, CLAIM_LOCK_KEY)
            return await self._db.execute(SQL_CLAIM, (*params, per_window)) == 1

    async def postpone_channel(self, channel_id: int, until: datetime) -> int:
        """Make no pending post of `channel_id` due before `until` (its window is full)."""
        sql = (
            "UPDATE channel_posts SET next_attempt_at = ?, updated_at = ? WHERE channel_id = ?"
            " AND state = 'pending' AND next_attempt_at IS NOT NULL AND next_attempt_at < ?"
        )
        at = to_timestamp(until)
        return await self._db.execute(sql, (at, self._now(), channel_id, at))

    async def transition(
        self, post_id: int, *, to: PostState = PostState.PENDING, **changes: object
    ) -> bool:
        """Move a pending post to `to` (or keep it pending), setting `changes`; True if won."""
        unknown = set(changes) - _CHANGEABLE
        if unknown:
            raise ValueError(f"not a changeable channel_posts column: {sorted(unknown)}")
        names = ["state", *changes, "updated_at"]
        values = [to.value, *(_sql(v) for v in changes.values()), self._now()]
        assignments = ", ".join(f"{name} = ?" for name in names)
        sql = f"UPDATE channel_posts SET {assignments} WHERE id = ? AND state = ?"  # noqa: S608 — whitelisted names
        return await self._db.execute(sql, (*values, post_id, PostState.PENDING.value)) == 1

    async def set_caption(self, post_id: int, caption: str) -> str:
        """Keep the first caption made for a post (a retry reuses it); return the kept one."""
        rows = await self._db.fetch_all(
            "UPDATE channel_posts SET caption = COALESCE(caption, ?) WHERE id = ?"
            " RETURNING caption",
            (caption, post_id),
        )
        return str(rows[0][0]) if rows else caption

    async def release_leases(self, now: datetime) -> int:
        """Make every pending post due now; run once at start-up (nobody holds a lease)."""
        at = to_timestamp(now)
        return await self._db.execute(
            "UPDATE channel_posts SET next_attempt_at = ? WHERE state = 'pending'"
            " AND next_attempt_at > ?",
            (at, at),
        )


def _sql(value: object) -> object:
    return to_timestamp(value) if isinstance(value, datetime) else value
