"""Races: concurrent compare-and-set transitions and leases; exactly one caller wins."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.domain import JobState
from storage.interface import Database
from storage.jobs import Job, JobRepository
from tests.storage.factories import START, FakeClock, new_job


async def _pending(repo: JobRepository) -> Job:
    job = await repo.create(new_job())
    assert await repo.transition(job.id, expected=JobState.SUBMITTING, to=JobState.PENDING)
    return job


@pytest.mark.parametrize("racers", [2, 10])
async def test_concurrent_transitions_on_one_connection_have_one_winner(
    repo: JobRepository, racers: int
) -> None:
    job = await _pending(repo)
    outcomes = await asyncio.gather(
        *(
            repo.transition(
                job.id, expected=JobState.PENDING, to=JobState.SUCCEEDED, video_url=f"u{i}"
            )
            for i in range(racers)
        )
    )
    assert outcomes.count(True) == 1
    stored = await repo.get(job.id)
    assert stored is not None
    assert stored.state is JobState.SUCCEEDED
    assert stored.video_url == f"u{outcomes.index(True)}"


@pytest.mark.parametrize("racers_per_process", [1, 5])
async def test_concurrent_transitions_from_two_connections_have_one_winner(
    db_pair: tuple[Database, Database], clock: FakeClock, racers_per_process: int
) -> None:
    repos = [JobRepository(db, clock) for db in db_pair]
    job = await _pending(repos[0])
    outcomes = await asyncio.gather(
        *(
            repo.transition(job.id, expected=JobState.PENDING, to=JobState.SUCCEEDED)
            for _ in range(racers_per_process)
            for repo in repos
        )
    )
    assert outcomes.count(True) == 1
    seen_by_other = await repos[1].get(job.id)
    assert seen_by_other is not None
    assert seen_by_other.state is JobState.SUCCEEDED


async def test_racing_success_and_failure_leave_one_consistent_outcome(
    repo: JobRepository,
) -> None:
    job = await _pending(repo)
    succeeded, failed = await asyncio.gather(
        repo.transition(job.id, expected=JobState.PENDING, to=JobState.SUCCEEDED, video_url="u"),
        repo.transition(job.id, expected=JobState.PENDING, to=JobState.FAILED, error="boom"),
    )
    assert succeeded != failed
    stored = await repo.get(job.id)
    assert stored is not None
    if succeeded:
        assert (stored.state, stored.video_url, stored.error) == (JobState.SUCCEEDED, "u", None)
    else:
        assert (stored.state, stored.video_url, stored.error) == (JobState.FAILED, None, "boom")


async def test_two_claimers_one_lease(db_pair: tuple[Database, Database], clock: FakeClock) -> None:
    repos = [JobRepository(db, clock) for db in db_pair]
    job = await _pending(repos[0])
    now = clock.advance(1)
    outcomes = await asyncio.gather(
        *(
            repo.claim(
                job.id,
                expected=JobState.PENDING,
                column="next_poll_at",
                now=now,
                lease_until=now + timedelta(seconds=60),
                counter="poll_attempts",
            )
            for repo in repos * 3
        )
    )
    assert outcomes.count(True) == 1
    stored = await repos[1].get(job.id)
    assert stored is not None
    assert stored.poll_attempts == 1
    assert stored.next_poll_at == now + timedelta(seconds=60)
    assert await repos[0].due_for_check(now) == []
    assert [j.id for j in await repos[0].due_for_check(START + timedelta(seconds=61))] == [job.id]
