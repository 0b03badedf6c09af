"""Render dispatch through the task engine's tables (docs/architecture.md §8.8), PostgreSQL only.

The engine (procrastinate) keeps its jobs in `procrastinate_jobs`, in the same database; its
`procrastinate_defer_jobs_v1` and `procrastinate_cancel_job_v1` are plain SQL functions, so a
render is queued on our own connection, in the transaction that writes its row: a committed
render always has its engine job, a rolled-back one never has. This module runs SQL only; it
imports neither psycopg nor procrastinate (only the worker runtime does).

Must not import Telegram, httpx or anything from `bot` except `bot.domain`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from bot.domain import JobState
from storage.interface import Database
from storage.jobs import KIND_RENDER, to_timestamp

log = logging.getLogger(__name__)

# The engine's names for renders: the worker runtime registers its task under these.
RENDER_QUEUE: Final = "renders"
RENDER_TASK: Final = "render"


def render_lock(job_id: int) -> str:
    """The engine lock of one row's renders: two engine jobs of a row never run at once."""
    return f"render:{job_id}"


# One engine job per row at a time: a waiting or running one is enough (the `queueing_lock`
# the engine also sets refuses a second waiting one, which would abort our transaction, so
# the test comes first; the row's lock, taken by the UPDATE before it, serialises deferrers).
SQL_DEFER_IF_ABSENT: Final = (
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(?, ?, 0, ?, ?, CAST(? AS jsonb),"
    " NULL)::procrastinate_job_to_defer_v1])) AS id"
    " WHERE NOT EXISTS (SELECT 1 FROM procrastinate_jobs"
    " WHERE lock = ? AND status IN ('todo', 'doing'))"
)
# Engine jobs are only the dispatch record: a finished one is kept this long (its events give
# the dispatch figures, `python -m bench`), then housekeeping drops it with its events.
FINISHED_KEPT_FOR: Final = timedelta(days=7)
SQL_FORGET_FINISHED: Final = (
    "DELETE FROM procrastinate_jobs WHERE queue_name = ?"
    " AND status IN ('succeeded', 'failed', 'cancelled', 'aborted')"
    " AND NOT EXISTS (SELECT 1 FROM procrastinate_events AS e"
    " WHERE e.job_id = procrastinate_jobs.id AND e.at >= ?)"
)
SQL_ABORT: Final = (
    "SELECT procrastinate_cancel_job_v1(id, true, false) FROM procrastinate_jobs"
    " WHERE lock = ? AND status IN ('todo', 'doing')"
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RenderDispatch:
    """Queues prepared renders as engine jobs and aborts them; the row stays the truth."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime] = _utc_now,
        *,
        keep_finished_for: timedelta = FINISHED_KEPT_FOR,
    ) -> None:
        self._db = db
        self._clock = clock
        self._keep_finished_for = keep_finished_for

    async def queue(self, job_id: int, *, lease_until: datetime) -> bool:
        """In one transaction: lease a prepared render in SUBMITTING until `lease_until` (the
        leader looks again then) and make sure one engine job renders it. False when the row
        is not a prepared render in SUBMITTING any more (nothing is deferred then)."""
        at = to_timestamp(self._clock())
        async with self._db.transaction():
            leased = await self._db.execute(
                "UPDATE jobs SET next_poll_at = ?, updated_at = ? WHERE id = ? AND state = ?"
                " AND kind = ? AND render_plan IS NOT NULL",
                (to_timestamp(lease_until), at, job_id, JobState.SUBMITTING.value, KIND_RENDER),
            )
            if leased != 1:
                return False
            lock = render_lock(job_id)
            args = json.dumps({"job_id": job_id})
            deferred = await self._db.fetch_one(
                SQL_DEFER_IF_ABSENT, (RENDER_QUEUE, RENDER_TASK, lock, lock, args, lock)
            )
        if deferred is not None:
            log.info("job %s: render queued as engine job %s", job_id, deferred[0])
        return True

    async def abort(self, job_id: int) -> int:
        """Ask the engine to stop the row's render: a waiting engine job is cancelled, a running
        one is aborted (its worker cancels the task, ffmpeg is killed). How many it asked."""
        rows = await self._db.fetch_all(SQL_ABORT, (render_lock(job_id),))
        return len(rows)

    async def forget_finished(self) -> int:
        """Drop render engine jobs finished longer ago than the keep period (a housekeeping
        chore); the rows in `jobs` are the record that matters."""
        cutoff = self._clock() - self._keep_finished_for
        return await self._db.execute(SQL_FORGET_FINISHED, (RENDER_QUEUE, cutoff))
