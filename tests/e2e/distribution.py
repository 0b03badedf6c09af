"""Helpers for the auto-post and inline sharing tests: commands, stored videos, waiting."""

from __future__ import annotations

import itertools
from typing import Any

from bot.domain import JobState
from storage.jobs import Job
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, direct_job

_tokens = itertools.count(1)


async def ask(h: Harness, update: dict[str, Any], chat_id: int) -> str:
    """Push an update and return the text of the bot's next message in `chat_id`."""
    before = len([c for c in h.telegram.calls_to("sendMessage") if c.params["chat_id"] == chat_id])
    h.telegram.push_update(update)
    calls = await h.telegram.wait_for(
        "sendMessage", lambda c: c.params["chat_id"] == chat_id, count=before + 1
    )
    return str(calls[before].params["text"])


async def stored_video(
    h: Harness,
    *,
    chat_id: int,
    user_id: int | None,
    title: str | None = None,
    author: str | None = None,
) -> Job:
    """A job delivered earlier (a video Telegram stores), written straight to the table."""
    token = f"stored-{next(_tokens)}"
    job = await h.repo.create(
        direct_job(
            chat_id, token, user_id=user_id, command_message_id=None, author=author, title=title
        )
    )
    now = h.app.clock()
    assert await h.repo.transition(
        job.id,
        expected=JobState.SUBMITTING,
        to=JobState.DELIVERED,
        file_id=h.telegram.add_video_file(),
        completed_at=now,
        delivered_at=now,
    )
    return await h.job(job.id)


async def deliver(h: Harness, job_id: int, *, user_id: int, audio_id: str = AUDIO_ID) -> Job:
    """`/video` in the user's private chat, rendered by the provider and delivered."""
    await h.submit(f"/video {TASK_ID} {audio_id} DJ Ann", user_id=user_id)
    video_task = await h.video_task_id(job_id)
    h.upstream.complete(video_task)
    assert (await h.upstream.fire_callback(video_task, h.web)).status_code == 200
    return await h.wait_state(JobState.DELIVERED, job_id)
