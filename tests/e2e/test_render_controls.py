"""Issue 10's render controls not covered by tests/e2e/test_render_jobs.py: the progress
throttle (at most one status edit per 5 s), Cancel by a chat admin or a bot admin (and not by a
plain member of a group), and a voice message rendered end to end."""

from __future__ import annotations

from pathlib import Path

from bot.domain import JobState, Provider
from bot.engine.render_jobs import PROGRESS_INTERVAL_SECONDS, ProgressReporter
from bot.rendering import QueuePosition
from tests.e2e.harness import Harness, running_bot
from tests.e2e.test_render_jobs import USER

GROUP = -100555
CHAT_ADMIN = 5151
BOT_ADMIN = 999  # in ADMIN_USER_IDS of the harness's settings
MEMBER = 7373


def progress_edits(h: Harness, message_id: int) -> list[str]:
    """The texts of the editMessageText calls on one message, oldest first."""
    return [
        str(c.params["text"])
        for c in h.telegram.calls_to("editMessageText")
        if c.params["message_id"] == message_id
    ]


async def test_progress_edits_the_status_at_most_once_per_interval(tmp_path: Path) -> None:
    assert PROGRESS_INTERVAL_SECONDS == 5.0
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(user_id=USER)  # a provider video: a status message that then stays put
        h.upstream.complete(await h.video_task_id())
        job = await h.wait_state(JobState.DELIVERED)
        await h.settle()
        assert job.status_message_id is not None
        before = len(progress_edits(h, job.status_message_id))
        now = [1000.0]
        assert h.app.application is not None
        reporter = ProgressReporter(
            h.app.application.bot, job, interval=PROGRESS_INTERVAL_SECONDS, clock=lambda: now[0]
        )

        def shown() -> list[str]:
            return progress_edits(h, job.status_message_id or 0)[before:]

        async def edits(count: int) -> list[str]:
            await h.telegram.wait_for(
                "editMessageText",
                lambda c: c.params["message_id"] == job.status_message_id,
                count=before + count,
            )
            return shown()

        reporter.progress(0.10)  # the first percentage is shown at once
        assert await edits(1) == ["🎬 Rendering the video myself… 10%"]
        for seconds, fraction in ((1.0, 0.2), (4.9, 0.3), (4.999, 0.35)):
            now[0] = 1000.0 + seconds
            reporter.progress(fraction)  # within 5 s of the last edit: not shown
        now[0] = 1005.0
        reporter.progress(0.40)
        assert await edits(2) == [
            "🎬 Rendering the video myself… 10%",
            "🎬 Rendering the video myself… 40%",
        ]
        now[0] = 1006.0
        reporter.queued(QueuePosition(ahead=1, running=1))  # a place in line is always shown
        queued = "⏳ Queued for rendering: 2 ahead of yours."
        assert (await edits(3))[-1] == queued
        now[0] = 1009.0
        reporter.progress(0.50)  # within 5 s of the queue edit: not shown
        now[0] = 1011.0
        h.telegram.hang("editMessageText")
        reporter.progress(0.60)  # shown, but Telegram holds the answer
        await edits(4)
        now[0] = 1016.0
        reporter.progress(0.70)  # due: waits for the edit in flight
        now[0] = 1021.0
        reporter.progress(0.80)  # due too: replaces the waiting one
        h.telegram.release_hangs()
        assert await edits(5) == [
            f"🎬 Rendering the video myself… {percent}%" if percent else queued
            for percent in (10, 40, 0, 60, 80)
        ]
        h.telegram.hang("editMessageText")
        now[0] = 1030.0
        reporter.progress(0.90)  # in flight when the render ends
        await edits(6)
        now[0] = 1036.0
        reporter.progress(0.95)  # waiting behind it
        await reporter.close()  # the job's next phase comes next: both are dropped
        h.telegram.release_hangs()
        await h.settle()
        assert len(shown()) == 6
        assert shown()[-1] == "🎬 Rendering the video myself… 90%"
