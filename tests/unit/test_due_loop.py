"""DueLoop against a real jobs table: a sliding window, step deadlines, one slot per job, stop,
fair shares per chat, surviving a failing due query."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import JobState
from bot.engine.due_loop import DueLoop, FairShare
from storage.db import SqliteDatabase
from storage.jobs import Job, JobRepository
from tests.storage.factories import new_job


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[JobRepository]:
    async with SqliteDatabase.connect(tmp_path / "bot.sqlite3") as db:
        yield JobRepository(db, now)


async def add_job(repo: JobRepository) -> int:
    job = await repo.create(new_job(next_poll_at=now()))
    return job.id


@asynccontextmanager
async def running(
    repo: JobRepository,
    work: Callable[[Job], Awaitable[None]],
    *,
    lease_seconds: float = 60.0,
    **options: float,
) -> AsyncIterator[DueLoop]:
    """A DueLoop whose steps lease the job (like the real workers), run `work`, then finish."""

    async def process(job: Job) -> None:
        at = now()
        lease = at + timedelta(seconds=lease_seconds)
        if not await repo.claim(
            job.id, expected=job.state, column="next_poll_at", now=at, lease_until=lease
        ):
            return
        await work(job)
        await repo.transition(job.id, expected=job.state, next_poll_at=None)

    loop = DueLoop(
        "test",
        fetch_due=repo.due_for_submit,
        next_due=repo.next_due_submit_at,
        process=process,
        clock=now,
        **options,  # type: ignore[arg-type]
    )
    task = asyncio.create_task(loop.run())
    try:
        yield loop
    finally:
        loop.stop()
        await asyncio.wait_for(task, 5)


async def finished(repo: JobRepository, job_id: int) -> bool:
    job = await repo.get(job_id)
    assert job is not None
    return job.next_poll_at is None and job.state is JobState.SUBMITTING


async def wait_finished(repo: JobRepository, job_id: int, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not await finished(repo, job_id):
            await asyncio.sleep(0.01)


async def test_a_free_slot_is_refilled_while_another_job_hangs(repo: JobRepository) -> None:
    release = asyncio.Event()
    hung = await add_job(repo)

    async def work(job: Job) -> None:
        if job.id == hung:
            await release.wait()

    async with running(repo, work, concurrency=2) as loop:
        quick = await add_job(repo)
        loop.wake()
        await wait_finished(repo, quick, 1.0)
        later = await add_job(repo)  # due after the first jobs were taken
        loop.wake()
        await wait_finished(repo, later, 1.0)
        assert not await finished(repo, hung)
        release.set()
        await wait_finished(repo, hung, 1.0)


async def test_a_step_over_its_deadline_is_cancelled_and_the_loop_goes_on(
    repo: JobRepository, caplog: pytest.LogCaptureFixture
) -> None:
    hung = await add_job(repo)
    cancelled = asyncio.Event()

    async def work(job: Job) -> None:
        if job.id == hung:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise

    with caplog.at_level(logging.WARNING, logger="bot.engine.due_loop"):
        async with running(repo, work, concurrency=1, step_timeout=0.2) as loop:
            await asyncio.wait_for(cancelled.wait(), 2)
            other = await add_job(repo)
            loop.wake()
            await wait_finished(repo, other, 1.0)
    assert f"job {hung} exceeded the" in caplog.text


async def test_a_job_never_runs_in_two_slots_at_once(repo: JobRepository) -> None:
    ids = [await add_job(repo) for _ in range(3)]
    active: dict[int, int] = dict.fromkeys(ids, 0)
    most = 0
    runs = 0

    async def work(job: Job) -> None:
        nonlocal most, runs
        runs += 1
        active[job.id] += 1
        most = max(most, active[job.id])
        try:
            await asyncio.sleep(0.3)
        finally:
            active[job.id] -= 1

    # The lease runs out long before the step ends: the rows read as due again at once.
    async with running(repo, work, concurrency=8, lease_seconds=0.0) as loop:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            loop.wake()
            await asyncio.sleep(0.01)
        for job_id in ids:
            await wait_finished(repo, job_id, 2.0)
    assert most == 1
    assert runs >= 3


async def test_concurrency_bounds_the_window(repo: JobRepository) -> None:
    ids = [await add_job(repo) for _ in range(12)]
    active = 0
    most = 0

    async def work(job: Job) -> None:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.02)
        active -= 1

    async with running(repo, work, concurrency=3, batch_size=2):
        for job_id in ids:
            await wait_finished(repo, job_id, 3.0)
    assert most == 3


async def test_stop_cancels_a_hung_step_after_the_grace_period(repo: JobRepository) -> None:
    hung = await add_job(repo)
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def work(job: Job) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop = DueLoop(
        "test",
        fetch_due=repo.due_for_submit,
        next_due=repo.next_due_submit_at,
        process=work,
        clock=now,
        stop_grace_seconds=0.2,
    )
    task = asyncio.create_task(loop.run())
    await asyncio.wait_for(started.wait(), 2)
    assert loop.in_progress == {hung}
    t0 = time.monotonic()
    loop.stop()
    await asyncio.wait_for(task, 2)
    assert time.monotonic() - t0 < 1.0
    assert cancelled.is_set()


async def test_cancelling_run_cancels_the_steps(repo: JobRepository) -> None:
    await add_job(repo)
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def work(job: Job) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop = DueLoop(
        "test",
        fetch_due=repo.due_for_submit,
        next_due=repo.next_due_submit_at,
        process=work,
        clock=now,
    )
    task = asyncio.create_task(loop.run())
    await asyncio.wait_for(started.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled.is_set()


@pytest.fixture
async def db_and_repo(tmp_path: Path) -> AsyncIterator[tuple[SqliteDatabase, JobRepository]]:
    async with SqliteDatabase.connect(tmp_path / "bot.sqlite3") as db:
        yield db, JobRepository(db, now)


async def test_a_failing_due_query_is_retried_with_backoff_and_the_loop_recovers(
    db_and_repo: tuple[SqliteDatabase, JobRepository], caplog: pytest.LogCaptureFixture
) -> None:
    db, repo = db_and_repo
    job_id = await add_job(repo)
    fetches = 0

    async def fetch_due(at: datetime, limit: int) -> list[Job]:
        nonlocal fetches
        fetches += 1
        return await repo.due_for_submit(at, limit)

    done = asyncio.Event()

    async def process(job: Job) -> None:
        await repo.transition(job.id, expected=job.state, next_poll_at=None)
        done.set()

    # A real database error on every due query: the table is gone for a while.
    await db.execute("ALTER TABLE jobs RENAME TO jobs_away")
    loop = DueLoop(
        "test", fetch_due=fetch_due, next_due=repo.next_due_submit_at, process=process, clock=now
    )
    task = asyncio.create_task(loop.run())
    try:
        with caplog.at_level(logging.WARNING):
            started = time.monotonic()
            while time.monotonic() - started < 2.0:
                loop.wake()  # wake-ups never turn the failure into a hot loop
                await asyncio.sleep(0.01)
            assert not task.done()
            assert 2 <= fetches <= 4  # at 0, 0.5, 1.5 s: the backoff doubles
            await db.execute("ALTER TABLE jobs_away RENAME TO jobs")
            await asyncio.wait_for(done.wait(), 10)
        assert await finished(repo, job_id)
        assert loop.health.status().healthy
        failing = [r for r in caplog.records if "test failing" in r.getMessage()]
        assert len(failing) == 1  # once per cause, however many attempts
        assert "no such table: jobs" in failing[0].getMessage()
    finally:
        loop.stop()
        await asyncio.wait_for(task, 5)


async def test_a_chat_with_many_due_rows_holds_at_most_its_share_of_the_slots(
    repo: JobRepository,
) -> None:
    group = [await repo.create(new_job(chat_id=-100, next_poll_at=None)) for _ in range(10)]
    private = await repo.create(new_job(chat_id=7, next_poll_at=None))
    for job in [*group, private]:  # the private chat's row is due last
        await repo.transition(job.id, expected=job.state, next_delivery_at=now())
    release = asyncio.Event()
    started: list[Job] = []

    async def process(job: Job) -> None:
        started.append(job)
        await release.wait()
        await repo.transition(job.id, expected=job.state, next_delivery_at=None)

    loop = DueLoop(
        "test",
        fetch_due=functools.partial(repo.due_for_delivery, per_chat=2),
        next_due=repo.next_due_delivery_at,
        process=process,
        clock=now,
        concurrency=8,
        fair_share=FairShare(lambda job: job.chat_id, 2),
    )
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(5):
            while len(started) < 3:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # nothing more starts: the group is at its share
        assert sorted(job.chat_id for job in started) == [-100, -100, 7]
        release.set()
        async with asyncio.timeout(10):
            while await repo.next_due_delivery_at() is not None:
                await asyncio.sleep(0.01)
        assert len(started) == 11
    finally:
        loop.stop()
        await asyncio.wait_for(task, 5)
