"""Builders shared by the storage tests: a settable clock, NewJob values and delivered renders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import JobState
from storage.jobs import KIND_RENDER, Job, JobRepository, NewJob

START = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward and return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now


_BASE = NewJob(
    chat_id=-100123,
    thread_id=7,
    user_id=42,
    command_message_id=10,
    status_message_id=11,
    language="en",
    provider="kie",
    task_id="music-task-1",
    audio_id="audio-1",
    author="Ann",
    domain_name="example.com",
    callback_token_hash="hash-0",
    next_poll_at=START,
)
_counter = 0


def new_job(**overrides: Any) -> NewJob:
    """A NewJob with a unique callback token hash unless one is given."""
    global _counter  # noqa: PLW0603 — unique hashes across one test session
    _counter += 1
    overrides.setdefault("callback_token_hash", f"hash-{_counter}")
    return replace(_BASE, **overrides)


async def delivered_render(repo: JobRepository, file_id: str, **overrides: Any) -> Job:
    """A 9:16 render job made with `overrides` (each checked to be stored) and marked delivered
    as `file_id`."""
    job = await repo.create(new_job(kind=KIND_RENDER, video_format="9:16", **overrides))
    for name, value in overrides.items():
        assert getattr(job, name) == value, name
    assert await repo.transition(
        job.id, expected=JobState.SUBMITTING, to=JobState.DELIVERED, file_id=file_id
    )
    return job
