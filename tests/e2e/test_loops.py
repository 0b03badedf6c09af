"""Canvas loops and live photos wired into the bot (issue 20 items 1-2, docs/architecture.md
§10.3): `/loop`, the 🔁 Loop and ✨ Live buttons, re-sends by file_id, the live photo's refusal
falling back to the chorus teaser — through the fake Bot API and the fake upstream, with real
ffmpeg renders of a generated 120 BPM track (tests/music/tracks.py) whose beats the bot trusts.
Every uploaded file is decoded back with the wheel's ffmpeg.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import JobState, Provider
from bot.engine.job_model import ErrorKind
from bot.rendering.probe import probe
from bot.rendering.runner import Ffmpeg
from storage.jobs import VARIANT_LIVE, VARIANT_LOOP
from tests.e2e.distribution import ask, deliver
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, new_fakes, running_bot
from tests.e2e.test_autopost import CHANNEL, link
from tests.e2e.test_history import buttons, command, deliver_first_job, sent_message, tap
from tests.e2e.test_render_jobs import LOOP_BUTTONS, RENDER_TIMEOUT
from tests.fakes.telegram import UploadedFile, mp4_duration
from tests.fakes.upstream import TrackLyrics
from tests.music.tracks import beat_track
from tests.rendering.conftest import FFMPEG
from tests.rendering.test_loop import SEAM_MAX, seam

USER = 4242
BEAT = 0.5  # 120 BPM
FRAME = 1 / 25


def with_beats(h: Harness, tmp_path: Path) -> None:
    """The fake CDN serves a 10 s 120 BPM track (the loop's window: the whole of it)."""
    h.upstream.media_audio = beat_track(120.0, 10.0).write(tmp_path / "beats.wav").read_bytes()


def saved(upload: UploadedFile, path: Path) -> Path:
    path.write_bytes(upload.content)
    return path


def video_message(h: Harness) -> dict[str, object]:
    """The provider's video as the chat shows it (the message its buttons are under)."""
    [video] = [m for m in h.telegram.messages(USER) if "video" in m]
    return video


def data_of(message: dict[str, object], label: str) -> str:
    return next(data for text, data in buttons(message) if text == label)  # type: ignore[arg-type]


async def test_loop_command_sends_a_silent_seamless_canvas_once_then_by_file_id(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        with_beats(h, tmp_path)
        await h.submit(f"/loop {TASK_ID} {AUDIO_ID}", user_id=USER)
        await h.submit(f"/loop {TASK_ID} {AUDIO_ID}", user_id=USER)  # the same, in flight
        await h.telegram.wait_for("sendMessage", lambda c: "already making" in c.params["text"])
        [call] = await h.telegram.wait_for("sendDocument", timeout=RENDER_TIMEOUT)
        job = await h.wait_state(JobState.DELIVERED)
        assert (job.kind, job.variant, job.video_format) == ("render", VARIANT_LOOP, "9:16")
        assert (job.author, job.domain_name, job.lyrics, job.look) == (None, None, False, None)
        assert job.file_id == h.telegram.messages(USER)[-1]["document"]["file_id"]  # type: ignore[index]
        assert "Spotify Canvas" in call.params["caption"]
        assert "Song A" in call.params["caption"]
        assert call.params["disable_content_type_detection"] is True  # kept byte for byte
        assert {"document", "thumbnail"} <= set(call.files)
        assert "reply_markup" not in call.params
        await h.settle()
        assert h.status_text(USER) == "✅ Done! Your loop is posted."  # not "your video"

        upload = call.files["document"]
        assert upload.size <= 25_000_000
        path = saved(upload, tmp_path / "loop.mp4")
        info = await probe(Ffmpeg(FFMPEG), path)
        assert info.audio is None  # silent: no audio stream at all
        assert info.video is not None
        assert (info.video.width, info.video.height, info.video.codec) == (720, 1280, "h264")
        assert info.duration is not None
        assert 3.0 <= info.duration <= 8.0
        beats = round(info.duration / BEAT)
        assert abs(info.duration - beats * BEAT) <= FRAME + 1e-6  # whole beats within a frame
        assert await seam(path) <= SEAM_MAX

        media_hits = len(h.upstream.media_hits)
        assert "Usage: /loop" in (await command(h, "/loop")).params["text"]
        await h.submit(f"/loop {TASK_ID} {AUDIO_ID}", user_id=USER)
        again = (await h.telegram.wait_for("sendDocument", count=2, timeout=RENDER_TIMEOUT))[1]
        await h.wait_state(JobState.DELIVERED, job_id=2)
        assert again.params["document"] == job.file_id  # no upload, no second render
        assert again.files == {}
        assert len(h.upstream.media_hits) == media_hits


async def test_the_buttons_make_a_loop_and_a_live_photo_re_sent_by_file_id(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        with_beats(h, tmp_path)
        await deliver_first_job(h)  # the provider's video
        video = video_message(h)
        assert [text for text, _ in buttons(video)][-2:] == LOOP_BUTTONS

        await tap(h, data_of(video, "✨ Live"), video)
        [live] = await h.telegram.wait_for("sendLivePhoto", timeout=RENDER_TIMEOUT)
        job = await h.wait_state(JobState.DELIVERED, job_id=2)
        assert job.variant == VARIANT_LIVE
        assert set(live.files) == {"live_photo", "photo"}  # both parts uploaded
        clip = live.files["live_photo"]
        assert clip.size <= 10_000_000
        duration = mp4_duration(clip.content)
        assert duration is not None
        assert 3.0 <= duration <= 10.0
        info = await probe(Ffmpeg(FFMPEG), saved(clip, tmp_path / "live.mp4"))
        assert info.video is not None
        assert (info.video.width, info.video.height) == (720, 1280)
        assert info.audio is not None  # the hook's sound
        assert info.audio.codec == "aac"
        still = await probe(Ffmpeg(FFMPEG), saved(live.files["photo"], tmp_path / "still.jpg"))
        assert still.video is not None
        assert (still.video.width, still.video.height) == (720, 1280)
        sent = h.telegram.messages(USER)[-1]["live_photo"]
        assert (job.file_id, job.still_file_id) == (
            sent["file_id"],  # type: ignore[index]
            sent["photo"][-1]["file_id"],  # type: ignore[index]
        )

        await tap(h, data_of(video, "✨ Live"), video)
        again = (await h.telegram.wait_for("sendLivePhoto", count=2, timeout=RENDER_TIMEOUT))[1]
        await h.wait_state(JobState.DELIVERED, job_id=3)
        assert (again.params["live_photo"], again.params["photo"]) == (
            job.file_id,
            job.still_file_id,
        )
        assert again.files == {}  # re-sent by file_id: no upload, no render
        listing = sent_message(h, await command(h, "/list"))  # and from the history
        await tap(h, "rs:2", listing)
        third = (await h.telegram.wait_for("sendLivePhoto", count=3))[2]
        assert (third.params["live_photo"], third.params["photo"]) == (
            job.file_id,
            job.still_file_id,
        )

        await tap(h, data_of(video, "🔁 Loop"), video)
        [loop] = await h.telegram.wait_for("sendDocument", timeout=RENDER_TIMEOUT)
        assert (await h.wait_state(JobState.DELIVERED, job_id=4)).variant == VARIANT_LOOP
        assert "Spotify Canvas" in loop.params["caption"]


@pytest.mark.parametrize(
    ("code", "description"),
    [(400, "Bad Request: LIVE_PHOTO_INVALID"), (404, "Not Found: method not found")],
)
async def test_a_refused_live_photo_falls_back_to_the_teaser_and_says_why(
    tmp_path: Path, code: int, description: str
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        with_beats(h, tmp_path)
        h.telegram.refuse_live_photos(error_code=code, description=description)
        h.upstream.set_lyrics(
            TASK_ID, AUDIO_ID, TrackLyrics([("Hello", 1.0, 1.5), ("you", 1.5, 2.0)])
        )
        await deliver_first_job(h)
        # The chat has corrected the words: the teaser standing in shows them too.
        assert h.app.services is not None
        await h.app.services.corrections.apply(USER, TASK_ID, AUDIO_ID, "1: Hello world")
        revision = await h.app.services.corrections.revision(USER, TASK_ID, AUDIO_ID)
        assert revision is not None
        video = video_message(h)
        await tap(h, data_of(video, "✨ Live"), video)
        [teaser] = await h.telegram.wait_for(
            "sendVideo", lambda c: "video" in c.files, timeout=RENDER_TIMEOUT
        )
        live = await h.wait_state(JobState.FAILED, job_id=2)
        assert live.error_kind == ErrorKind.LIVE_REFUSED.value
        fallback = await h.wait_state(JobState.DELIVERED, job_id=3)
        assert (fallback.teaser, fallback.fallback_of, fallback.variant) == (True, 2, None)
        assert fallback.lyrics_revision == revision
        assert "chorus teaser" in teaser.params["caption"]
        assert "couldn't make it" not in teaser.params["caption"]  # not the provider's fallback
        [why] = [
            c
            for c in h.telegram.calls_to("sendMessage")
            if "did not take the live photo" in c.params["text"]
        ]
        assert description.split(": ", 1)[1].lower() in why.params["text"].lower()
        assert len(h.telegram.calls_to("sendLivePhoto")) == 1
        assert not any("live_photo" in m for m in h.telegram.messages(USER))


async def test_autopost_live_posts_one_live_photo_per_track_to_the_channel(
    tmp_path: Path,
) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.add_channel(members={USER: "creator"})
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        with_beats(h, tmp_path)
        assert "Linked" in await link(h)
        on = await ask(h, telegram.private_message("/autopost live on", user_id=USER), USER)
        assert "Live photos on" in on
        assert "live photo there" in on
        await deliver(h, 1, user_id=USER)
        [live] = await telegram.wait_for(
            "sendLivePhoto", lambda c: c.params["chat_id"] == CHANNEL, timeout=RENDER_TIMEOUT
        )
        assert set(live.files) == {"live_photo", "photo"}
        job = await h.wait_state(JobState.DELIVERED, job_id=2)
        assert (job.chat_id, job.variant, job.user_id) == (CHANNEL, VARIANT_LIVE, None)
        assert [m for m in telegram.channel_posts(CHANNEL) if "video" in m]  # besides the video
        assert not [m for m in telegram.messages(USER) if "live_photo" in m]  # the channel's only

        # The same track again (its video re-sent by file_id): posted, no second live photo.
        await h.submit(f"/video {TASK_ID} {AUDIO_ID} DJ Ann", user_id=USER)
        await h.wait_state(JobState.DELIVERED, job_id=3)
        await telegram.wait_for("sendVideo", lambda c: c.params["chat_id"] == CHANNEL, count=2)
        await h.settle()
        assert len(telegram.calls_to("sendLivePhoto")) == 1

        # A Bot API that refuses live photos: a new track's is skipped, nothing is said.
        telegram.refuse_live_photos()
        messages = len(telegram.calls_to("sendMessage"))
        await deliver(h, 4, user_id=USER, audio_id="audio-2")
        refused = await h.wait_state(JobState.FAILED, job_id=5, timeout=RENDER_TIMEOUT)
        assert (refused.chat_id, refused.error_kind) == (CHANNEL, ErrorKind.LIVE_REFUSED.value)
        await h.settle()
        told = [c.params for c in telegram.calls_to("sendMessage")[messages:]]
        assert [p for p in told if p["chat_id"] == CHANNEL or "live photo" in p["text"]] == []
        assert len(telegram.calls_to("sendVideo")) == 3 + 3  # 3 to the chat, 3 to the channel
        off = await ask(h, telegram.private_message("/autopost live off", user_id=USER), USER)
        assert "Live photos off" in off
