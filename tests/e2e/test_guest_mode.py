"""Render it here (issue 20 item 3, docs/architecture.md §10.4): a guest query answered at once
with a placeholder, rendered as a render job charged once to the caller, the video posted to
the caller's private chat and edited into the placeholder by file_id — also across a restart;
a video the caller already has answered at once; errors edited in as one line.

Real PTB against the fake Bot API (guest messages, answerGuestQuery, editMessageMedia on an
inline message) and real ffmpeg renders of short clips, decoded back.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.domain import JobState, Provider
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, new_fakes, running_bot
from tests.e2e.test_render_jobs import RENDER_TIMEOUT, decoded, rendered_video
from tests.fakes.telegram import Call, Json
from tests.postgres_server import throwaway_database
from tests.rendering.conftest import make_media, processes_with

USER = 4242
BOT = "MusicVideoBot"


async def guest(h: Harness, words: str, **kwargs: object) -> Json:
    """Summon the bot in a chat it is not in: `@Bot <words>`."""
    update = h.telegram.guest_message(f"@{BOT} {words}", user_id=USER, **kwargs)  # type: ignore[arg-type]
    h.telegram.push_update(update)
    return update


async def answer_of(h: Harness, update: Json, timeout: float = 10.0) -> Call:
    """The answerGuestQuery call for this guest message."""
    query_id = update["guest_message"]["guest_query_id"]
    calls = await h.telegram.wait_for(
        "answerGuestQuery", lambda c: c.params["guest_query_id"] == query_id, timeout=timeout
    )
    return calls[0]


def inline_id(h: Harness, update: Json) -> str:
    """The inline message the guest query's answer became."""
    return h.telegram.guest_inline_ids[update["guest_message"]["guest_query_id"]]


async def video_edited_in(h: Harness, count: int = 1) -> Call:
    calls = await h.telegram.wait_for("editMessageMedia", count=count, timeout=RENDER_TIMEOUT)
    return calls[count - 1]


async def test_placeholder_at_once_then_the_video_by_file_id_charged_once(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE, quota_per_hour=2) as h:
        asked = time.monotonic()
        update = await guest(h, f"{TASK_ID} {AUDIO_ID}")
        answer = await answer_of(h, update)
        assert answer.at - asked < 2.0  # at once, long before the render
        result = answer.params["result"]
        assert result["type"] == "article"
        body = result["input_message_content"]["message_text"]
        assert body.startswith("🎬 Rendering")
        assert "appear right here" in body
        assert "audio-1" not in body  # "your video" until the title is known, not an id
        placeholder_id = inline_id(h, update)
        assert "text" in h.telegram.inline_message(placeholder_id)
        assert h.telegram.calls_to("sendVideo") == []  # not rendered yet: answered first

        # The caller's copy goes to their private chat first (it gives the file_id)...
        sent = await rendered_video(h)
        assert sent.params["chat_id"] == USER
        job = await h.wait_state(JobState.DELIVERED)
        assert (job.kind, job.chat_id, job.user_id, job.video_format) == (
            "render",
            USER,
            USER,
            "9:16",
        )
        info = await decoded(sent.files["video"], tmp_path)
        assert info.video is not None
        assert (info.video.width, info.video.height) == (720, 1280)
        # ...then that file_id is edited into the placeholder: no upload into the inline message.
        edit = await video_edited_in(h)
        assert edit.params["inline_message_id"] == placeholder_id
        assert edit.params["media"]["type"] == "video"
        assert edit.params["media"]["media"] == job.file_id
        assert edit.files == {}
        shown = h.telegram.inline_message(placeholder_id)
        assert shown["video"]["file_id"] == job.file_id
        assert "text" not in shown
        assert "Song A" in shown["caption"]
        await h.settle()
        assert h.app.db is not None
        row = await h.app.db.fetch_one(
            "SELECT finished_at FROM guest_answers WHERE job_id = ?", (job.id,)
        )
        assert row is not None
        assert row["finished_at"] is not None

        # Charged once: one job, one unit of the quota of 2 — one more render fits, not two.
        await h.submit(f"/render {TASK_ID} audio-2", user_id=USER)
        await h.submit(f"/render {TASK_ID} audio-2 1:1", user_id=USER)
        await h.telegram.wait_for(
            "sendMessage", lambda c: "hourly limit" in c.params["text"], timeout=10
        )
        assert (await h.job(2)).audio_id == "audio-2"
        assert await h.repo.get(3) is None

        # The same video asked for again: answered at once by file_id, no job, no render.
        again = await guest(h, f"{TASK_ID} {AUDIO_ID} 9:16")
        cached = (await answer_of(h, again)).params["result"]
        assert cached["type"] == "video"
        assert cached["video_file_id"] == job.file_id
        await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT)  # job 2's
        await h.settle()
        assert await h.repo.get(3) is None
        assert len(h.telegram.calls_to("editMessageMedia")) == 1


