"""The sing-along render (issue 19, docs/architecture.md §9.7) through the fake Bot API and the
fake provider, with real ffmpeg renders: one vocal separation per track however many karaoke
renders ask, the output's audio is the instrumental (decoded and compared, never the original
vocals), vidgo refused at once, and the failure paths told to the chat.

The fake's track audio is a 440 Hz tone and its instrumental a 660 Hz one: the dominant
frequency of the decoded output tells which one a video carries.
"""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain import JobState, Provider
from bot.engine.render_plan import plan_from_json
from bot.rendering.pcm import decode_pcm
from bot.rendering.runner import Ffmpeg
from storage.jobs import JobRepository
from tests.e2e.harness import AUDIO_ID, PUBLIC_BASE_URL, TASK_ID, Harness, running_bot
from tests.e2e.test_lyrics_jobs import SONG, answer_to, uploaded
from tests.e2e.test_render_jobs import RENDER_TIMEOUT, buttons, callback_data
from tests.e2e.workers import scaled_out
from tests.fakes.telegram import Call
from tests.fakes.upstream import TrackLyrics
from tests.rendering.conftest import FFMPEG

USER, OTHER, THIRD = 4242, 4343, 4444
ADMIN = 999  # tests/e2e/harness.py
TRACK = (TASK_ID, AUDIO_ID)
ORIGINAL_HZ, INSTRUMENTAL_HZ = 440.0, 660.0
RATE = 8000
HOUR = timedelta(hours=1)


def power_at(samples: list[float], frequency: float) -> float:
    """The Goertzel power of `frequency` in `samples` (at RATE Hz)."""
    coefficient = 2 * math.cos(2 * math.pi * frequency / RATE)
    before = earlier = 0.0
    for sample in samples:
        before, earlier = sample + coefficient * before - earlier, before
    return before * before + earlier * earlier - coefficient * before * earlier


async def audio_of(call: Call, tmp_path: Path, name: str) -> list[float]:
    """The uploaded video's audio, decoded to mono float PCM (its middle second)."""
    path = await uploaded(call, tmp_path, name)
    raw = await decode_pcm(Ffmpeg(FFMPEG), path, rate=RATE)
    samples = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return samples[RATE // 2 : RATE // 2 + RATE]


async def used_quota(repo: JobRepository, user_id: int) -> int:
    return await repo.count_created_by_user_since(user_id, datetime.now(UTC) - HOUR)


async def karaoke(h: Harness, user_id: int, video_format: str = "") -> None:
    await h.submit(f"/karaoke {TASK_ID} {AUDIO_ID} {video_format}".strip(), user_id=user_id)


async def test_three_karaoke_renders_share_one_separation_over_the_instrumental(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.set_lyrics(*TRACK, SONG)
        # Pending more times than a render has attempts: waiting must not use them up.
        h.upstream.separation_pending_polls = 4
        await karaoke(h, USER)
        await karaoke(h, OTHER)  # at the same time, in another chat
        await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT)
        await h.wait_state(JobState.DELIVERED, job_id=1)
        await h.wait_state(JobState.DELIVERED, job_id=2)
        await karaoke(h, THIRD, "16:9")  # later, another format: the stored instrumental
        calls = await h.telegram.wait_for("sendVideo", count=3, timeout=RENDER_TIMEOUT)
        job = await h.wait_state(JobState.DELIVERED, job_id=3)

        assert h.upstream.separation_calls[TRACK] == 1
        [separation] = h.upstream.separations.values()
        assert separation.callback_url == f"{PUBLIC_BASE_URL}/callbacks/separations"
        assert h.upstream.lyrics_calls[TRACK] == 1
        assert job.karaoke
        plan = plan_from_json(job.render_plan or "")
        assert (plan.count_in, plan.burn_lyrics) == (True, True)
        assert plan.audio_url is not None
        assert plan.audio_url.endswith(f"/media/instrumental-{AUDIO_ID}.wav")
        assert plan.lyrics is not None
        assert plan.lyrics.words
        for call in calls:
            assert "karaoke, no vocals" in call.params["caption"]
            assert "🎤 Karaoke" not in buttons(call)

        samples = await audio_of(calls[2], tmp_path, "karaoke")
        instrumental, original = power_at(samples, INSTRUMENTAL_HZ), power_at(samples, ORIGINAL_HZ)
        assert instrumental > 100 * original, (instrumental, original)
        # One separation was sent, on the behalf of whoever's render sent it: it counts in
        # that sender's quota on top of the three jobs.
        used = [await used_quota(h.repo, user) for user in (USER, OTHER, THIRD)]
        assert sum(used) == 4
        assert used[2] == 1


async def test_the_karaoke_button_and_a_normal_render_are_different_videos(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.set_lyrics(*TRACK, SONG)
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 9:16", user_id=USER)
        [normal] = await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT)
        await h.wait_state(JobState.DELIVERED)
        samples = await audio_of(normal, tmp_path, "normal")
        assert power_at(samples, ORIGINAL_HZ) > 100 * power_at(samples, INSTRUMENTAL_HZ)

        at = buttons(normal).index("🎤 Karaoke")
        message = h.telegram.messages(USER)[-1]
        h.telegram.push_update(
            h.telegram.callback_query(callback_data(normal)[at], message=message, user_id=USER)
        )
        calls = await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT)
        job = await h.wait_state(JobState.DELIVERED, job_id=2)
        assert (job.karaoke, job.video_format) == (True, "9:16")
        assert "video" in calls[1].files  # rendered and uploaded, not the normal one re-sent
        samples = await audio_of(calls[1], tmp_path, "tapped")
        assert power_at(samples, INSTRUMENTAL_HZ) > 100 * power_at(samples, ORIGINAL_HZ)

        # Under the karaoke video: no Teaser (it would have the vocals), and another shape is
        # the karaoke version in that shape.
        assert "✂️ Teaser" not in buttons(calls[1])
        at = buttons(calls[1]).index("1:1")
        message = [m for m in h.telegram.messages(USER) if "video" in m][-1]
        h.telegram.push_update(
            h.telegram.callback_query(callback_data(calls[1])[at], message=message, user_id=USER)
        )
        await h.telegram.wait_for("sendVideo", count=3, timeout=RENDER_TIMEOUT)
        square = await h.wait_state(JobState.DELIVERED, job_id=3)
        assert (square.karaoke, square.video_format) == (True, "1:1")


