"""GuestAnswers (docs/architecture.md §10.4) on both backends: a placeholder's row, when its
edit is due (settled, or a plan to show), retries, the compare-and-set finish."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import JobState
from storage.guest_queries import GuestAnswers
from storage.interface import Database
from storage.jobs import KIND_RENDER, JobRepository
from tests.storage.factories import FakeClock, new_job


async def test_an_answer_is_due_once_its_job_settles_and_finishes_once(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    answers = GuestAnswers(db, repo, clock)
    job = await repo.create(new_job(kind=KIND_RENDER, video_format="9:16"))
    await answers.record(job.id, "inline-1")
    await answers.record(job.id, "inline-2")  # handled again: the first stays
    stored = await answers.get(job.id)
    assert stored is not None
    assert (stored.inline_message_id, stored.finished_at, stored.edit_attempts) == (
        "inline-1",
        None,
        0,
    )
    assert await answers.due(clock()) == []  # still rendering
    assert await repo.transition(
        job.id, expected=JobState.SUBMITTING, to=JobState.DELIVERED, file_id="F"
    )
    [edit] = await answers.due(clock())
    assert (edit.id, edit.answer.inline_message_id, edit.job.file_id) == (job.id, "inline-1", "F")

    later = clock() + timedelta(seconds=30)
    await answers.postpone(job.id, later)
    assert await answers.due(clock()) == []
    assert await answers.next_due_at() == later
    assert [e.id for e in await answers.due(later)] == [job.id]
    assert (await answers.get(job.id)).edit_attempts == 1  # type: ignore[union-attr]

    assert await answers.finish(job.id)
    assert not await answers.finish(job.id)  # once
    assert await answers.due(later) == []
    assert await answers.next_due_at() is None


async def test_a_failed_job_is_due_too_a_running_one_is_not(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    answers = GuestAnswers(db, repo, clock)
    running = await repo.create(new_job(kind=KIND_RENDER, video_format="1:1"))
    failed = await repo.create(new_job(kind=KIND_RENDER, video_format="16:9"))
    assert await repo.transition(failed.id, expected=JobState.SUBMITTING, to=JobState.FAILED)
    await answers.record(running.id, "a")
    await answers.record(failed.id, "b")
    assert [e.id for e in await answers.due(clock())] == [failed.id]


async def test_a_rendering_job_is_due_once_its_plan_is_stored_until_dressed(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    answers = GuestAnswers(db, repo, clock)
    job = await repo.create(new_job(kind=KIND_RENDER, video_format="9:16"))
    known = await repo.create(new_job(kind=KIND_RENDER, video_format="1:1"))
    await answers.record(job.id, "a")
    await answers.record(known.id, "b", dressed=True)  # answered with title and cover
    assert await answers.due(clock()) == []  # no plan yet
    for each in (job, known):
        assert await repo.transition(each.id, expected=JobState.SUBMITTING, render_plan='{"v": 1}')
    [edit] = await answers.due(clock())
    assert edit.id == job.id
    assert not edit.settled
    await answers.dressed(job.id)
    assert await answers.due(clock()) == []
    stored = await answers.get(job.id)
    assert stored is not None
    assert stored.dressed_at == clock()
    assert stored.finished_at is None