async def test_a_restart_between_placeholder_and_delivery_still_edits_the_video_in(
    tmp_path: Path,
) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    upstream.media_seconds = 40.0
    renders = str(tmp_path / "renders")
    async with running_bot(tmp_path, fakes=(telegram, upstream)) as h:
        update = await guest(h, f"{TASK_ID} {AUDIO_ID} 1:1")
        await answer_of(h, update)
        placeholder_id = inline_id(h, update)
        # Once the render's plan is stored, the placeholder shows the title and the cover.
        [dressed] = await telegram.wait_for("editMessageText", timeout=10)
        assert dressed.params["inline_message_id"] == placeholder_id
        shown = telegram.inline_message(placeholder_id)
        assert shown["text"].startswith("🎬 Rendering Song A")
        assert shown["link_preview_options"]["url"].endswith(f"/cover-{AUDIO_ID}.png")
        assert shown["link_preview_options"]["show_above_text"] is True
        await h.wait_until(lambda: bool(processes_with(renders)), timeout=30)
    assert telegram.calls_to("sendVideo") == []
    assert telegram.calls_to("editMessageMedia") == []
    upstream.media_seconds = 3.0
    async with running_bot(tmp_path, fakes=(telegram, upstream)) as h:  # the same database
        edit = await video_edited_in(h)
        job = await h.wait_state(JobState.DELIVERED)
        assert edit.params["inline_message_id"] == placeholder_id
        assert edit.params["media"]["media"] == job.file_id
        await h.settle()
        assert len(telegram.calls_to("sendVideo")) == 1
        assert len(telegram.calls_to("answerGuestQuery")) == 1
        assert len(telegram.calls_to("editMessageMedia")) == 1
        assert len(telegram.calls_to("editMessageText")) == 1  # dressed once, before the stop
        assert h.telegram.inline_message(placeholder_id)["video"]["file_id"] == job.file_id


async def test_bad_ids_edit_the_placeholder_into_one_line(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        update = await guest(h, f"no-such-task {AUDIO_ID}")
        await answer_of(h, update)
        placeholder_id = inline_id(h, update)
        await h.wait_state(JobState.FAILED, timeout=20)
        [edit] = await h.telegram.wait_for("editMessageText", timeout=10)
        assert edit.params["inline_message_id"] == placeholder_id
        line = h.telegram.inline_message(placeholder_id)["text"]
        private = await h.telegram.wait_for("sendMessage", timeout=10)
        assert private[0].params["chat_id"] == USER  # the caller's private chat is told too
        assert line.startswith("❌")
        assert "\n" not in line
        await h.settle()
        assert h.telegram.calls_to("editMessageMedia") == []


async def test_usage_and_a_caller_who_never_started_the_bot(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        usage = (await answer_of(h, await guest(h, "hello"))).params["result"]
        assert usage["type"] == "article"
        assert "<taskId> <audioId>" in usage["input_message_content"]["message_text"]

        h.telegram.never_started(USER)
        refused = (await answer_of(h, await guest(h, f"{TASK_ID} {AUDIO_ID}"))).params["result"]
        assert "press Start" in refused["input_message_content"]["message_text"]
        [[button]] = refused["reply_markup"]["inline_keyboard"]
        assert button["url"] == f"https://t.me/{BOT}"
        await h.settle()
        assert await h.repo.get(1) is None  # no render, no quota used


async def test_refused_in_the_private_chat_at_delivery_edits_in_how_to_fix_it(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.fail_next(
            "sendVideo",
            error_code=403,
            description="Forbidden: bot was blocked by the user",
        )
        update = await guest(h, f"{TASK_ID} {AUDIO_ID}")
        await answer_of(h, update)
        placeholder_id = inline_id(h, update)
        await h.wait_state(JobState.UNDELIVERABLE, timeout=RENDER_TIMEOUT)
        await h.telegram.wait_for(
            "editMessageText", lambda c: "press Start" in c.params["text"], timeout=10
        )
        shown = h.telegram.inline_message(placeholder_id)
        assert "press Start" in shown["text"]
        assert shown["reply_markup"]["inline_keyboard"][0][0]["url"] == f"https://t.me/{BOT}"


@pytest.mark.parametrize("with_audio", [True, False])
async def test_replying_to_an_audio_file(tmp_path: Path, with_audio: bool) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        if with_audio:
            wav = tmp_path / "tone.mp3"
            make_media("-f", "lavfi", "-i", "sine=f=330:d=3", "-c:a", "libmp3lame", str(wav))
            media = h.telegram.user_file(
                "audio", wav.read_bytes(), file_name="tone.mp3", mime_type="audio/mpeg"
            )
        else:
            media = None
        replied = h.telegram.guest_audio(media) if media else h.telegram.guest_audio({})
        if media is None:
            del replied["audio"]
            replied["text"] = "just words"
        update = await guest(h, "", reply_to=replied)
        result = (await answer_of(h, update)).params["result"]
        if not with_audio:
            assert "can't reach that audio" in result["input_message_content"]["message_text"]
            return
        assert result["type"] == "article"
        edit = await video_edited_in(h)
        job = await h.wait_state(JobState.DELIVERED)
        assert (job.task_id, job.audio_id) == ("upload", media["file_unique_id"])
        assert edit.params["media"]["media"] == job.file_id


async def test_on_postgres_a_render_made_by_the_task_engine_is_edited_in(tmp_path: Path) -> None:
    """With PostgreSQL the render runs as an engine task and is delivered by the process that
    made it (§8.8), not by the delivery loop: the guest editor still edits it in, promptly."""
    with throwaway_database() as url:
        async with running_bot(tmp_path, Provider.KIE, database_url=url) as h:
            update = await guest(h, f"{TASK_ID} {AUDIO_ID} 16:9")
            await answer_of(h, update)
            placeholder_id = inline_id(h, update)
            edit = await video_edited_in(h)
            job = await h.wait_state(JobState.DELIVERED)
            assert edit.params["inline_message_id"] == placeholder_id
            assert edit.params["media"]["media"] == job.file_id
            assert edit.at - h.telegram.calls_to("sendVideo")[0].at < 2.0  # woken, not polled
