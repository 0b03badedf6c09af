"""All SQL for the `jobs` table: the Job row, compare-and-set transitions, leases, due queries.

Must not import Telegram, httpx or anything from `bot` except `bot.domain` (JobState).
Times are aware UTC datetimes here and REAL unix seconds in the table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from enum import Enum
from itertools import islice
from typing import Any, Final, Literal

from bot.domain import ACTIVE_STATES, JobState
from storage.interface import Database, Row

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """One row of the `jobs` table."""

    id: int
    chat_id: int
    thread_id: int | None
    user_id: int | None
    command_message_id: int | None
    status_message_id: int | None
    language: str
    provider: str
    task_id: str
    audio_id: str
    author: str | None
    domain_name: str | None
    video_task_id: str | None
    state: JobState
    video_url: str | None
    callback_video_url: str | None
    file_id: str | None
    error_kind: str | None
    error: str | None
    callback_token_hash: str
    submit_attempts: int
    poll_attempts: int
    delivery_attempts: int
    next_poll_at: datetime | None
    next_delivery_at: datetime | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    delivered_at: datetime | None
    title: str | None = None  # migration 2: the track title, when the picker knew it
    intake_update_id: int | None = None  # migration 3: the Telegram update that made it
    callback_task_id: str | None = None  # migration 3: a task id an unsigned callback named
    status_phase: str | None = None  # migration 3: what the status message shows now
    # migration 4 (our own renderer, issue 10)
    kind: str = "provider"  # "provider" | "render"
    video_format: str | None = None  # a render's shape ("9:16", "1:1", "16:9")
    output_path: str | None = None  # the rendered file waiting for delivery
    render_facts: str | None = None  # JSON facts of that file (width, height, duration, ...)
    source_file_id: str | None = None  # an uploaded audio file to render (Telegram file_id)
    source_file_name: str | None = None
    fallback_of: int | None = None  # the failed provider job this render stands in for
    # migration 5 (karaoke lyrics and the chorus teaser, issue 11)
    lyrics: bool = True  # a render burns in the track's lyrics
    teaser: bool = False  # a render of the chorus only (15-30 s, 9:16)
    # migration 8 (issue 17): a render's RenderPlan as JSON, written by its preparation
    render_plan: str | None = None
    # migration 11 (issue 17): the fencing number of a render's latest attempt (§8.8)
    render_fence: int = 0
    # migration 12 (issue 18): a render's lyric style, LyricStyle.stored (NULL: the sweep)
    lyric_style: str | None = None
    # migration 13 (issue 18): a render's look, Look.stored (NULL: pulse)
    look: str | None = None
    # migration 14 (issue 19): a karaoke render (the instrumental, lyrics always on)
    karaoke: bool = False
    # migration 15 (issue 19): the chat's lyric correction a render was admitted with (its
    # revision; NULL: the provider's words), docs/architecture.md §9.5
    lyrics_revision: str | None = None
    # migration 16 (issue 20): a render's variant (VARIANT_LOOP, VARIANT_LIVE; NULL: a video)
    # and a live photo's still photo (its video is `file_id`)
    variant: str | None = None
    still_file_id: str | None = None


@dataclass(frozen=True)
class NewJob:
    """What is known about a job when its row is first written."""

    chat_id: int
    thread_id: int | None
    user_id: int | None
    command_message_id: int | None
    status_message_id: int | None
    language: str
    provider: str
    task_id: str
    audio_id: str
    author: str | None
    domain_name: str | None
    callback_token_hash: str
    next_poll_at: datetime | None
    title: str | None = None
    intake_update_id: int | None = None
    kind: str = "provider"
    video_format: str | None = None
    source_file_id: str | None = None
    source_file_name: str | None = None
    fallback_of: int | None = None
    lyrics: bool = True
    teaser: bool = False
    lyric_style: str | None = None  # LyricStyle.stored
    look: str | None = None  # Look.stored
    karaoke: bool = False  # the sing-along render over the instrumental (issue 19)
    lyrics_revision: str | None = None  # the chat's lyric correction (§9.5)
    variant: str | None = None  # VARIANT_LOOP | VARIANT_LIVE; None: a video


KIND_PROVIDER: Final = "provider"
KIND_RENDER: Final = "render"
VARIANT_LOOP: Final = "loop"  # a silent Canvas loop, sent as a document (issue 20)
VARIANT_LIVE: Final = "live"  # the loop with the hook's audio, sent as a live photo

COLUMNS: Final = tuple(f.name for f in fields(Job))
_TIME_COLUMNS: Final = frozenset(
    {"next_poll_at", "next_delivery_at", "created_at", "updated_at", "completed_at", "delivered_at"}
)
# Columns `transition` may set: `state` goes through `to`, `updated_at` is always the clock's.
# `render_fence` only ever grows, through `claim_render` (docs/architecture.md §8.8).
CHANGEABLE_COLUMNS: Final = frozenset(COLUMNS) - {"id", "state", "updated_at", "render_fence"}
_LEASE_COLUMNS: Final = frozenset({"next_poll_at", "next_delivery_at"})
_COUNTERS: Final = frozenset({"submit_attempts", "poll_attempts", "delivery_attempts"})

LeaseColumn = Literal["next_poll_at", "next_delivery_at"]
Counter = Literal["submit_attempts", "poll_attempts", "delivery_attempts"]

# The due queries, public so a test can check their plans use the partial indexes.
# Submissions and checks (polls, re-checks) are separate queues: a backlog of submissions
# never starves polls (the literals match the partial indexes of migration 3). Ties go by id
# (free on SQLite, where the index ends in the rowid; PostgreSQL has no such order).
SQL_DUE_FOR_SUBMIT: Final = (
    "SELECT * FROM jobs WHERE next_poll_at IS NOT NULL AND state = 'submitting'"
    " AND kind = 'provider' AND next_poll_at <= ? ORDER BY next_poll_at, id LIMIT ?"
)
# Renders waiting for the renderer loop (migration 4's partial index jobs_due_render).
SQL_DUE_FOR_RENDER: Final = (
    "SELECT * FROM jobs WHERE next_poll_at IS NOT NULL AND state = 'submitting'"
    " AND kind = 'render' AND next_poll_at <= ? ORDER BY next_poll_at, id LIMIT ?"
)
SQL_DUE_FOR_CHECK: Final = (
    "SELECT * FROM jobs WHERE next_poll_at IS NOT NULL AND state <> 'submitting'"
    " AND next_poll_at <= ? ORDER BY next_poll_at, id LIMIT ?"
)
SQL_DUE_FOR_DELIVERY: Final = (
    "SELECT * FROM jobs WHERE next_delivery_at IS NOT NULL AND next_delivery_at <= ?"
    " ORDER BY next_delivery_at, id LIMIT ?"
)


# What counts against a sender's hourly quota (docs/architecture.md §3.1): the jobs they made
# (a fallback render is the same request, not a new one) and the vocal separations the bot
# asked for on their behalf (each costs the owner credits, §9.7). Parameters: (who, since) twice.
_BY_USER: Final = (
    "SELECT created_at AS made_at FROM jobs WHERE user_id = ? AND created_at >= ?"
    " AND fallback_of IS NULL"
    " UNION ALL SELECT requested_at AS made_at FROM track_separations"
    " WHERE user_id = ? AND requested_at >= ?"
)
_ANONYMOUS: Final = (
    "SELECT created_at AS made_at FROM jobs WHERE chat_id = ? AND user_id IS NULL"
    " AND created_at >= ? AND fallback_of IS NULL"
    " UNION ALL SELECT requested_at AS made_at FROM track_separations"
    " WHERE chat_id = ? AND user_id IS NULL AND requested_at >= ?"
)


def _fair_due(where: str, due: str) -> str:
    """A due query that takes turns between chats: at most `?` rows per chat (its earliest),
    every chat's first row before any chat's second (docs/architecture.md §5.1). The turns are
    counted over the due rows' ids only (found through the partial index); whole rows are read
    just for the few returned."""
    return (
        "SELECT jobs.* FROM (SELECT id, chat_id, "  # noqa: S608 - fixed literals only
        f"{due} AS due, ROW_NUMBER() OVER (PARTITION BY chat_id ORDER BY {due}, id) AS turn"
        f" FROM jobs WHERE {where}) AS ranked JOIN jobs USING (id)"
        " WHERE ranked.turn <= ? ORDER BY ranked.turn, ranked.due, ranked.id LIMIT ?"
    )


SQL_FAIR_DUE_FOR_SUBMIT: Final = _fair_due(
    "next_poll_at IS NOT NULL AND state = 'submitting' AND kind = 'provider' AND next_poll_at <= ?",
    "next_poll_at",
)
SQL_FAIR_DUE_FOR_RENDER: Final = _fair_due(
    "next_poll_at IS NOT NULL AND state = 'submitting' AND kind = 'render' AND next_poll_at <= ?",
    "next_poll_at",
)
SQL_FAIR_DUE_FOR_DELIVERY: Final = _fair_due(
    "next_delivery_at IS NOT NULL AND next_delivery_at <= ?", "next_delivery_at"
)
SQL_NEXT_DUE_SUBMIT: Final = (
    "SELECT next_poll_at FROM jobs WHERE next_poll_at IS NOT NULL AND state = 'submitting'"
    " AND kind = 'provider' ORDER BY next_poll_at LIMIT 1"
)
SQL_NEXT_DUE_RENDER: Final = (
    "SELECT next_poll_at FROM jobs WHERE next_poll_at IS NOT NULL AND state = 'submitting'"
    " AND kind = 'render' ORDER BY next_poll_at LIMIT 1"
)
SQL_NEXT_DUE_CHECK: Final = (
    "SELECT next_poll_at FROM jobs WHERE next_poll_at IS NOT NULL AND state <> 'submitting'"
    " ORDER BY next_poll_at LIMIT 1"
)
SQL_NEXT_DUE_DELIVERY: Final = (
    "SELECT next_delivery_at FROM jobs WHERE next_delivery_at IS NOT NULL"
    " ORDER BY next_delivery_at LIMIT 1"
)


# /healthz counts (the indexes jobs_poll_planned and jobs_due_delivery): both
# read a partial index of the planned rows only, never every job (docs/architecture.md §11).
SQL_COUNT_DUE_POLLS: Final = "SELECT COUNT(*) FROM jobs WHERE next_poll_at IS NOT NULL"
SQL_COUNT_DUE_DELIVERIES: Final = "SELECT COUNT(*) FROM jobs WHERE next_delivery_at IS NOT NULL"

# Inline sharing (docs/architecture.md §10.2): words search only the user's newest videos
# (migration 4's jobs_user_delivered), so a keystroke costs the same at any history size.
SHARE_SEARCH_DEPTH: Final = 300
_SHARED: Final = "id, file_id, language, title, author, audio_id, made_at"
_SHARED_COLUMNS: Final = (
    "id, file_id, language, title, author, audio_id, COALESCE(delivered_at, created_at) AS made_at"
)
SQL_NEWEST_DELIVERED: Final = (
    f"SELECT {_SHARED_COLUMNS} FROM jobs"  # noqa: S608 — a constant column list
    " WHERE user_id = ? AND state = 'delivered' AND file_id IS NOT NULL AND variant IS NULL"
    " ORDER BY id DESC LIMIT ?"
)
SQL_DELIVERED_VIDEO: Final = (
    f"SELECT {_SHARED_COLUMNS} FROM jobs"  # noqa: S608 — a constant column list
    " WHERE id = ? AND user_id = ? AND state = 'delivered' AND file_id IS NOT NULL"
    " AND variant IS NULL"  # videos only: a loop or live photo is not shared as a video
)


def share_text(title: str | None, author: str | None, audio_id: str) -> str:
    """What inline search words are looked for in: title, author and track id, casefolded
    (in Python: SQL's lower() folds ASCII only on SQLite and depends on the collation on
    PostgreSQL)."""
    return f"{title or ''} {author or ''} {audio_id}".casefold()


def same_as(column: str, value: object) -> tuple[str, tuple[object, ...]]:
    """A NULL-safe `column` equals `value` both databases accept: `IS NULL` for None, else
    `= ?` (PostgreSQL takes no `IS ?`; SQLite knows `IS NOT DISTINCT FROM` only since 3.39)."""
    return (f"{column} IS NULL", ()) if value is None else (f"{column} = ?", (value,))


@dataclass(frozen=True, slots=True)
class DeliveredVideo:
    """A delivered video as sharing needs it: a narrow read of its job row."""

    id: int
    file_id: str
    language: str
    title: str | None
    author: str | None
    audio_id: str
    made_at: datetime  # when it was delivered


_VIDEO_FIELDS: Final = tuple(_SHARED.split(", "))
_TITLE, _AUTHOR, _AUDIO_ID = (_VIDEO_FIELDS.index(name) for name in ("title", "author", "audio_id"))


def _video(row: Row) -> DeliveredVideo:
    made_at = from_timestamp(row["made_at"])
    assert made_at is not None  # created_at is NOT NULL
    values = dict(zip(_VIDEO_FIELDS, row, strict=True))  # in _SHARED order
    return DeliveredVideo(**values | {"made_at": made_at})


def _has_words(row: Row, words: Sequence[str]) -> bool:
    text = share_text(row[_TITLE], row[_AUTHOR], row[_AUDIO_ID])
    for word in words:  # noqa: SIM110 - 3x faster than all() over a generator, per row
        if word not in text:
            return False
    return True


def to_timestamp(value: datetime) -> float:
    """An aware datetime as unix seconds; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
    return value.timestamp()


