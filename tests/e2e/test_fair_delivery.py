"""Chats take turns for submissions and deliveries: one chat's backlog never holds back another."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from bot.domain import JobState, Provider
from tests.e2e.harness import AUDIO_ID, Harness, direct_job, running_bot

GROUP = -100_777
PRIVATE = 4242


async def finished_video(h: Harness, chat_id: int, n: int) -> int:
    """A finished job whose video (a stored file, sent by its id) is not yet due."""
    job = await h.repo.create(direct_job(chat_id, f"fair-{chat_id}-{n}", user_id=abs(chat_id)))
    assert await h.repo.transition(
        job.id,
        expected=JobState.SUBMITTING,
        to=JobState.SUCCEEDED,
        file_id=h.telegram.add_video_file(),
        completed_at=h.app.clock(),
    )
    return job.id


async def make_due_in_id_order(h: Harness) -> None:
    """Every finished video due at once (one statement, so the loop sees them all together),
    in the order they were made, ten minutes ago: as after an outage."""
    assert h.app.db is not None
    since = (h.app.clock() - timedelta(minutes=10)).timestamp()
    await h.app.db.execute(
        "UPDATE jobs SET next_delivery_at = ? + id WHERE state = 'succeeded'", (since,)
    )


async def test_a_private_video_is_not_held_back_by_a_groups_backlog(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.flood_control = True  # 20 messages a minute per group, as Telegram
        # After an outage: 30 videos due in one group, then one in a private chat.
        for n in range(30):
            await finished_video(h, GROUP, n)
        await finished_video(h, PRIVATE, 30)
        await make_due_in_id_order(h)
        started = time.monotonic()
        h.app.wake_delivery()
        [private] = await h.telegram.wait_for(
            "sendVideo", lambda c: c.params["chat_id"] == PRIVATE, timeout=30
        )
        waited = private.at - started
        videos = h.telegram.calls_to("sendVideo")
        group_first = [c for c in videos[: videos.index(private)] if c.params["chat_id"] == GROUP]
        # Taken in due order, the private video waited for 23 of the group's (8 slots, every
        # group send held ~3 s by the rate limiter after its burst of 19): ~13 s.
        assert len(group_first) <= 4, (len(group_first), waited)
        assert waited < 5.0
        assert h.telegram.flood_answers == 0


async def test_a_private_submission_is_not_held_back_by_a_groups_batch(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        # A batch of 40 members' jobs in one group, then one private job: the client sends 18
        # creates per 10 s, so in due order the private one would wait for the third window.
        for n in range(40):
            await h.repo.create(direct_job(GROUP, f"batch-{n}", user_id=n + 1, audio_id="audio-2"))
        await h.repo.create(direct_job(PRIVATE, "private", audio_id=AUDIO_ID))
        assert h.app.db is not None
        since = (h.app.clock() - timedelta(minutes=1)).timestamp()
        await h.app.db.execute("UPDATE jobs SET next_poll_at = ? + id", (since,))
        h.app.wake_reconciler()
        await h.wait_until(lambda: len(h.upstream.creates) >= 18, timeout=10)
        audio = [create.get("audioId") for create in h.upstream.creates]
        assert AUDIO_ID in audio[:18], audio  # in the first window, not after 40 more
