"""Issue 10's render controls not covered by tests/e2e/test_render_jobs.py: the progress
throttle (at most one status edit per 5 s), Cancel by a chat admin or a bot admin (and not by a
plain member of a group), and a voice message rendered end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import JobState, Provider
from bot.rendering import QueuePosition
from bot.telegram_io.render_progress import (
    CANCEL_PREFIX,
    PROGRESS_INTERVAL_SECONDS,
    ProgressReporter,
)
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, new_fakes, running_bot
from tests.e2e.test_render_jobs import USER, decoded, rendered_video
from tests.fakes.telegram import Json
from tests.rendering.conftest import make_media

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


def cancel_button(h: Harness, job_id: int) -> tuple[Json, str]:
    """The status message in the group carrying job `job_id`'s Cancel button, and its data."""
    data = f"{CANCEL_PREFIX}{job_id}"
    for message in h.telegram.messages(GROUP):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        if any(button.get("callback_data") == data for row in rows for button in row):
            return message, data
    raise AssertionError(f"no Cancel button for job {job_id} in {h.telegram.messages(GROUP)}")


async def tap_cancel(h: Harness, job_id: int, user_id: int) -> str:
    """Tap job `job_id`'s Cancel as `user_id`; the answer the bot gave to that tap."""
    message, data = cancel_button(h, job_id)
    tap = h.telegram.callback_query(data, message=message, user_id=user_id)
    h.telegram.push_update(tap)
    query_id = tap["callback_query"]["id"]
    [answer] = await h.telegram.wait_for(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query_id
    )
    return str(answer.params.get("text", ""))


async def test_a_chat_admin_and_a_bot_admin_may_cancel_a_members_render(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    upstream.media_seconds = 40.0  # renders long enough to be cancelled
    telegram.set_admins(GROUP, [CHAT_ADMIN])
    async with running_bot(tmp_path, fakes=(telegram, upstream)) as h:
        for audio_id in (AUDIO_ID, "audio-2"):
            h.telegram.push_update(
                h.telegram.group_message(
                    f"/render {TASK_ID} {audio_id}", chat_id=GROUP, user_id=USER
                )
            )
        await h.wait_until(lambda: len(h.telegram.messages(GROUP)) == 2, timeout=10)
        assert {(await h.job(n)).user_id for n in (1, 2)} == {USER}

        denied = await tap_cancel(h, 1, MEMBER)
        assert "Only the person who asked for this video or a chat admin" in denied
        assert [c.params["user_id"] for c in telegram.calls_to("getChatMember")] == [MEMBER]
        assert (await h.job(1)).state is JobState.SUBMITTING

        assert await tap_cancel(h, 1, CHAT_ADMIN) == "Cancelled."
        first = await h.wait_state(JobState.FAILED, job_id=1)
        assert first.error_kind == "cancelled"

        assert await tap_cancel(h, 2, BOT_ADMIN) == "Cancelled."
        second = await h.wait_state(JobState.FAILED, job_id=2)
        assert second.error_kind == "cancelled"
        # A bot admin is let through without asking Telegram who they are in the chat.
        assert BOT_ADMIN not in [c.params["user_id"] for c in telegram.calls_to("getChatMember")]
        await h.wait_until(
            lambda: all("Cancelled" in m.get("text", "") for m in h.telegram.messages(GROUP)),
            timeout=10,
        )
        assert telegram.calls_to("sendVideo") == []


@pytest.fixture(scope="module")
def voice_ogg(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 3 s mono Opus voice note in OGG, as Telegram's clients record them (no tags, no cover)."""
    path = tmp_path_factory.mktemp("voice") / "voice.ogg"
    make_media(
        *("-f", "lavfi", "-i", "sine=f=220:d=3:sample_rate=48000"),
        *("-c:a", "libopus", "-b:a", "32k", "-ac", "1", str(path)),
    )
    return path.read_bytes()


async def test_a_voice_message_sent_privately_is_rendered_and_answered(
    tmp_path: Path, voice_ogg: bytes
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        media = h.telegram.user_file("voice", voice_ogg, file_name="", mime_type="audio/ogg")
        update = h.telegram.audio_message(media, kind="voice", user_id=USER)
        h.telegram.push_update(update)
        call = await rendered_video(h)
        job = await h.wait_state(JobState.DELIVERED)
        assert (job.kind, job.task_id, job.audio_id, job.video_format) == (
            "render",
            "upload",
            media["file_unique_id"],
            "9:16",
        )
        assert job.source_file_id == media["file_id"]
        assert [c.params["file_id"] for c in h.telegram.calls_to("getFile")] == [media["file_id"]]
        assert h.telegram.file_downloads == ["voice/file_1"]
        assert call.params["chat_id"] == USER
        assert call.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
        assert (call.params["width"], call.params["height"]) == (720, 1280)
        assert call.params["duration"] == 3
        assert "Rendered by this bot (9:16)" in call.params["caption"]
        assert "voice" in call.params["caption"]  # no tags: the title comes from the file
        info = await decoded(call.files["video"], tmp_path)
        assert info.video is not None
        assert info.audio is not None
        assert info.duration == pytest.approx(3.0, abs=0.1)
        await h.wait_until(lambda: "Done" in h.status_text(USER))


@pytest.mark.parametrize(("chat_id", "interval"), [(GROUP, 15.0), (USER, 5.0)])
async def test_progress_in_a_group_is_edited_at_most_once_per_15_s(
    tmp_path: Path, chat_id: int, interval: float
) -> None:
    """A group's 20 messages a minute: its render progress takes at most 4 (private: 12)."""
    async with running_bot(tmp_path, Provider.KIE) as h:
        command = f"/video {TASK_ID} {AUDIO_ID}"
        if chat_id < 0:
            h.telegram.push_update(h.telegram.group_message(command, chat_id=chat_id, user_id=USER))
        else:
            await h.submit(command, user_id=USER)
        h.upstream.complete(await h.video_task_id())
        job = await h.wait_state(JobState.DELIVERED)
        await h.settle()
        assert job.status_message_id is not None
        before = len(progress_edits(h, job.status_message_id))
        now = [1000.0]
        assert h.app.application is not None
        reporter = ProgressReporter(h.app.application.bot, job, clock=lambda: now[0])

        async def edits(count: int) -> list[str]:
            await h.telegram.wait_for(
                "editMessageText",
                lambda c: c.params["message_id"] == job.status_message_id,
                count=before + count,
            )
            return progress_edits(h, job.status_message_id or 0)[before:]

        reporter.progress(0.10)
        assert await edits(1) == ["🎬 Rendering the video myself… 10%"]
        for seconds, fraction in ((4.9, 0.2), (interval - 0.01, 0.3)):
            now[0] = 1000.0 + seconds
            reporter.progress(fraction)  # within the interval of the last edit: not shown
        now[0] = 1000.0 + interval
        reporter.progress(0.40)
        assert (await edits(2))[-1] == "🎬 Rendering the video myself… 40%"
        await reporter.close()
        await h.settle()
        assert len(progress_edits(h, job.status_message_id)) == before + 2
