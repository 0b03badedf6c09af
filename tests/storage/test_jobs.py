"""JobRepository on a real SQLite file: round trips, compare-and-set, leases, queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain import JobState
from storage import jobs as jobs_module
from storage.db import SqliteDatabase
from storage.interface import Database
from storage.jobs import JobRepository
from tests.storage.factories import START, FakeClock, new_job


async def test_create_and_get_round_trip_with_aware_utc_times(
    repo: JobRepository, clock: FakeClock
) -> None:
    new = new_job(next_poll_at=START + timedelta(seconds=30), author=None, thread_id=None)
    created = await repo.create(new)
    assert created.id > 0
    assert created.state is JobState.SUBMITTING
    assert created.created_at == created.updated_at == clock.now
    assert created.created_at.tzinfo is UTC
    assert created.next_poll_at == START + timedelta(seconds=30)
    assert (created.author, created.thread_id, created.language) == (None, None, "en")
    assert (created.submit_attempts, created.poll_attempts, created.delivery_attempts) == (0, 0, 0)
    assert created.next_delivery_at is created.completed_at is created.delivered_at is None
    assert await repo.get(created.id) == created
    assert await repo.get(created.id + 1) is None


async def test_lookup_by_callback_token_hash(repo: JobRepository) -> None:
    job = await repo.create(new_job(callback_token_hash="abc"))
    assert await repo.by_callback_token_hash("abc") == job
    assert await repo.by_callback_token_hash("nope") is None


async def test_transition_moves_state_and_sets_columns(
    repo: JobRepository, clock: FakeClock
) -> None:
    job = await repo.create(new_job())
    done = clock.advance(60)
    won = await repo.transition(
        job.id,
        expected=JobState.SUBMITTING,
        to=JobState.SUCCEEDED,
        video_url="https://cdn.test/v.mp4",
        completed_at=done,
        next_poll_at=None,
        error_kind=None,
    )
    assert won
    stored = await repo.get(job.id)
    assert stored is not None
    assert stored.state is JobState.SUCCEEDED
    assert (stored.video_url, stored.completed_at, stored.next_poll_at) == (
        "https://cdn.test/v.mp4",
        done,
        None,
    )
    assert stored.updated_at == done
    assert stored.created_at == job.created_at


async def test_transition_with_wrong_expected_state_changes_nothing(
    repo: JobRepository, clock: FakeClock
) -> None:
    job = await repo.create(new_job())
    clock.advance(5)
    assert not await repo.transition(
        job.id, expected=JobState.PENDING, to=JobState.FAILED, error="x"
    )
    assert not await repo.transition(job.id + 1, expected=JobState.SUBMITTING, error="x")
    assert await repo.get(job.id) == job


async def test_transition_without_to_keeps_the_state(repo: JobRepository) -> None:
    job = await repo.create(new_job())
    assert await repo.transition(job.id, expected=JobState.SUBMITTING, video_task_id="v-1")
    stored = await repo.get(job.id)
    assert stored is not None
    assert (stored.state, stored.video_task_id) == (JobState.SUBMITTING, "v-1")


@pytest.mark.parametrize("column", ["id", "state", "updated_at", "nope", "state = 'x' --"])
async def test_transition_refuses_unknown_or_protected_columns(
    repo: JobRepository, column: str
) -> None:
    job = await repo.create(new_job())
    changes: dict[str, Any] = {column: 1}
    with pytest.raises(ValueError, match="column"):
        await repo.transition(job.id, expected=JobState.SUBMITTING, **changes)
    assert await repo.get(job.id) == job


async def test_naive_datetimes_are_refused(repo: JobRepository) -> None:
    job = await repo.create(new_job())
    naive = datetime(2025, 1, 1, 12, 0)  # noqa: DTZ001 — the point of the test
    with pytest.raises(ValueError, match="naive"):
        await repo.transition(job.id, expected=JobState.SUBMITTING, next_poll_at=naive)


async def test_claim_leases_a_due_job_and_counts_the_attempt(
    repo: JobRepository, clock: FakeClock
) -> None:
    job = await repo.create(new_job(next_poll_at=START + timedelta(seconds=10)))
    early, lease_until = START + timedelta(seconds=5), START + timedelta(seconds=70)
    assert not await repo.claim(
        job.id,
        expected=JobState.SUBMITTING,
        column="next_poll_at",
        now=early,
        lease_until=lease_until,
        counter="submit_attempts",
    )
    now = clock.advance(10)
    assert not await repo.claim(
        job.id, expected=JobState.PENDING, column="next_poll_at", now=now, lease_until=lease_until
    )
    assert await repo.claim(
        job.id,
        expected=JobState.SUBMITTING,
        column="next_poll_at",
        now=now,
        lease_until=lease_until,
        counter="submit_attempts",
    )
    stored = await repo.get(job.id)
    assert stored is not None
    assert (stored.next_poll_at, stored.submit_attempts, stored.updated_at) == (lease_until, 1, now)


async def test_claim_of_a_job_with_nothing_planned_fails(repo: JobRepository) -> None:
    job = await repo.create(new_job(next_poll_at=None))
    assert not await repo.claim(
        job.id,
        expected=JobState.SUBMITTING,
        column="next_delivery_at",
        now=START + timedelta(days=1),
        lease_until=START + timedelta(days=2),
    )


async def test_due_for_submit_is_ordered_and_limited(repo: JobRepository) -> None:
    offsets = [30, 10, 20, 40, 999]
    ids = {}
    for offset in offsets:
        job = await repo.create(new_job(next_poll_at=START + timedelta(seconds=offset)))
        ids[offset] = job.id
    await repo.create(new_job(next_poll_at=None))
    now = START + timedelta(seconds=40)
    assert [j.id for j in await repo.due_for_submit(now)] == [ids[o] for o in (10, 20, 30, 40)]
    assert [j.id for j in await repo.due_for_submit(now, limit=2)] == [ids[10], ids[20]]
    assert await repo.due_for_submit(START) == []
    assert await repo.next_due_submit_at() == START + timedelta(seconds=10)
    assert await repo.due_for_check(now) == []
    assert await repo.next_due_check_at() is None


async def test_submissions_and_checks_are_separate_queues(repo: JobRepository) -> None:
    waiting = [await repo.create(new_job(next_poll_at=START)) for _ in range(5)]
    polled = await repo.create(new_job(next_poll_at=START))
    await repo.transition(
        polled.id,
        expected=JobState.SUBMITTING,
        to=JobState.PENDING,
        next_poll_at=START + timedelta(seconds=1),
    )
    now = START + timedelta(seconds=2)
    # However many submissions wait, the due poll is found (and the other way round).
    assert [j.id for j in await repo.due_for_check(now, limit=1)] == [polled.id]
    assert [j.id for j in await repo.due_for_submit(now, limit=1)] == [waiting[0].id]
    assert await repo.next_due_check_at() == START + timedelta(seconds=1)


async def test_due_for_delivery_and_next_due_delivery(repo: JobRepository) -> None:
    assert await repo.next_due_delivery_at() is None
    a = await repo.create(new_job())
    b = await repo.create(new_job())
    await repo.transition(a.id, expected=a.state, next_delivery_at=START + timedelta(seconds=9))
    await repo.transition(b.id, expected=b.state, next_delivery_at=START + timedelta(seconds=3))
    due = await repo.due_for_delivery(START + timedelta(seconds=5))
    assert [j.id for j in due] == [b.id]
    assert await repo.next_due_delivery_at() == START + timedelta(seconds=3)


@pytest.mark.parametrize(
    "query",
    [
        "SQL_DUE_FOR_SUBMIT",
        "SQL_DUE_FOR_CHECK",
        "SQL_DUE_FOR_DELIVERY",
        "SQL_NEXT_DUE_SUBMIT",
        "SQL_NEXT_DUE_CHECK",
        "SQL_NEXT_DUE_DELIVERY",
        "SQL_DUE_FOR_RENDER",
        "SQL_NEXT_DUE_RENDER",
    ],
)
@pytest.mark.sqlite_only(reason="reads SQLite's query plan")
async def test_due_queries_use_the_partial_indexes(
    db: Database, repo: JobRepository, query: str
) -> None:
    for _ in range(20):
        await repo.create(new_job())
    sql: str = getattr(jobs_module, query)
    params = (START.timestamp(), 50)[: sql.count("?")]
    plan = " | ".join(
        row["detail"] for row in await db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params)
    )
    assert "USING INDEX jobs_due_" in plan or "USING COVERING INDEX jobs_due_" in plan, plan
    assert "SCAN jobs" not in plan, plan
    assert "TEMP B-TREE" not in plan, plan


async def test_latest_and_count_for_chat(repo: JobRepository) -> None:
    mine = [await repo.create(new_job(chat_id=1)) for _ in range(5)]
    await repo.create(new_job(chat_id=2))
    latest = await repo.latest_for_chat(1, limit=2)
    assert [j.id for j in latest] == [mine[4].id, mine[3].id]
    page = await repo.latest_for_chat(1, limit=2, offset=4)
    assert [j.id for j in page] == [mine[0].id]
    assert await repo.count_for_chat(1) == 5
    assert await repo.count_for_chat(3) == 0


async def test_find_for_track(repo: JobRepository) -> None:
    first = await repo.create(new_job(task_id="t", audio_id="a"))
    second = await repo.create(new_job(task_id="t", audio_id="a"))
    await repo.create(new_job(task_id="t", audio_id="b"))
    await repo.create(new_job(task_id="t", audio_id="a", provider="vidgo"))
    found = await repo.find_for_track("kie", "t", "a")
    assert [j.id for j in found] == [second.id, first.id]


async def test_find_active_for_chat_track_ignores_finished_jobs(repo: JobRepository) -> None:
    done = await repo.create(new_job(chat_id=5, task_id="t", audio_id="a"))
    await repo.transition(done.id, expected=done.state, to=JobState.FAILED)
    assert await repo.find_active_for_chat_track(5, "t", "a") is None
    active = await repo.create(new_job(chat_id=5, task_id="t", audio_id="a"))
    await repo.transition(active.id, expected=active.state, to=JobState.PENDING)
    found = await repo.find_active_for_chat_track(5, "t", "a")
    assert found is not None
    assert found.id == active.id
    assert await repo.find_active_for_chat_track(6, "t", "a") is None


async def test_count_created_by_user_since(repo: JobRepository, clock: FakeClock) -> None:
    await repo.create(new_job(user_id=1))
    since = clock.advance(3600)
    await repo.create(new_job(user_id=1))
    await repo.create(new_job(user_id=2))
    assert await repo.count_created_by_user_since(1, since) == 1
    assert await repo.count_created_by_user_since(1, START) == 2


async def test_anonymous_jobs_are_counted_per_chat(repo: JobRepository, clock: FakeClock) -> None:
    await repo.create(new_job(chat_id=-5, user_id=None))
    since = clock.advance(3600)
    second = await repo.create(new_job(chat_id=-5, user_id=None))
    await repo.create(new_job(chat_id=-5, user_id=1))  # a person: their own quota
    await repo.create(new_job(chat_id=-6, user_id=None))  # another chat
    assert await repo.count_created_anonymously_since(-5, since) == 1
    assert await repo.count_created_anonymously_since(-5, START) == 2
    assert await repo.oldest_created_anonymously_since(-5, since) == second.created_at
    assert await repo.oldest_created_anonymously_since(-7, START) is None


async def test_move_chat(repo: JobRepository) -> None:
    for _ in range(3):
        await repo.create(new_job(chat_id=-1))
    other = await repo.create(new_job(chat_id=-2))
    assert await repo.move_chat(-1, -1009) == 3
    assert await repo.count_for_chat(-1) == 0
    assert await repo.count_for_chat(-1009) == 3
    assert await repo.get(other.id) == other


async def test_count_by_state_lists_every_state(repo: JobRepository) -> None:
    a = await repo.create(new_job())
    await repo.create(new_job())
    await repo.transition(a.id, expected=a.state, to=JobState.PENDING)
    counts = await repo.count_by_state()
    assert counts[JobState.SUBMITTING] == 1
    assert counts[JobState.PENDING] == 1
    assert set(counts) == set(JobState)
    assert sum(counts.values()) == 2


async def test_jobs_survive_close_and_reopen(db_path: Path, clock: FakeClock) -> None:
    async with SqliteDatabase.connect(db_path) as db:
        job = await JobRepository(db, clock).create(new_job())
    async with SqliteDatabase.connect(db_path) as db:
        assert await JobRepository(db, clock).get(job.id) == job


async def test_default_clock_is_aware_utc(db: Database) -> None:
    job = await JobRepository(db).create(new_job())
    assert job.created_at.tzinfo is UTC
    assert abs(datetime.now(UTC) - job.created_at) < timedelta(minutes=1)


async def test_release_leases_makes_in_flight_jobs_due_now(
    repo: JobRepository, clock: FakeClock
) -> None:
    now = clock()
    job = await repo.create(new_job(next_poll_at=now))
    assert await repo.claim(
        job.id,
        expected=JobState.SUBMITTING,
        column="next_poll_at",
        now=now,
        lease_until=now + timedelta(minutes=5),
    )
    done = await repo.create(new_job(next_poll_at=None))
    assert await repo.transition(
        done.id, expected=JobState.SUBMITTING, to=JobState.DELIVERED, next_delivery_at=None
    )
    assert await repo.due_for_submit(now) == []
    assert await repo.release_leases(now) == 1
    assert [j.id for j in await repo.due_for_submit(now)] == [job.id]