def from_timestamp(value: float | None) -> datetime | None:
    """Unix seconds as an aware UTC datetime (None stays None)."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _to_sql(value: object) -> object:
    if isinstance(value, datetime):
        return to_timestamp(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    return value


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _job(row: Row) -> Job:
    values: dict[str, Any] = {name: row[name] for name in COLUMNS}
    for name in _TIME_COLUMNS:
        values[name] = from_timestamp(values[name])
    values["state"] = JobState(values["state"])
    values["lyrics"], values["teaser"] = bool(values["lyrics"]), bool(values["teaser"])
    values["karaoke"] = bool(values["karaoke"])
    return Job(**values)


class JobRepository:
    """Reads and writes job rows; every state change is a compare-and-set."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = _utc_now) -> None:
        self._db = db
        self._clock = clock

    def _now(self) -> float:
        return to_timestamp(self._clock())

    async def create(self, new: NewJob) -> Job:
        """Write a new job in SUBMITTING and return the stored row."""
        created = await self._insert(new, self._now())
        if created is not None:
            return created
        assert new.intake_update_id is not None  # the only other unique column is random
        existing = await self.for_update(new.intake_update_id)
        assert existing is not None
        return existing

    async def _insert(self, new: NewJob, now: float) -> Job | None:
        values: dict[str, object] = {f.name: _to_sql(getattr(new, f.name)) for f in fields(new)}
        values |= {"state": JobState.SUBMITTING.value, "created_at": now, "updated_at": now}
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        # Handling the same Telegram update twice (after a kill) finds the first one's job.
        sql = f"INSERT INTO jobs ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING RETURNING *"  # noqa: S608 — names are NewJob's fields
        rows = await self._db.fetch_all(sql, tuple(values.values()))
        return _job(rows[0]) if rows else None

    async def for_update(self, update_id: int) -> Job | None:
        """The job the Telegram update `update_id` created, or None."""
        return await self._one("SELECT * FROM jobs WHERE intake_update_id = ?", (update_id,))

    async def announce(
        self, job_id: int, status_message_id: int | None, status_phase: str, now: datetime
    ) -> bool:
        """Record the job's status message (and the phase it shows) and make its submission
        due; True if this call did it (only a job written but not yet announced qualifies)."""
        sql = (
            "UPDATE jobs SET status_message_id = COALESCE(?, status_message_id),"
            " status_phase = ?, next_poll_at = ?, updated_at = ?"
            " WHERE id = ? AND state = ? AND next_poll_at IS NULL"
        )
        at = to_timestamp(now)
        params = (status_message_id, status_phase, at, at, job_id, JobState.SUBMITTING.value)
        return await self._db.execute(sql, params) == 1

    async def get(self, job_id: int) -> Job | None:
        """The job with this id, or None."""
        return await self._one("SELECT * FROM jobs WHERE id = ?", (job_id,))

    async def by_callback_token_hash(self, token_hash: str) -> Job | None:
        """The job whose callback token hashes to `token_hash`, or None."""
        return await self._one("SELECT * FROM jobs WHERE callback_token_hash = ?", (token_hash,))

    async def transition(
        self,
        job_id: int,
        *,
        expected: JobState,
        to: JobState | None = None,
        fence: int | None = None,
        **changes: object,
    ) -> bool:
        """Move a job from `expected` to `to` (or keep it), setting `changes`; True if it won.
        With `fence`, only while the row's render attempt is still that one (§8.8)."""
        unknown = set(changes) - CHANGEABLE_COLUMNS
        if unknown:
            raise ValueError(f"not a changeable jobs column: {', '.join(sorted(unknown))}")
        target = expected if to is None else to
        assignments = ["state = ?", *(f"{name} = ?" for name in changes), "updated_at = ?"]
        params = [target.value, *(_to_sql(v) for v in changes.values()), self._now()]
        where, keys = "id = ? AND state = ?", [job_id, expected.value]
        if fence is not None:
            where, keys = f"{where} AND render_fence = ?", [*keys, fence]
        sql = (
            f"UPDATE jobs SET {', '.join(assignments)} WHERE {where}"  # noqa: S608 — whitelisted names
            " RETURNING chat_id"
        )
        rows = await self._db.fetch_all(sql, (*params, *keys))
        if rows and to is not None and to is not expected:
            # One structured line per state change (job, chat, from → to), for operators.
            log.info(
                "job transition job_id=%s chat_id=%s from=%s to=%s",
                job_id,
                rows[0]["chat_id"],
                expected.value,
                to.value,
            )
        return len(rows) == 1

    async def claim(
        self,
        job_id: int,
        *,
        expected: JobState,
        column: LeaseColumn,
        now: datetime,
        lease_until: datetime,
        counter: Counter | None = None,
    ) -> bool:
        """Lease a due job to one worker by pushing `column` to `lease_until`; True if won."""
        if column not in _LEASE_COLUMNS or (counter is not None and counter not in _COUNTERS):
            raise ValueError(f"cannot lease on {column!r} counting {counter!r}")
        bump = f", {counter} = {counter} + 1" if counter else ""
        sql = (
            f"UPDATE jobs SET {column} = ?{bump}, updated_at = ?"  # noqa: S608 — whitelisted names
            f" WHERE id = ? AND state = ? AND {column} IS NOT NULL AND {column} <= ?"
        )
        params = (to_timestamp(lease_until), self._now(), job_id, expected.value)
        return await self._db.execute(sql, (*params, to_timestamp(now))) == 1

    async def claim_render(self, job_id: int, *, lease_until: datetime) -> Job | None:
        """Start a new attempt of a dispatched render (docs/architecture.md §8.8): a render in
        SUBMITTING with its plan stored gets the next fencing number, one more attempt and
        its lease. The row as claimed, or None (cancelled, finished, not prepared)."""
        sql = (
            "UPDATE jobs SET render_fence = render_fence + 1,"
            " submit_attempts = submit_attempts + 1, next_poll_at = ?, updated_at = ?"
            " WHERE id = ? AND state = ? AND kind = ? AND render_plan IS NOT NULL RETURNING *"
        )
        params = (to_timestamp(lease_until), self._now(), job_id, JobState.SUBMITTING.value)
        rows = await self._db.fetch_all(sql, (*params, KIND_RENDER))
        return _job(rows[0]) if rows else None

    async def renew_delivery(self, job_id: int, *, fence: int, lease_until: datetime) -> bool:
        """Take a render's delivery over right after rendering it: only the attempt `fence`
        of a SUCCEEDED render may (one that froze past its turn finds a newer fence)."""
        sql = (
            "UPDATE jobs SET next_delivery_at = ?, delivery_attempts = delivery_attempts + 1,"
            " updated_at = ? WHERE id = ? AND state = ? AND render_fence = ?"
            " AND next_delivery_at IS NOT NULL"
        )
        params = (to_timestamp(lease_until), self._now(), job_id, JobState.SUCCEEDED.value)
        return await self._db.execute(sql, (*params, fence)) == 1

    async def make_due_if_idle(
        self, job_id: int, *, expected: JobState, now: datetime, idle_for: timedelta
    ) -> bool:
        """Make a job's poll due now unless the row changed within `idle_for` (a poll just
        started or ended); True only for the caller that won. Keeps "check now" taps to at
        most one upstream request per `idle_for`, however many arrive at once."""
        sql = (
            "UPDATE jobs SET next_poll_at = ?, updated_at = ?"
            " WHERE id = ? AND state = ? AND updated_at <= ?"
        )
        at = to_timestamp(now)
        params = (at, at, job_id, expected.value, to_timestamp(now - idle_for))
        return await self._db.execute(sql, params) == 1

    async def release_leases(self, now: datetime) -> int:
        """Make every active job due now; run once at start-up.

        Only one bot process leads, so at start no lease is held by another bot: a job leased
        by a process that was killed would otherwise wait for its lease to run out. Render
        workers are the exception (§8.8): the videos they are delivering keep their lease.
        """
        at = to_timestamp(now)
        polls = await self._db.execute(
            "UPDATE jobs SET next_poll_at = ? WHERE next_poll_at > ? AND state IN (?, ?)",
            (at, at, JobState.SUBMITTING.value, JobState.PENDING.value),
        )
        # A job written but never announced whose update is no longer waiting in the inbox
        # (its handler ended without announcing it) is submitted all the same.
        polls += await self._db.execute(
            "UPDATE jobs SET next_poll_at = ? WHERE state = ? AND next_poll_at IS NULL"
            " AND (intake_update_id IS NULL OR intake_update_id NOT IN"
            " (SELECT update_id FROM update_inbox WHERE handled_at IS NULL))",
            (at, JobState.SUBMITTING.value),
        )
        # A render a worker rendered (fenced, docs/architecture.md §8.8) is being delivered
        # by that worker, which may well be alive: its lease runs out by itself.
        deliveries = await self._db.execute(
            "UPDATE jobs SET next_delivery_at = ? WHERE next_delivery_at > ?"
            " AND NOT (state = ? AND render_fence > 0)",
            (at, at, JobState.SUCCEEDED.value),
        )
        return polls + deliveries

    async def due_for_submit(
        self, now: datetime, limit: int = 50, *, per_chat: int | None = None
    ) -> list[Job]:
        """Jobs waiting to be submitted whose turn has come, earliest first; with `per_chat`,
        at most that many per chat, taking turns between chats."""
        if per_chat is not None:
            params = (to_timestamp(now), per_chat, limit)
            return await self._all(SQL_FAIR_DUE_FOR_SUBMIT, params)
        return await self._all(SQL_DUE_FOR_SUBMIT, (to_timestamp(now), limit))

    async def due_for_render(
        self, now: datetime, limit: int = 50, *, per_chat: int | None = None
    ) -> list[Job]:
        """Renders waiting to be rendered whose turn has come, earliest first; with
        `per_chat`, at most that many per chat, taking turns between chats."""
        if per_chat is not None:
            params = (to_timestamp(now), per_chat, limit)
            return await self._all(SQL_FAIR_DUE_FOR_RENDER, params)
        return await self._all(SQL_DUE_FOR_RENDER, (to_timestamp(now), limit))

    async def next_due_render_at(self) -> datetime | None:
        """The earliest planned render, or None when nothing is planned."""
        row = await self._db.fetch_one(SQL_NEXT_DUE_RENDER)
        return None if row is None else from_timestamp(row[0])

    async def due_for_check(self, now: datetime, limit: int = 50) -> list[Job]:
        """Submitted jobs whose next poll (or re-check) is due, earliest first."""
        return await self._all(SQL_DUE_FOR_CHECK, (to_timestamp(now), limit))

    async def due_for_delivery(
        self, now: datetime, limit: int = 50, *, per_chat: int | None = None
    ) -> list[Job]:
        """Jobs whose next delivery attempt is due, earliest first; with `per_chat`, at most
        that many per chat, taking turns between chats."""
        if per_chat is not None:
            params = (to_timestamp(now), per_chat, limit)
            return await self._all(SQL_FAIR_DUE_FOR_DELIVERY, params)
        return await self._all(SQL_DUE_FOR_DELIVERY, (to_timestamp(now), limit))

    async def next_due_submit_at(self) -> datetime | None:
        """The earliest planned submission, or None when nothing is planned."""
        row = await self._db.fetch_one(SQL_NEXT_DUE_SUBMIT)
        return None if row is None else from_timestamp(row[0])

    async def next_due_check_at(self) -> datetime | None:
        """The earliest planned poll or re-check, or None when nothing is planned."""
        row = await self._db.fetch_one(SQL_NEXT_DUE_CHECK)
        return None if row is None else from_timestamp(row[0])

    async def next_due_delivery_at(self) -> datetime | None:
        """The earliest planned delivery time, or None when nothing is planned."""
        row = await self._db.fetch_one(SQL_NEXT_DUE_DELIVERY)
        return None if row is None else from_timestamp(row[0])

    async def latest_for_chat(self, chat_id: int, *, limit: int = 10, offset: int = 0) -> list[Job]:
        """A chat's jobs, newest first."""
        sql = "SELECT * FROM jobs WHERE chat_id = ? ORDER BY id DESC LIMIT ? OFFSET ?"
        return await self._all(sql, (chat_id, limit, offset))

    async def count_for_chat(self, chat_id: int) -> int:
        """How many jobs a chat has."""
        return await self._count("SELECT COUNT(*) FROM jobs WHERE chat_id = ?", (chat_id,))

    async def find_for_track(self, provider: str, task_id: str, audio_id: str) -> list[Job]:
        """Every job for one track of one provider, newest first."""
        sql = (
            "SELECT * FROM jobs WHERE provider = ? AND task_id = ? AND audio_id = ?"
            " ORDER BY id DESC"
        )
        return await self._all(sql, (provider, task_id, audio_id))

    async def find_active_for_chat_track(
        self,
        chat_id: int,
        task_id: str,
        audio_id: str,
        video_format: str | None = None,
        *,
        teaser: bool = False,
        karaoke: bool = False,
        variant: str | None = None,
    ) -> Job | None:
        """The newest unfinished job for this track (and render format; None: the provider's
        video; a teaser, a karaoke render and each variant apart from the full render) in this
        chat, or None."""
        marks = ", ".join("?" for _ in ACTIVE_STATES)
        shape, shape_params = same_as("video_format", video_format)
        kind, kind_params = same_as("variant", variant)
        sql = (
            "SELECT * FROM jobs WHERE chat_id = ? AND task_id = ? AND audio_id = ?"  # noqa: S608 — only placeholders and fixed names
            f" AND {shape} AND {kind} AND teaser = ? AND karaoke = ? AND state IN ({marks})"
            " ORDER BY id DESC LIMIT 1"
        )
        states = sorted(state.value for state in ACTIVE_STATES)
        params = (
            chat_id,
            task_id,
            audio_id,
            *shape_params,
            *kind_params,
            int(teaser),
            int(karaoke),
        )
        return await self._one(sql, (*params, *states))

    async def find_rendered(self, job: Job) -> Job | None:
        """A delivered render of the same track, format and look (author, domain, lyrics on or
        off, their style and correction, the look, teaser or not, karaoke or not, the variant;
        the title is the track's) whose Telegram file_id can be sent again instead of rendering
        anew."""
        nullable = [
            same_as("video_format", job.video_format),
            same_as("variant", job.variant),
            same_as("author", job.author),
            same_as("domain_name", job.domain_name),
            same_as("lyric_style", job.lyric_style),
            same_as("look", job.look),
            same_as("lyrics_revision", job.lyrics_revision),
        ]
        sql = (
            "SELECT * FROM jobs WHERE provider = ? AND task_id = ? AND audio_id = ?"  # noqa: S608 — only placeholders and fixed names
            f" AND kind = 'render' AND {' AND '.join(test for test, _ in nullable)}"
            " AND lyrics = ? AND teaser = ? AND karaoke = ? AND state = ?"
            " AND file_id IS NOT NULL AND id <> ? ORDER BY id DESC LIMIT 1"
        )
        params = (job.provider, job.task_id, job.audio_id)
        flags = (int(job.lyrics), int(job.teaser), int(job.karaoke))
        look = (*(p for _, ps in nullable for p in ps), *flags)
        more = (*look, JobState.DELIVERED.value, job.id)
        return await self._one(sql, (*params, *more))

    async def fail_into_fallback(
        self, job_id: int, *, expected: JobState, error_kind: str, error: str | None, render: NewJob
    ) -> Job | None:
        """In one transaction: fail a provider job without telling its chat, and write the
        render that stands in for it (due now). None when the failure was not ours to make."""
        now = self._now()
        async with self._db.transaction():
            won = await self._db.execute(
                "UPDATE jobs SET state = ?, error_kind = ?, error = ?, next_poll_at = NULL,"
                " next_delivery_at = NULL, updated_at = ? WHERE id = ? AND state = ?",
                (JobState.FAILED.value, error_kind, error, now, job_id, expected.value),
            )
            if won != 1:
                return None
            created = await self._insert(render, now)
        log.info(
            "job transition job_id=%s from=%s to=failed (fallback render %s)",
            job_id,
            expected.value,
            created.id if created else None,
        )
        return created

    async def delivered_videos(
        self, user_id: int, words: Sequence[str] = (), *, limit: int
    ) -> list[DeliveredVideo]:
        """The user's delivered videos whose title, author or track id contains every one of
        `words` (casefolded), newest first, at most `limit`; only the newest
        `SHARE_SEARCH_DEPTH` videos are searched (read, then matched here)."""
        limit = max(limit, 0)  # PostgreSQL refuses a negative LIMIT (SQLite: no limit)
        depth = SHARE_SEARCH_DEPTH if words else min(limit, SHARE_SEARCH_DEPTH)
        rows: Iterable[Row] = await self._db.fetch_all(SQL_NEWEST_DELIVERED, (user_id, depth))
        if words:  # matched on the raw columns; only the rows returned become videos
            rows = (row for row in rows if _has_words(row, words))
        return [_video(row) for row in islice(rows, limit)]

    async def delivered_video(self, job_id: int, *, user_id: int) -> DeliveredVideo | None:
        """The user's own delivered video of job `job_id`, or None."""
        row = await self._db.fetch_one(SQL_DELIVERED_VIDEO, (job_id, user_id))
        return None if row is None else _video(row)

    async def count_created_by_user_since(self, user_id: int, since: datetime) -> int:
        """How many jobs a user has created at or after `since`, and vocal separations the
        bot asked for on their behalf (docs/architecture.md §9.7): the quota's count."""
        sql = f"SELECT COUNT(*) FROM ({_BY_USER}) AS used"  # noqa: S608 — fixed SQL
        return await self._count(sql, (user_id, to_timestamp(since)) * 2)

    async def oldest_created_by_user_since(
        self, user_id: int, since: datetime, *, skip: int = 0
    ) -> datetime | None:
        """When the user's oldest job (or separation) at or after `since` was made, after
        `skip` older ones (the quota's reset time); fallback renders are not counted, as in
        the quota."""
        sql = f"SELECT made_at FROM ({_BY_USER}) AS used ORDER BY made_at LIMIT 1 OFFSET ?"  # noqa: S608 — fixed SQL
        row = await self._db.fetch_one(sql, (*(user_id, to_timestamp(since)) * 2, skip))
        return from_timestamp(row[0]) if row is not None else None

    async def count_created_anonymously_since(self, chat_id: int, since: datetime) -> int:
        """How many jobs (and separations) without a user (channel posts, anonymous admins,
        messages sent as a channel) were made in `chat_id` at or after `since` (their shared
        quota)."""
        sql = f"SELECT COUNT(*) FROM ({_ANONYMOUS}) AS used"  # noqa: S608 — fixed SQL
        return await self._count(sql, (chat_id, to_timestamp(since)) * 2)

    async def oldest_created_anonymously_since(
        self, chat_id: int, since: datetime, *, skip: int = 0
    ) -> datetime | None:
        """When the oldest job (or separation) without a user in `chat_id` at or after
        `since` was made, after `skip` older ones; fallback renders are not counted, as in
        the quota."""
        sql = f"SELECT made_at FROM ({_ANONYMOUS}) AS used ORDER BY made_at LIMIT 1 OFFSET ?"  # noqa: S608 — fixed SQL
        row = await self._db.fetch_one(sql, (*(chat_id, to_timestamp(since)) * 2, skip))
        return from_timestamp(row[0]) if row is not None else None

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """Move every job of a migrated chat to its new id; return how many moved."""
        sql = "UPDATE jobs SET chat_id = ?, updated_at = ? WHERE chat_id = ?"
        return await self._db.execute(sql, (new_chat_id, self._now(), old_chat_id))

    async def record_title(self, job_id: int, title: str) -> None:
        """Remember the track's title (looked up once the job was submitted)."""
        await self._db.execute(
            "UPDATE jobs SET title = ? WHERE id = ? AND title IS NULL", (title, job_id)
        )

    async def record_status_phase(self, job_id: int, phase: str) -> None:
        """Remember what the job's status message shows now (whatever the job's state)."""
        sql = "UPDATE jobs SET status_phase = ? WHERE id = ?"
        await self._db.execute(sql, (phase, job_id))

    async def count_due_polls(self) -> int:
        """How many jobs have a planned submission or poll (cheap: a partial index)."""
        return await self._count(SQL_COUNT_DUE_POLLS, ())

    async def count_due_deliveries(self) -> int:
        """How many jobs have a planned delivery or notice (cheap: a partial index)."""
        return await self._count(SQL_COUNT_DUE_DELIVERIES, ())

    async def count_by_state(self) -> dict[JobState, int]:
        """How many jobs are in each state (every state present, zeros included)."""
        rows = await self._db.fetch_all("SELECT state, COUNT(*) FROM jobs GROUP BY state")
        counts = dict.fromkeys(JobState, 0)
        for row in rows:
            counts[JobState(row[0])] = int(row[1])
        return counts

    async def _one(self, sql: str, params: tuple[object, ...]) -> Job | None:
        row = await self._db.fetch_one(sql, params)
        return None if row is None else _job(row)

    async def _all(self, sql: str, params: tuple[object, ...]) -> list[Job]:
        return [_job(row) for row in await self._db.fetch_all(sql, params)]

    async def _count(self, sql: str, params: tuple[object, ...]) -> int:
        row = await self._db.fetch_one(sql, params)
        return 0 if row is None else int(row[0])
