"""Our own renderer wired into the bot (issue 10): /render, the picker, re-sends by file_id,
admission, fallback, format buttons, progress, cancel, restart, audio uploads.

Real ffmpeg renders of short generated clips (the fake upstream's CDN serves a 3 s tone and a
cover); every uploaded video is decoded back with the wheel's ffmpeg.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import JobState, Provider
from bot.rendering.probe import MediaInfo, decode_frame, probe
from bot.rendering.runner import Ffmpeg
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, new_fakes, running_bot
from tests.fakes.telegram import Call, FakeTelegram, UploadedFile
from tests.rendering.conftest import FFMPEG, make_media, processes_with

USER = 4242
LOOP_BUTTONS = ["🔁 Loop", "✨ Live"]  # the row under every provider track's video (issue 20)
RENDER_TIMEOUT = 60.0  # a 3 s clip renders in about 2 s; a loaded CI machine is slower


def buttons(call: Call) -> list[str]:
    """The labels of a call's inline keyboard, row by row."""
    markup = call.params.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


def callback_data(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


async def decoded(upload: UploadedFile, tmp_path: Path) -> MediaInfo:
    """Write an uploaded file back to disk and probe it with the wheel's ffmpeg."""
    path = tmp_path / f"uploaded-{upload.size}.mp4"
    path.write_bytes(upload.content)
    return await probe(Ffmpeg(FFMPEG), path)


async def rendered_video(h: Harness, count: int = 1) -> Call:
    """The `count`-th sendVideo, once made."""
    calls = await h.telegram.wait_for("sendVideo", count=count, timeout=RENDER_TIMEOUT)
    return calls[count - 1]


async def analysed_tracks(h: Harness) -> list[tuple[str, str, str]]:
    """The tracks with a stored music analysis (issue 18: made once, where the audio is)."""
    assert h.app.db is not None
    rows = await h.app.db.fetch_all("SELECT provider, task_id, audio_id FROM track_analysis")
    return [(row["provider"], row["task_id"], row["audio_id"]) for row in rows]


def work_dirs(h: Harness) -> list[Path]:
    root = h.settings.database_path.parent / "renders"
    return list(root.iterdir()) if root.exists() else []


async def test_render_command_renders_uploads_and_offers_the_other_formats(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 1:1 DJ Test", user_id=USER)
        status = await h.telegram.wait_for("sendMessage")
        assert "Rendering the video myself" in status[0].params["text"]
        assert buttons(status[0]) == ["✖ Cancel"]
        call = await rendered_video(h)
        job = await h.wait_state(JobState.DELIVERED)

        assert (job.kind, job.video_format, job.author) == ("render", "1:1", "DJ Test")
        assert job.file_id is not None
        upload = call.files["video"]
        assert (call.params["width"], call.params["height"]) == (720, 720)
        assert call.params["duration"] == 3
        assert call.params["supports_streaming"] is True
        assert {"thumbnail", "cover"} <= set(call.files)
        assert "Rendered by this bot (1:1)" in call.params["caption"]
        assert "DJ Test — Song A" in call.params["caption"]
        assert await analysed_tracks(h) == [(job.provider, TASK_ID, AUDIO_ID)]
        assert (
            call.params["reply_parameters"]["message_id"]
            == status[0].params["reply_parameters"]["message_id"]
        )
        assert buttons(call) == ["9:16", "16:9", "✂️ Teaser", "🎤 Karaoke", *LOOP_BUTTONS]
        info = await decoded(upload, tmp_path)
        assert info.video is not None
        assert info.audio is not None
        assert (info.video.width, info.video.height, info.video.codec) == (720, 720, "h264")
        assert info.duration == pytest.approx(3.0, abs=0.1)
        assert h.upstream.media_hits == [f"audio-{AUDIO_ID}.wav", f"cover-{AUDIO_ID}.png"]
        await h.wait_until(lambda: "Done" in h.status_text(USER))
        assert work_dirs(h) == []  # the work dir goes once the video is posted


async def test_the_same_track_format_and_look_is_sent_again_by_file_id(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.SUNOAPI) as h:
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        first = await rendered_video(h)
        done = await h.wait_state(JobState.DELIVERED)
        assert done.video_format == "9:16"
        assert (first.params["width"], first.params["height"]) == (720, 1280)
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 9:16", user_id=USER)
        again = await rendered_video(h, 2)
        await h.wait_state(JobState.DELIVERED, job_id=2)
        assert again.params["video"] == done.file_id  # no upload, no second render
        assert again.files == {}
        assert len(h.upstream.media_hits) == 2


async def test_renders_pass_the_same_admission_as_provider_jobs(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, quota_per_hour=2) as h:
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 16:9", user_id=USER)
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 16x9", user_id=USER)
        await h.telegram.wait_for(
            "sendMessage", lambda c: "already making" in c.params["text"], timeout=10
        )
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 1:1", user_id=USER)  # another format
        await h.submit(f"/render {TASK_ID} audio-2 1:1", user_id=USER)  # over the quota
        await h.telegram.wait_for(
            "sendMessage", lambda c: "hourly limit" in c.params["text"], timeout=10
        )
        await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT)
        jobs = [await h.job(1), await h.job(2)]
        assert [j.video_format for j in jobs] == ["16:9", "1:1"]
        assert await h.repo.get(3) is None


async def test_render_with_a_task_id_only_offers_the_picker(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.VIDGO) as h:
        await h.submit(f"/render {TASK_ID} 1:1", user_id=USER)
        [offer] = await h.telegram.wait_for("sendMessage", lambda c: bool(buttons(c)))
        assert "Song B" in " ".join(buttons(offer))
        message = h.telegram.messages(USER)[-1]
        tap = h.telegram.callback_query(callback_data(offer)[1], message=message, user_id=USER)
        h.telegram.push_update(tap)
        call = await rendered_video(h)
        job = await h.wait_state(JobState.DELIVERED)
        assert (job.audio_id, job.video_format, job.title) == ("audio-2", "1:1", "Song B")
        assert (call.params["width"], call.params["height"]) == (720, 720)


@pytest.mark.parametrize("failure", ["provider_failed", "credits"])
async def test_fallback_renders_when_the_provider_fails(tmp_path: Path, failure: str) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    if failure == "credits":
        upstream.fail_next("create", 402, "insufficient credits")
    async with running_bot(tmp_path, fakes=(telegram, upstream), render_fallback=True) as h:
        await h.submit(user_id=USER)
        if failure == "provider_failed":
            upstream.fail(await h.video_task_id())
        await h.telegram.wait_for(
            "editMessageText", lambda c: "rendering it myself" in c.params["text"], timeout=10
        )
        call = await rendered_video(h)
        failed, render = await h.job(1), await h.wait_state(JobState.DELIVERED, job_id=2)
        assert (failed.state, failed.error_kind) == (JobState.FAILED, failure)
        assert (render.kind, render.fallback_of, render.video_format) == ("render", 1, "16:9")
        assert render.status_message_id == failed.status_message_id
        assert "couldn't make it, so this bot rendered it locally" in call.params["caption"]
        assert buttons(call) == ["9:16", "1:1", "✂️ Teaser", "🎤 Karaoke", *LOOP_BUTTONS]
        said = [str(c.params.get("text", "")) for c in telegram.calls if "text" in c.params]
        assert not any("❌" in line for line in said)  # never told "failed"
        assert (await decoded(call.files["video"], tmp_path)).video is not None


async def test_without_fallback_a_provider_failure_is_reported(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, render_fallback=False) as h:
        await h.submit(user_id=USER)
        h.upstream.fail(await h.video_task_id())
        await h.wait_state(JobState.FAILED)
        await h.wait_until(lambda: "could not make this video" in h.status_text(USER))
        assert await h.repo.get(2) is None
        assert h.upstream.media_hits == []


async def test_format_buttons_under_the_providers_video_render_that_format(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(user_id=USER)
        h.upstream.complete(await h.video_task_id())
        provider_video = await rendered_video(h)
        # The track's lyrics are not known yet under the provider's video: offered to edit.
        assert buttons(provider_video) == [
            *("9:16", "1:1", "✂️ Teaser", "✏️ Lyrics", "🎤 Karaoke"),
            *LOOP_BUTTONS,
        ]
        await h.wait_state(JobState.DELIVERED)
        video_message = h.telegram.messages(USER)[-1]
        assert "video" in video_message
        data = callback_data(provider_video)[0]
        h.telegram.push_update(h.telegram.callback_query(data, message=video_message))
        answers = await h.telegram.wait_for("answerCallbackQuery")
        assert "9:16" in answers[0].params.get("text", "")
        call = await rendered_video(h, 2)
        job = await h.wait_state(JobState.DELIVERED, job_id=2)
        assert (job.kind, job.video_format, job.task_id) == ("render", "9:16", TASK_ID)
        assert call.params["reply_parameters"]["message_id"] == video_message["message_id"]
        assert buttons(call) == ["1:1", "16:9", "✂️ Teaser", "🎤 Karaoke", *LOOP_BUTTONS]


async def test_cancel_kills_ffmpeg_and_ends_the_job(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    upstream.media_seconds = 40.0  # a render long enough to be cancelled halfway
    renders = str(tmp_path / "renders")
    async with running_bot(tmp_path, fakes=(telegram, upstream)) as h:
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        await telegram.wait_for("editMessageText", lambda c: "%" in c.params["text"], timeout=30)
        status = h.telegram.messages(USER)[-1]
        assert status["reply_markup"]["inline_keyboard"][0][0]["text"] == "✖ Cancel"
        data = status["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await h.wait_until(lambda: bool(processes_with(renders)), timeout=30)
        telegram.push_update(telegram.callback_query(data, message=status, user_id=777))
        denied = await telegram.wait_for("answerCallbackQuery")
        assert "Only the person" in denied[0].params["text"]
        assert (await h.job()).state is JobState.SUBMITTING
        telegram.push_update(telegram.callback_query(data, message=status, user_id=USER))
        await telegram.wait_for("answerCallbackQuery", count=2)
        job = await h.wait_state(JobState.FAILED)
        assert job.error_kind == "cancelled"
        await h.wait_until(lambda: "Cancelled" in h.status_text(USER), timeout=10)
        await h.wait_until(lambda: not processes_with(renders), timeout=10)
        assert telegram.calls_to("sendVideo") == []
        assert work_dirs(h) == []


async def test_a_restart_in_the_middle_of_a_render_renders_and_delivers_once(
    tmp_path: Path,
) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    upstream.media_seconds = 40.0
    renders = str(tmp_path / "renders")
    async with running_bot(tmp_path, fakes=(telegram, upstream)) as h:
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 1:1", user_id=USER)
        await telegram.wait_for("editMessageText", lambda c: "%" in c.params["text"], timeout=30)
        await h.wait_until(lambda: bool(processes_with(renders)), timeout=30)
        assert (await h.job()).state is JobState.SUBMITTING
    assert not processes_with(renders)  # ffmpeg was killed with the bot's stop
    assert telegram.calls_to("sendVideo") == []
    upstream.media_seconds = 3.0
    later = FakeTelegram(token=telegram.token, first_update_id=50_000)
    async with running_bot(tmp_path, fakes=(later, upstream)) as h:
        call = await rendered_video(h)
        job = await h.wait_state(JobState.DELIVERED)
        assert job.submit_attempts == 2
        assert (await decoded(call.files["video"], tmp_path)).duration == pytest.approx(3, abs=0.1)
        await h.settle()
        assert len(later.calls_to("sendVideo")) == 1
    assert telegram.calls_to("sendVideo") == []


@pytest.fixture(scope="module")
def tagged_mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 3 s MP3 with title/artist tags and an embedded red cover."""
    folder = tmp_path_factory.mktemp("upload")
    make_media(
        *("-f", "lavfi", "-i", "color=c=0xE61414:s=300x300", "-frames:v", "1"),
        str(folder / "cover.png"),
    )
    make_media(
        *("-f", "lavfi", "-i", "sine=f=330:d=3:sample_rate=44100", "-i", str(folder / "cover.png")),
        *("-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-c:v", "mjpeg"),
        *("-disposition:v", "attached_pic", "-id3v2_version", "3"),
        *("-metadata", "title=Uploaded Tune", "-metadata", "artist=Tag Artist"),
        str(folder / "tagged.mp3"),
    )
    return (folder / "tagged.mp3").read_bytes()


async def test_an_audio_file_sent_privately_is_rendered_with_its_cover_and_tags(
    tmp_path: Path, tagged_mp3: bytes
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        media = h.telegram.user_file(
            "audio", tagged_mp3, file_name="my_song.mp3", mime_type="audio/mpeg"
        )
        update = h.telegram.audio_message(media, caption="16:9", user_id=USER)
        h.telegram.push_update(update)
        call = await rendered_video(h)
        job = await h.wait_state(JobState.DELIVERED)
        assert (job.task_id, job.audio_id, job.video_format) == (
            "upload",
            media["file_unique_id"],
            "16:9",
        )
        assert h.telegram.calls_to("getFile")
        assert h.telegram.file_downloads == ["music/file_1"]
        assert await analysed_tracks(h) == [("upload", "", media["file_unique_id"])]
        assert call.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
        assert "Uploaded Tune" in call.params["caption"]
        path = tmp_path / "upload.mp4"
        path.write_bytes(call.files["video"].content)
        frame = await decode_frame(Ffmpeg(FFMPEG), path, 1.5, 1280, 720)
        red = [frame.pixel(x, 360) for x in range(400, 880, 8)]
        assert any(r > 180 and g < 80 and b < 80 for r, g, b in red)  # the embedded cover


async def test_render_replying_to_an_audio_document_in_a_group(
    tmp_path: Path, tagged_mp3: bytes
) -> None:
    group = -100777
    async with running_bot(tmp_path, Provider.KIE) as h:
        media = h.telegram.user_file(
            "document", tagged_mp3, file_name="doc.mp3", mime_type="audio/mpeg"
        )
        audio = h.telegram.audio_message(media, kind="document", chat_id=group, user_id=USER)
        h.telegram.push_update(audio)  # in a group, a bare file is not rendered
        command = h.telegram.reply_message("/render 1:1", to=audio["message"], user_id=USER)
        h.telegram.push_update(command)
        call = await rendered_video(h)
        await h.wait_state(JobState.DELIVERED)
        assert call.params["chat_id"] == group
        assert call.params["reply_parameters"]["message_id"] == audio["message"]["message_id"]
        assert (call.params["width"], call.params["height"]) == (720, 720)
        assert len(h.telegram.calls_to("sendVideo")) == 1


async def test_a_file_over_the_download_limit_is_refused_naming_it(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        media = h.telegram.user_file(
            "voice", b"OggS", file_name="", mime_type="audio/ogg", size=25 * 1024 * 1024
        )
        h.telegram.push_update(h.telegram.audio_message(media, kind="voice", user_id=USER))
        [refusal] = await h.telegram.wait_for("sendMessage")
        assert "20 MB" in refusal.params["text"]
        assert "25.0 MB" in refusal.params["text"]
        assert await h.repo.get(1) is None
        assert h.telegram.calls_to("getFile") == []


async def test_a_waiting_render_shows_its_place_in_line(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    upstream.media_seconds = 40.0  # the first render holds the only slot (RENDER_CONCURRENCY=1)
    (tmp_path / "renders" / "job99").mkdir(parents=True)  # a kill's leftover
    async with running_bot(tmp_path, fakes=(telegram, upstream), render_concurrency=1) as h:
        assert work_dirs(h) == []
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        await telegram.wait_for("editMessageText", lambda c: "%" in c.params["text"], timeout=30)
        await h.submit(f"/render {TASK_ID} audio-2", user_id=USER)
        [queued] = await telegram.wait_for(
            "editMessageText", lambda c: "1 ahead of yours" in c.params["text"], timeout=30
        )
        assert queued.params["message_id"] == (await h.job(2)).status_message_id
        assert buttons(queued) == ["✖ Cancel"]
