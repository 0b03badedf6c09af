"""Karaoke lyrics and the chorus teaser wired into the bot (issue 11), through the fake Bot API
and the fake upstream with real ffmpeg renders of its generated tone.

The fake's lyrics for the track are timed on the generated audio's own timeline, so a decoded
frame of the uploaded video is checked for lyric pixels while a word is sung and for none in
the instrumental gap between lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.domain import JobState, Provider
from bot.lyrics.ass import layout_for
from bot.rendering import TEASER_MAX_BYTES
from bot.rendering.probe import Frame, decode_frame, probe
from bot.rendering.runner import Ffmpeg
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, running_bot
from tests.e2e.test_render_jobs import LOOP_BUTTONS, RENDER_TIMEOUT, buttons, callback_data
from tests.fakes.telegram import Call
from tests.fakes.upstream import TrackLyrics
from tests.rendering.conftest import FFMPEG

USER = 4242
GROUP = -1001234
TRACK = (TASK_ID, AUDIO_ID)
# 4 s of tone: a line sung 0.2-1.0 s (shown 0-1.6 s), a gap, the next line from 3.5 s (shown
# from 2.5 s).
SONG = TrackLyrics([("[Verse]\nSing", 0.2, 0.6), ("loud", 0.6, 1.0), ("\nagain", 3.5, 3.8)])
SUNG_AT, GAP_AT = 0.8, 2.05
_PORTRAIT = layout_for(720, 1280)
# Both karaoke lines of the 9:16 layout, over the cover (docs/architecture.md §8.7).
LYRIC_ROWS = range(
    _PORTRAIT.ink_box(_PORTRAIT.current_y, 0)[1], _PORTRAIT.ink_box(_PORTRAIT.next_y, 0)[3]
)


LYRICS_SHOWN = 200  # lyric pixels of a short line ("Hey now", 48 px) even while fading in


def lyric_pixels(frame: Frame) -> int:
    """Text-white or sung-gold pixels where the 9:16 karaoke lines sit (the cover is blue)."""
    count = 0
    for y in LYRIC_ROWS:
        for x in range(0, frame.width, 2):
            r, g, b = frame.pixel(x, y)
            count += min(r, g, b) > 200 or (r > 180 and 140 < g < 240 and b < 110)
    return count


async def uploaded(call: Call, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.mp4"
    path.write_bytes(call.files["video"].content)
    return path


async def frame_at(path: Path, seconds: float) -> Frame:
    return await decode_frame(Ffmpeg(FFMPEG), path, seconds, 720, 1280)


async def answer_to(h: Harness, command: str, **kwargs: Any) -> str:
    sent = len(h.telegram.calls_to("sendMessage"))
    h.telegram.push_update(h.telegram.private_message(command, user_id=USER, **kwargs))
    calls = await h.telegram.wait_for("sendMessage", count=sent + 1)
    return str(calls[sent].params["text"])


async def test_lyrics_are_fetched_once_and_sung_words_are_burned_in(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.media_seconds = 4.0
        h.upstream.set_lyrics(*TRACK, SONG)
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 9:16", user_id=USER)
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 16:9", user_id=USER)  # at the same time
        calls = await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT)
        await h.wait_state(JobState.DELIVERED, job_id=2)
        assert h.upstream.lyrics_calls[TRACK] == 1  # one request for two renders

        [vertical] = [c for c in calls if c.params["height"] == 1280]
        path = await uploaded(vertical, tmp_path, "karaoke")
        assert lyric_pixels(await frame_at(path, SUNG_AT)) > LYRICS_SHOWN
        assert lyric_pixels(await frame_at(path, GAP_AT)) == 0
        assert buttons(vertical) == [
            *("1:1", "16:9", "✂️ Teaser", "✏️ Lyrics", "🎤 Karaoke"),
            *LOOP_BUTTONS,
        ]


async def test_nolyrics_and_lyrics_off_render_without_lyrics(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.SUNOAPI) as h:
        h.upstream.media_seconds = 4.0
        h.upstream.set_lyrics(*TRACK, SONG)
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 9:16 nolyrics DJ", user_id=USER)
        first = (await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT))[0]
        job = await h.wait_state(JobState.DELIVERED)
        assert (job.lyrics, job.author) == (False, "DJ")
        path = await uploaded(first, tmp_path, "nolyrics")
        assert lyric_pixels(await frame_at(path, SUNG_AT)) == 0
        assert h.upstream.lyrics_calls[TRACK] == 0  # not even asked for

        assert "Karaoke lyrics are on" in await answer_to(h, "/lyrics")
        assert "no longer show" in await answer_to(h, "/lyrics off")
        assert "are off" in await answer_to(h, "/lyrics")
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 9:16 DJ", user_id=USER)
        again = (await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT))[1]
        assert (await h.wait_state(JobState.DELIVERED, job_id=2)).lyrics is False
        assert again.params["video"] == job.file_id  # the same look: sent again, not rendered

        assert "now show the lyrics" in await answer_to(h, "/lyrics on")
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 9:16 DJ", user_id=USER)
        third = (await h.telegram.wait_for("sendVideo", count=3, timeout=RENDER_TIMEOUT))[2]
        assert (await h.wait_state(JobState.DELIVERED, job_id=3)).lyrics is True
        assert "video" in third.files  # lyrics on is another look: rendered anew
        path = await uploaded(third, tmp_path, "lyrics-on")
        assert lyric_pixels(await frame_at(path, SUNG_AT)) > LYRICS_SHOWN
        assert h.upstream.lyrics_calls[TRACK] == 1


async def test_lyrics_switch_is_for_group_admins_only(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.set_admins(GROUP, [1])
        update = h.telegram.group_message("/lyrics off", chat_id=GROUP, user_id=USER)
        sent = len(h.telegram.calls_to("sendMessage"))
        h.telegram.push_update(update)
        calls = await h.telegram.wait_for("sendMessage", count=sent + 1)
        assert "admin" in calls[sent].params["text"]
        assert "are on" in await answer_to(h, "/lyrics")  # a private chat keeps its own


# A 22 s track: a verse, the chorus from 4.5 s, the next verse at 19.5 s. The teaser runs from
# 4.0 s (0.5 s lead-in) to the next section: 15.5 s.
LONG_SONG = TrackLyrics(
    [
        ("[Verse]\nFirst", 1.0, 1.5),
        ("line", 1.5, 2.0),
        ("[Chorus]\nHey", 4.5, 5.0),
        ("now", 5.0, 5.5),
        ("\nsing", 9.0, 9.5),
        ("[Verse 2]\nLater", 19.5, 20.0),
    ]
)


async def test_teaser_button_makes_a_vertical_chorus_clip_and_start_timestamp(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.media_seconds = 22.0
        h.upstream.set_lyrics(*TRACK, LONG_SONG)
        await h.submit(user_id=USER)  # the provider's video first: lyrics not known yet
        h.upstream.complete(await h.video_task_id())
        provider_video = (await h.telegram.wait_for("sendVideo"))[0]
        assert "start_timestamp" not in provider_video.params
        teaser_at = buttons(provider_video).index("✂️ Teaser")
        await h.wait_state(JobState.DELIVERED)
        video_message = h.telegram.messages(USER)[-1]
        tap = h.telegram.callback_query(
            callback_data(provider_video)[teaser_at], message=video_message
        )
        h.telegram.push_update(tap)
        answers = await h.telegram.wait_for("answerCallbackQuery")
        assert "chorus teaser" in answers[0].params["text"]

        teaser = (await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT))[1]
        job = await h.wait_state(JobState.DELIVERED, job_id=2)
        assert (job.kind, job.teaser, job.video_format) == ("render", True, "9:16")
        assert "chorus teaser" in teaser.params["caption"]
        assert "✂️ Teaser" not in buttons(teaser)
        path = await uploaded(teaser, tmp_path, "teaser")
        info = await probe(Ffmpeg(FFMPEG), path)
        assert info.video is not None
        assert (info.video.width, info.video.height) == (720, 1280)
        assert info.duration == pytest.approx(15.5, abs=0.15)  # chorus to the next section
        assert path.stat().st_size <= TEASER_MAX_BYTES
        # The clip starts at the chorus: "Hey now" (4.5-5.5 s in the track) is sung 0.5-1.5 s
        # in and shown until 2.1 s; "sing" (9.0 s in the track) is sung 5.0 s in, shown from
        # 4.0 s (its pre-roll) to 6.1 s; nothing after it.
        assert lyric_pixels(await frame_at(path, 0.8)) > LYRICS_SHOWN
        assert lyric_pixels(await frame_at(path, 3.0)) == 0
        assert lyric_pixels(await frame_at(path, 5.2)) > LYRICS_SHOWN
        assert lyric_pixels(await frame_at(path, 8.0)) == 0

        # The lyrics are stored now: the provider's video starts at the chorus.
        await h.submit(f"/video {TASK_ID} {AUDIO_ID}", user_id=USER)  # the video exists
        again = (await h.telegram.wait_for("sendVideo", count=3, timeout=10))[2]
        assert again.params["start_timestamp"] == 4
        assert h.upstream.lyrics_calls[TRACK] == 1


async def test_teaser_command_of_a_short_track_uses_it_whole(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.VIDGO) as h:  # vidgo: no lyrics at all
        await h.submit(f"/teaser {TASK_ID} {AUDIO_ID}", user_id=USER)
        call = (await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT))[0]
        job = await h.wait_state(JobState.DELIVERED)
        assert job.teaser
        assert (call.params["width"], call.params["height"], call.params["duration"]) == (
            720,
            1280,
            3,
        )
        info = await probe(Ffmpeg(FFMPEG), await uploaded(call, tmp_path, "short"))
        assert info.duration == pytest.approx(3.0, abs=0.1)
        assert "Usage: /teaser" in await answer_to(h, "/teaser onlyone")


async def test_a_render_made_without_lyrics_after_a_failed_ask_is_not_reused_as_karaoke(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.media_seconds = 4.0
        h.upstream.set_lyrics(*TRACK, SONG)
        h.upstream.fail_next("lyrics", 500, "busy")
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 9:16", user_id=USER)
        await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT)
        first = await h.wait_state(JobState.DELIVERED)
        assert first.lyrics is False  # what was really rendered
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 9:16", user_id=USER)
        again = (await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT))[1]
        assert (await h.wait_state(JobState.DELIVERED, job_id=2)).lyrics is True
        assert "video" in again.files  # rendered anew, now with the lyrics
        path = await uploaded(again, tmp_path, "second")
        assert lyric_pixels(await frame_at(path, SUNG_AT)) > LYRICS_SHOWN
        asked = [r for r in h.upstream.requests if r.path.endswith("get-timestamped-lyrics")]
        assert len(asked) == 2  # the failed ask, then the one that got them


async def test_nolyrics_through_the_track_picker_renders_without_lyrics(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.media_seconds = 4.0
        h.upstream.set_lyrics(*TRACK, SONG)
        await h.submit(f"/render {TASK_ID} 9:16 nolyrics", user_id=USER)
        [offer] = await h.telegram.wait_for("sendMessage", lambda c: bool(buttons(c)))
        message = h.telegram.messages(USER)[-1]
        first = callback_data(offer)[0]  # Song A: the track with the lyrics
        h.telegram.push_update(h.telegram.callback_query(first, message=message, user_id=USER))
        [video] = await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT)
        job = await h.wait_state(JobState.DELIVERED)
        assert (job.audio_id, job.lyrics) == (AUDIO_ID, False)
        path = await uploaded(video, tmp_path, "picked")
        assert lyric_pixels(await frame_at(path, SUNG_AT)) == 0
        assert h.upstream.lyrics_calls[TRACK] == 0  # not even asked for
