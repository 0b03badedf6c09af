"""Render dispatch on PostgreSQL (docs/architecture.md §8.8): a render is queued as an engine job in
the transaction that leases its row (rolled back: no engine job; committed: exactly one), Cancel
aborts it, and the fencing number makes a stale attempt's writes change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.domain import JobState
from storage.interface import Database
from storage.jobs import KIND_RENDER, JobRepository
from storage.render_dispatch import RENDER_QUEUE, RENDER_TASK, RenderDispatch, render_lock
from tests.storage.factories import FakeClock, new_job

PLAN = '{"v":1,"video_format":"9:16","title":"T","author":null,"domain":null}'


@pytest.fixture
async def postgres() -> AsyncIterator[Database]:
    from storage.postgres_db import PostgresDatabase  # noqa: PLC0415 - imports psycopg
    from tests.postgres_server import throwaway_database  # noqa: PLC0415 - imports psycopg

    with throwaway_database() as url:
        async with PostgresDatabase.connect(url) as db:
            yield db


async def engine_jobs(db: Database, job_id: int) -> list[tuple[str, str, str, object]]:
    rows = await db.fetch_all(
        "SELECT status::text, task_name, queue_name, args FROM procrastinate_jobs"
        " WHERE lock = ? ORDER BY id",
        (render_lock(job_id),),
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def prepared_render(repo: JobRepository, clock: FakeClock) -> int:
    job = await repo.create(new_job(kind=KIND_RENDER, next_poll_at=clock()))
    assert await repo.transition(job.id, expected=JobState.SUBMITTING, render_plan=PLAN)
    return job.id


async def test_a_render_is_queued_once_with_its_lease(postgres: Database) -> None:
    clock = FakeClock()
    repo, dispatch = JobRepository(postgres, clock), RenderDispatch(postgres, clock)
    job_id = await prepared_render(repo, clock)
    lease = clock() + timedelta(seconds=60)

    assert await dispatch.queue(job_id, lease_until=lease)
    assert await dispatch.queue(job_id, lease_until=lease)  # again: still one engine job
    assert await engine_jobs(postgres, job_id) == [
        ("todo", RENDER_TASK, RENDER_QUEUE, {"job_id": job_id})
    ]
    job = await repo.get(job_id)
    assert job is not None
    assert job.next_poll_at == lease


async def test_a_failed_queueing_leaves_no_engine_job(postgres: Database) -> None:
    clock = FakeClock()
    repo, dispatch = JobRepository(postgres, clock), RenderDispatch(postgres, clock)
    job_id = await prepared_render(repo, clock)
    # The engine refuses the job (its table is gone for this test): the row's lease goes too.
    await postgres.execute("ALTER TABLE procrastinate_jobs RENAME TO procrastinate_jobs_away")
    with pytest.raises(postgres.engine.errors):
        await dispatch.queue(job_id, lease_until=clock() + timedelta(seconds=60))
    await postgres.execute("ALTER TABLE procrastinate_jobs_away RENAME TO procrastinate_jobs")
    assert (await repo.get(job_id)).next_poll_at == clock()  # type: ignore[union-attr]
    assert await engine_jobs(postgres, job_id) == []


async def test_only_prepared_renders_in_submitting_are_queued(postgres: Database) -> None:
    clock = FakeClock()
    repo, dispatch = JobRepository(postgres, clock), RenderDispatch(postgres, clock)
    unprepared = await repo.create(new_job(kind=KIND_RENDER, next_poll_at=clock()))
    assert not await dispatch.queue(unprepared.id, lease_until=clock())
    cancelled = await prepared_render(repo, clock)
    assert await repo.transition(cancelled, expected=JobState.SUBMITTING, to=JobState.FAILED)
    assert not await dispatch.queue(cancelled, lease_until=clock())
    assert await engine_jobs(postgres, unprepared.id) == []
    assert await engine_jobs(postgres, cancelled) == []


async def test_abort_cancels_a_waiting_engine_job(postgres: Database) -> None:
    clock = FakeClock()
    repo, dispatch = JobRepository(postgres, clock), RenderDispatch(postgres, clock)
    job_id = await prepared_render(repo, clock)
    await dispatch.queue(job_id, lease_until=clock())
    assert await dispatch.abort(job_id) == 1
    assert [j[0] for j in await engine_jobs(postgres, job_id)] == ["cancelled"]
    assert await dispatch.abort(job_id) == 0


async def test_a_stale_attempt_changes_nothing(postgres: Database) -> None:
    clock = FakeClock()
    repo = JobRepository(postgres, clock)
    job_id = await prepared_render(repo, clock)
    first = await repo.claim_render(job_id, lease_until=clock() + timedelta(hours=1))
    second = await repo.claim_render(job_id, lease_until=clock() + timedelta(hours=1))
    assert first is not None
    assert second is not None
    assert (first.render_fence, second.render_fence) == (1, 2)
    assert second.submit_attempts == 2
    # The first attempt froze and woke up: its success and its give-back change nothing.
    assert not await repo.transition(
        job_id, expected=JobState.SUBMITTING, to=JobState.SUCCEEDED, fence=1, output_path="x"
    )
    assert not await repo.transition(
        job_id, expected=JobState.SUBMITTING, fence=1, next_poll_at=clock()
    )
    assert await repo.transition(
        job_id,
        expected=JobState.SUBMITTING,
        to=JobState.SUCCEEDED,
        fence=2,
        output_path="y",
        next_delivery_at=clock() + timedelta(minutes=15),
    )
    lease = clock() + timedelta(minutes=15)
    assert not await repo.renew_delivery(job_id, fence=1, lease_until=lease)
    assert await repo.renew_delivery(job_id, fence=2, lease_until=lease)
    job = await repo.get(job_id)
    assert job is not None
    assert (job.state, job.output_path) == (JobState.SUCCEEDED, "y")
    assert await repo.claim_render(job_id, lease_until=lease) is None  # not in SUBMITTING


async def test_a_restarting_bot_leaves_a_workers_delivery_alone(postgres: Database) -> None:
    clock = FakeClock()
    repo = JobRepository(postgres, clock)
    job_id = await prepared_render(repo, clock)
    claimed = await repo.claim_render(job_id, lease_until=clock() + timedelta(hours=1))
    assert claimed is not None
    hand_over = clock() + timedelta(minutes=15)
    assert await repo.transition(
        job_id,
        expected=JobState.SUBMITTING,
        to=JobState.SUCCEEDED,
        fence=claimed.render_fence,
        next_poll_at=None,
        next_delivery_at=hand_over,
    )
    await repo.release_leases(clock())
    job = await repo.get(job_id)
    assert job is not None
    assert job.next_delivery_at == hand_over


async def test_finished_engine_jobs_are_forgotten_after_a_week(postgres: Database) -> None:
    clock = FakeClock()
    repo, dispatch = JobRepository(postgres, clock), RenderDispatch(postgres, clock)
    old, recent, waiting = [await prepared_render(repo, clock) for _ in range(3)]
    for job_id in (old, recent, waiting):
        await dispatch.queue(job_id, lease_until=clock())
    await postgres.execute(
        "UPDATE procrastinate_jobs SET status = 'succeeded' WHERE lock IN (?, ?)",
        (render_lock(old), render_lock(recent)),
    )
    await postgres.execute(  # the engine writes its events at the server's now()
        "UPDATE procrastinate_events SET at = ? WHERE job_id IN"
        " (SELECT id FROM procrastinate_jobs WHERE lock = ?)",
        (clock() - timedelta(days=8), render_lock(old)),
    )
    await postgres.execute(
        "UPDATE procrastinate_events SET at = ? WHERE at > ?", (clock(), clock())
    )
    assert await dispatch.forget_finished() == 1
    assert await engine_jobs(postgres, old) == []
    assert [j[0] for j in await engine_jobs(postgres, recent)] == ["succeeded"]
    assert [j[0] for j in await engine_jobs(postgres, waiting)] == ["todo"]
