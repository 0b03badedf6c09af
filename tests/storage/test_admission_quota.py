"""The quota's "try again at" time (bot/engine/admission.py) on a real SQLite file.

A fallback render (docs/architecture.md §8.4) is the same request as the provider job it
stands in for: it neither counts against the quota nor moves the time the next job fits.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain import JobState
from bot.engine.admission import QUOTA_WINDOW, AccessPolicy, Admission, QuotaExceeded
from storage.jobs import KIND_RENDER, Job, JobRepository
from tests.storage.factories import FakeClock, new_job

MINUTE = 60.0


async def _fall_back(repo: JobRepository, job: Job, *, chat_id: int, user_id: int | None) -> Job:
    render = new_job(
        chat_id=chat_id, user_id=user_id, kind=KIND_RENDER, video_format="16:9", fallback_of=job.id
    )
    created = await repo.fail_into_fallback(
        job.id, expected=JobState.SUBMITTING, error_kind="credits", error=None, render=render
    )
    assert created is not None
    return created


async def _retry_at(admission: Admission, *, chat_id: int, user_id: int | None) -> datetime:
    verdict = await admission.check(
        user_id=user_id, chat_id=chat_id, task_id="music-task-9", audio_id="audio-9"
    )
    assert isinstance(verdict, QuotaExceeded), verdict
    return verdict.retry_at


async def test_a_fallback_render_does_not_move_the_time_the_next_job_fits(
    repo: JobRepository, clock: FakeClock
) -> None:
    admission = Admission(repo, AccessPolicy(), 2, clock)
    first = await repo.create(new_job(chat_id=7, user_id=7, audio_id="a-1"))
    clock.advance(50 * MINUTE)
    await _fall_back(repo, first, chat_id=7, user_id=7)  # 50 min after the job it replaces
    clock.advance(5 * MINUTE)
    second = await repo.create(new_job(chat_id=7, user_id=7, audio_id="a-2"))
    clock.advance(1 * MINUTE)
    await repo.create(new_job(chat_id=7, user_id=7, audio_id="a-3"))
    clock.advance(14 * MINUTE)  # the first job left the hour; the fallback did not

    # Two jobs in the hour: the next fits once the older of them (not the fallback) leaves it.
    assert await _retry_at(admission, chat_id=7, user_id=7) == second.created_at + QUOTA_WINDOW


async def test_anonymous_senders_retry_time_ignores_fallback_renders(
    repo: JobRepository, clock: FakeClock
) -> None:
    admission = Admission(repo, AccessPolicy(), 1, clock)
    first = await repo.create(new_job(chat_id=-5, user_id=None, audio_id="a-1"))
    clock.advance(40 * MINUTE)
    await _fall_back(repo, first, chat_id=-5, user_id=None)
    clock.advance(25 * MINUTE)
    later = await repo.create(new_job(chat_id=-5, user_id=None, audio_id="a-2"))
    clock.advance(1 * MINUTE)

    assert await _retry_at(admission, chat_id=-5, user_id=None) == later.created_at + QUOTA_WINDOW


async def test_over_the_quota_the_retry_time_is_when_enough_jobs_left_the_hour(
    repo: JobRepository, clock: FakeClock
) -> None:
    """More jobs in the hour than the quota (it was lowered, or the sender was an admin): the
    next fits when the count drops below the quota, not when the oldest leaves."""
    made = []
    for number in range(3):
        made.append(await repo.create(new_job(chat_id=8, user_id=8, audio_id=f"a-{number}")))
        clock.advance(MINUTE)
    admission = Admission(repo, AccessPolicy(), 2, clock)

    assert await _retry_at(admission, chat_id=8, user_id=8) == made[1].created_at + QUOTA_WINDOW
