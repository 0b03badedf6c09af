"""Benchmark: Telegram calls per job, and a burst of videos against Telegram's flood limits.

1. One happy-path job (command → callback → video): how many Telegram calls reach its chat.
2. N jobs in N chats finishing at once: every video posted exactly once, the messages/s
   achieved, and how many 429s a fake Bot API that enforces 30 messages/s (like Telegram) gave.
Runs the real bot in-process against the fakes (tests/fakes).
Usage: .venv/bin/python -m bench.telegram_budget [N]   (goal: ≥ 27 msg/s, 0 x 429, all once)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")  # as `python -m bot` does

from bot.domain import JobState, Provider
from storage.jobs import NewJob
from tests.e2e.harness import AUDIO_ID, TASK_ID, direct_job, new_fakes, running_bot

USER = 5151


async def calls_per_job() -> int:
    """Telegram calls into the chat for one job on the happy path."""
    with tempfile.TemporaryDirectory() as tmp:
        async with running_bot(Path(tmp), Provider.KIE) as h:
            await h.submit(f"/video {TASK_ID} {AUDIO_ID}", user_id=USER)
            video_task = await h.video_task_id()
            h.upstream.complete(video_task)
            await h.upstream.fire_callback(video_task, h.web)
            await h.wait_state(JobState.DELIVERED)
            await asyncio.sleep(0.5)
            return len([c for c in h.telegram.calls if c.params.get("chat_id") == USER])


async def burst(jobs: int) -> None:
    """N finished jobs in N chats, delivered against Telegram's flood limits."""
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.flood_control = True
    video_tasks = [upstream.create_video(TASK_ID, AUDIO_ID) for _ in range(jobs)]
    for video_task in video_tasks:
        upstream.complete(video_task)
    with tempfile.TemporaryDirectory() as tmp:
        async with running_bot(Path(tmp), Provider.KIE, fakes=(telegram, upstream)) as h:
            now = h.app.clock()
            for n, video_task in enumerate(video_tasks):
                job = await h.repo.create(_new_job(n))
                await h.repo.transition(
                    job.id,
                    expected=JobState.SUBMITTING,
                    to=JobState.SUCCEEDED,
                    video_task_id=video_task,
                    video_url=f"{upstream.public_base_url}/cdn/{video_task}.mp4",
                    status_phase="rendering",
                    completed_at=now,
                    next_delivery_at=None,
                )
            assert h.app.db is not None
            started = time.perf_counter()
            # All finish at once: one statement makes every delivery due.
            await h.app.db.execute(
                "UPDATE jobs SET next_delivery_at = ? WHERE state = 'succeeded'",
                (h.app.clock().timestamp(),),
            )
            h.app.wake_delivery()
            async with asyncio.timeout(jobs / 10 + 60):
                while len(telegram.calls_to("sendVideo")) - telegram.flood_answers < jobs:  # noqa: ASYNC110 - the fake has no event for it
                    await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # late duplicates, if any
            elapsed = time.perf_counter() - started
    posted = Counter(
        int(m["chat"]["id"])
        for chat in range(100_000, 100_000 + jobs)
        for m in telegram.messages(chat)
        if "video" in m
    )
    once = sum(1 for n in posted.values() if n == 1)
    rate = jobs / elapsed
    print(
        f"burst of {jobs} videos finishing at once in {jobs} chats: {rate:.1f} msg/s"
        f" ({elapsed:.1f} s) (goal: ≥ 27 msg/s)"
    )
    print(
        f"  posted exactly once: {once}/{jobs}, duplicates {sum(posted.values()) - len(posted)}"
        " (goal: all once, 0 duplicates)"
    )
    print(
        f"  429 answers from the fake Bot API (30 msg/s like Telegram): {telegram.flood_answers}"
        " (goal: 0)"
    )


def _new_job(n: int) -> NewJob:
    return direct_job(100_000 + n, f"burst-{n}")


async def main(jobs: int) -> None:
    print(f"Telegram calls per job (happy path): {await calls_per_job()} (goal: ≤ 2)")
    await burst(jobs)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
