"""All SQL for `track_separations` (a track's vocal separation, asked once and shared by every
karaoke render of it, docs/architecture.md §9.7).

Must not import Telegram, httpx or anything from `bot`. The row is the lock: the first render
to move a track from "no row" (or a spent one) to `requested` sends the one request; the others
wait for its outcome. Times are aware UTC datetimes here and REAL unix seconds in the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from storage.interface import Database, Row
from storage.jobs import from_timestamp, to_timestamp

REQUESTED: Final = "requested"  # claimed; `separation_task_id` once the provider answered
SUCCEEDED: Final = "succeeded"  # `instrumental_url` is the instrumental
FAILED: Final = "failed"  # `error` says why


@dataclass(frozen=True, slots=True)
class Separation:
    """One track's separation row."""

    provider: str
    task_id: str
    audio_id: str
    state: str
    separation_task_id: str | None
    instrumental_url: str | None
    error_kind: str | None  # why it failed, in the engine's words (an ErrorKind value)
    error: str | None
    requested_at: datetime
    completed_at: datetime | None
    user_id: int | None
    chat_id: int


def _separation(row: Row) -> Separation:
    requested_at = from_timestamp(row["requested_at"])
    assert requested_at is not None
    return Separation(
        provider=row["provider"],
        task_id=row["task_id"],
        audio_id=row["audio_id"],
        state=row["state"],
        separation_task_id=row["separation_task_id"],
        instrumental_url=row["instrumental_url"],
        error_kind=row["error_kind"],
        error=row["error"],
        requested_at=requested_at,
        completed_at=from_timestamp(row["completed_at"]),
        user_id=row["user_id"],
        chat_id=row["chat_id"],
    )


class SeparationRepository:
    """Reads and writes `track_separations`; every change is a compare-and-set."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = db
        self._clock = clock

    async def get(self, provider: str, task_id: str, audio_id: str) -> Separation | None:
        """The track's separation row, or None when none was ever asked for."""
        row = await self._db.fetch_one(
            "SELECT * FROM track_separations WHERE provider = ? AND task_id = ? AND audio_id = ?",
            (provider, task_id, audio_id),
        )
        return None if row is None else _separation(row)

    async def claim(
        self,
        provider: str,
        task_id: str,
        audio_id: str,
        *,
        replacing: Separation | None,
        user_id: int | None,
        chat_id: int,
    ) -> Separation | None:
        """Become the one render that asks for this track's separation: from no row (when
        `replacing` is None) or from exactly the row `replacing` (a failed, stale or expired
        one) to a fresh `requested` row. The new row, or None when another render won."""
        now = to_timestamp(self._clock())
        if replacing is None:
            rows = await self._db.fetch_all(
                "INSERT INTO track_separations (provider, task_id, audio_id, state,"
                " requested_at, user_id, chat_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING RETURNING *",
                (provider, task_id, audio_id, REQUESTED, now, user_id, chat_id),
            )
        else:
            rows = await self._db.fetch_all(
                "UPDATE track_separations SET state = ?, separation_task_id = NULL,"
                " instrumental_url = NULL, error_kind = NULL, error = NULL, requested_at = ?,"
                " completed_at = NULL,"
                " user_id = ?, chat_id = ?"
                " WHERE provider = ? AND task_id = ? AND audio_id = ? AND state = ?"
                " AND requested_at = ? RETURNING *",
                (
                    REQUESTED,
                    now,
                    user_id,
                    chat_id,
                    provider,
                    task_id,
                    audio_id,
                    replacing.state,
                    to_timestamp(replacing.requested_at),
                ),
            )
        return _separation(rows[0]) if rows else None

    async def release(self, claimed: Separation) -> None:
        """Undo a claim whose request was never taken by the provider (nothing was spent, so
        nothing counts against the quota either)."""
        await self._db.execute(
            "DELETE FROM track_separations WHERE provider = ? AND task_id = ? AND audio_id = ?"
            " AND state = ? AND requested_at = ? AND separation_task_id IS NULL",
            (*_key(claimed), REQUESTED, to_timestamp(claimed.requested_at)),
        )

    async def record_sent(self, claimed: Separation, separation_task_id: str) -> bool:
        """The provider took the request: remember its separation task id."""
        return (
            await self._db.execute(
                "UPDATE track_separations SET separation_task_id = ?"
                " WHERE provider = ? AND task_id = ? AND audio_id = ? AND state = ?"
                " AND requested_at = ?",
                (separation_task_id, *_key(claimed), REQUESTED, to_timestamp(claimed.requested_at)),
            )
            == 1
        )

    async def succeed(self, row: Separation, instrumental_url: str) -> bool:
        """The separation is done: keep the instrumental's URL."""
        return await self._finish(row, SUCCEEDED, instrumental_url, None, None)

    async def fail(self, row: Separation, kind: str, error: str | None) -> bool:
        """The separation failed (or ran out of time): keep why (`kind`, an ErrorKind value,
        and the provider's text)."""
        return await self._finish(row, FAILED, None, kind, error[:300] if error else None)

    async def _finish(
        self,
        row: Separation,
        state: str,
        instrumental_url: str | None,
        kind: str | None,
        error: str | None,
    ) -> bool:
        return (
            await self._db.execute(
                "UPDATE track_separations SET state = ?, instrumental_url = ?, error_kind = ?,"
                " error = ?, completed_at = ? WHERE provider = ? AND task_id = ? AND audio_id = ?"
                " AND state = ? AND requested_at = ?",
                (
                    state,
                    instrumental_url,
                    kind,
                    error,
                    to_timestamp(self._clock()),
                    *_key(row),
                    REQUESTED,
                    to_timestamp(row.requested_at),
                ),
            )
            == 1
        )


def _key(row: Separation) -> tuple[str, str, str]:
    return (row.provider, row.task_id, row.audio_id)
