"""Guest queries ("render it here", docs/architecture.md §10.4): the `guest_answers` table —
for each render a guest query started, the inline message its placeholder became.

Must not import Telegram, httpx or anything from `bot` except `bot.domain`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from bot.domain import JobState
from storage.interface import Database
from storage.jobs import Job, JobRepository, from_timestamp, to_timestamp

# A job in one of these states says what its placeholder becomes: the video, or why not.
_SETTLED: Final = (
    JobState.DELIVERED.value,
    JobState.UNDELIVERABLE.value,
    JobState.FAILED.value,
    JobState.TIMED_OUT.value,
)
_MARKS: Final = ", ".join("?" for _ in _SETTLED)
# Open answers whose edit is due (a NULL time: due at once): their job has settled, or it is
# still rendering, its plan (title, cover) is stored and the placeholder does not show it yet.
SQL_DUE_EDITS: Final = (
    "SELECT g.job_id FROM guest_answers g JOIN jobs j ON j.id = g.job_id"  # noqa: S608 - fixed marks
    " WHERE g.finished_at IS NULL AND (g.next_edit_at IS NULL OR g.next_edit_at <= ?)"
    f" AND (j.state IN ({_MARKS}) OR (g.dressed_at IS NULL AND j.state = 'submitting'"
    " AND j.render_plan IS NOT NULL)) ORDER BY g.job_id LIMIT ?"
)
SQL_NEXT_EDIT: Final = (
    "SELECT MIN(next_edit_at) FROM guest_answers"
    " WHERE finished_at IS NULL AND next_edit_at IS NOT NULL"
)


@dataclass(frozen=True, slots=True)
class GuestAnswer:
    """One placeholder waiting for its render (or done)."""

    job_id: int
    inline_message_id: str
    created_at: datetime
    next_edit_at: datetime | None
    edit_attempts: int
    finished_at: datetime | None
    dressed_at: datetime | None = None  # when it began to show the track's title and cover


@dataclass(frozen=True, slots=True)
class GuestEdit:
    """A due edit: the answer and its settled job (the guest editor loop's row)."""

    answer: GuestAnswer
    job: Job

    @property
    def id(self) -> int:
        """The loop's key: the job's id."""
        return self.job.id

    @property
    def settled(self) -> bool:
        """Whether the job has ended (the placeholder gets its final content)."""
        return self.job.state.value in _SETTLED


class GuestAnswers:
    """Reads and writes `guest_answers`; finishing an answer is a compare-and-set."""

    def __init__(
        self,
        db: Database,
        jobs: JobRepository,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._jobs = jobs
        self._clock = clock

    async def record(self, job_id: int, inline_message_id: str, *, dressed: bool = False) -> None:
        """The placeholder of job `job_id`'s guest query is inline message `inline_message_id`
        (recording it again keeps the first); `dressed`: it already shows the track's title
        and cover."""
        now = to_timestamp(self._clock())
        await self._db.execute(
            "INSERT INTO guest_answers (job_id, inline_message_id, created_at, dressed_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (job_id, inline_message_id, now, now if dressed else None),
        )

    async def dressed(self, job_id: int) -> None:
        """The placeholder now shows the track's title and cover (or never will): not again."""
        await self._db.execute(
            "UPDATE guest_answers SET dressed_at = ? WHERE job_id = ? AND dressed_at IS NULL",
            (to_timestamp(self._clock()), job_id),
        )

    async def get(self, job_id: int) -> GuestAnswer | None:
        """Job `job_id`'s answer, or None."""
        row = await self._db.fetch_one(
            "SELECT job_id, inline_message_id, created_at, next_edit_at, edit_attempts,"
            " finished_at, dressed_at FROM guest_answers WHERE job_id = ?",
            (job_id,),
        )
        if row is None:
            return None
        created = from_timestamp(row["created_at"])
        assert created is not None  # NOT NULL
        return GuestAnswer(
            job_id=row["job_id"],
            inline_message_id=row["inline_message_id"],
            created_at=created,
            next_edit_at=from_timestamp(row["next_edit_at"]),
            edit_attempts=row["edit_attempts"],
            finished_at=from_timestamp(row["finished_at"]),
            dressed_at=from_timestamp(row["dressed_at"]),
        )

    async def due(self, now: datetime, limit: int = 50) -> list[GuestEdit]:
        """Open answers whose job has settled and whose edit is due, oldest first."""
        rows = await self._db.fetch_all(SQL_DUE_EDITS, (to_timestamp(now), *_SETTLED, limit))
        edits = []
        for row in rows:
            answer, job = await self.get(row["job_id"]), await self._jobs.get(row["job_id"])
            if answer is not None and job is not None:
                edits.append(GuestEdit(answer, job))
        return edits

    async def next_due_at(self) -> datetime | None:
        """When the next postponed edit is due (answers due at once are found by `due`)."""
        row = await self._db.fetch_one(SQL_NEXT_EDIT, ())
        return None if row is None else from_timestamp(row[0])

    async def postpone(self, job_id: int, until: datetime) -> None:
        """Try the edit again at `until` (one more attempt counted)."""
        await self._db.execute(
            "UPDATE guest_answers SET next_edit_at = ?, edit_attempts = edit_attempts + 1"
            " WHERE job_id = ? AND finished_at IS NULL",
            (to_timestamp(until), job_id),
        )

    async def finish(self, job_id: int) -> bool:
        """The placeholder shows its final content; True if this call recorded it."""
        changed = await self._db.execute(
            "UPDATE guest_answers SET finished_at = ?, next_edit_at = NULL"
            " WHERE job_id = ? AND finished_at IS NULL",
            (to_timestamp(self._clock()), job_id),
        )
        return changed == 1