async def test_vidgo_has_no_karaoke_and_spends_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.VIDGO) as h:
        said = await answer_to(h, f"/karaoke {TASK_ID} {AUDIO_ID}")
        assert "no vocal separation" in said
        assert "Nothing was spent" in said
        assert h.upstream.requests == []
        assert await h.repo.get(1) is None
        assert await used_quota(h.repo, USER) == 0


async def test_a_failed_separation_is_told_and_never_ships_the_original(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.set_lyrics(*TRACK, SONG)
        h.upstream.separation_outcome = "failed"
        await karaoke(h, USER)
        job = await h.wait_state(JobState.FAILED, timeout=RENDER_TIMEOUT)
        assert job.error_kind == "karaoke_failed"
        await h.wait_until(lambda: "could not remove the vocals" in h.status_text(USER))
        assert "Audio separation failed" in h.status_text(USER)
        assert h.telegram.calls_to("sendVideo") == []
        assert f"audio-{AUDIO_ID}.wav" not in h.upstream.media_hits  # the vocals never fetched
        assert h.upstream.separation_calls[TRACK] == 1
        assert await used_quota(h.repo, USER) == 2  # the job and the separation sent


async def test_out_of_credits_is_told_and_counted(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.set_lyrics(*TRACK, SONG)
        h.upstream.fail_next("separate", 402, "Insufficient Credits")
        await karaoke(h, USER, "1:1")
        job = await h.wait_state(JobState.FAILED, timeout=RENDER_TIMEOUT)
        assert job.error_kind == "karaoke_credits"
        await h.wait_until(lambda: "out of credits" in h.status_text(USER))
        assert h.telegram.calls_to("sendVideo") == []
        assert await used_quota(h.repo, USER) == 2
        [alert] = h.telegram.messages(ADMIN)  # the owner is told, as for videos
        assert "Insufficient Credits" in alert["text"]


async def test_an_instrumental_track_is_refused_before_any_separation(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.SUNOAPI) as h:
        h.upstream.set_lyrics(*TRACK, TrackLyrics())  # no words
        await karaoke(h, USER)
        job = await h.wait_state(JobState.FAILED, timeout=RENDER_TIMEOUT)
        assert job.error_kind == "karaoke_no_lyrics"
        await h.wait_until(lambda: "nothing to sing along to" in h.status_text(USER))
        assert h.upstream.separation_calls[TRACK] == 0
        assert h.upstream.separations == {}


async def test_with_postgres_the_leader_waits_for_the_separation_then_dispatches(
    tmp_path: Path,
) -> None:
    """With the render engine (docs/architecture.md §8.8) the leader prepares the render: a
    pending separation is looked at again without queueing the render or spending attempts."""
    async with scaled_out(tmp_path, workers=0, render_concurrency=1) as (h, _):
        h.upstream.set_lyrics(*TRACK, SONG)
        h.upstream.separation_pending_polls = 4
        await karaoke(h, USER)
        [call] = await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT)
        job = await h.wait_state(JobState.DELIVERED, timeout=10)
        assert job.karaoke
        assert job.render_fence == 1  # queued once, when the plan was ready
        assert h.upstream.separation_calls[TRACK] == 1
        samples = await audio_of(call, tmp_path, "engine")
        assert power_at(samples, INSTRUMENTAL_HZ) > 100 * power_at(samples, ORIGINAL_HZ)


async def test_a_separation_callback_is_acknowledged_and_changes_nothing(tmp_path: Path) -> None:
    """The details are authoritative (docs/providers.md §5.2): the callback is only a hint."""
    body = (
        Path(__file__).parents[1] / "samples/sunoapi/separation_callback_success.json"
    ).read_bytes()
    async with running_bot(tmp_path, Provider.SUNOAPI) as h:
        answer = await h.web.post("/callbacks/separations", content=body)
        assert answer.status_code == 200
        assert await h.repo.get(1) is None
        assert h.upstream.requests == []
