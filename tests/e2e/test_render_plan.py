"""A render's stored hand-over (docs/architecture.md §8.2): preparation asks the provider once and
writes the RenderPlan on the row; rendering — after a restart too — works from the plan alone."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.domain import JobState, Provider
from bot.engine.render_plan import RenderPlan, plan_from_json
from tests.e2e.harness import AUDIO_ID, TASK_ID, direct_job, new_fakes, running_bot
from tests.e2e.test_render_failures import renders_of
from tests.e2e.test_render_jobs import USER, decoded, rendered_video
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream, TrackLyrics
from tests.rendering.conftest import processes_with

RECORD_PATH = "/api/v1/generate/record-info"  # KIE's music record (the fake's "tracks")
SONG = TrackLyrics([("[Chorus]\nSing", 0.2, 0.6), ("loud", 0.6, 1.0)])


def record_requests(upstream: FakeUpstream) -> int:
    return sum(1 for r in upstream.requests if r.path == RECORD_PATH)


def forget_stored_lyrics(database: Path) -> None:
    """Drop the lyrics cache: a second preparation would have to ask the provider again."""
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM track_lyrics")


async def test_a_plan_survives_a_restart_and_rendering_resumes_without_the_provider(
    tmp_path: Path,
) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    upstream.media_seconds = 40.0
    upstream.set_lyrics(TASK_ID, AUDIO_ID, SONG)
    renders = str(tmp_path / "renders")
    async with running_bot(tmp_path, fakes=(telegram, upstream)) as h:
        await h.submit(f"/render {TASK_ID} {AUDIO_ID} 1:1", user_id=USER)
        await h.wait_until(lambda: bool(processes_with(renders)), timeout=30)
        job = await h.job()
        assert job.state is JobState.SUBMITTING
        assert job.render_plan is not None
        plan = plan_from_json(job.render_plan)
        assert plan.audio_url is not None
        assert (plan.video_format, plan.title, plan.burn_lyrics) == ("1:1", "Song A", True)
        assert plan.lyrics is not None
        assert [w.text for w in plan.lyrics.words] == ["Sing", "loud"]
    assert not processes_with(renders)  # ffmpeg was killed with the bot's stop
    asked = (record_requests(upstream), upstream.lyrics_calls[(TASK_ID, AUDIO_ID)])
    assert asked == (1, 1)

    await asyncio.to_thread(forget_stored_lyrics, h.settings.database_path)
    upstream.media_seconds = 3.0
    upstream.fail_next("tracks", 500, "the record is down", times=100)  # never asked anyway
    later = FakeTelegram(token=telegram.token, first_update_id=50_000)
    async with running_bot(tmp_path, fakes=(later, upstream)) as h:
        call = await rendered_video(h)
        job = await h.wait_state(JobState.DELIVERED)
        assert job.submit_attempts == 2
        assert (await decoded(call.files["video"], tmp_path)).duration == pytest.approx(3, abs=0.1)
    assert (record_requests(upstream), upstream.lyrics_calls[(TASK_ID, AUDIO_ID)]) == asked


async def test_a_render_with_a_stored_plan_is_rendered_from_it(tmp_path: Path) -> None:
    """Rendering takes the sources, title and look from the plan; the record is not asked."""
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.settle()
        job = await h.repo.create(
            direct_job(USER, "planned", kind="render", video_format="16:9", next_poll_at=None)
        )
        # The plan as the bot side would have written it, naming the other track's audio.
        other = f"{h.upstream.public_base_url}/media/audio-audio-2.wav"
        plan = RenderPlan(
            video_format="16:9", title="Planned Title", author=None, domain=None, audio_url=other
        )
        assert await h.repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            render_plan=plan.to_json(),
            next_poll_at=h.app.clock(),
        )
        planned = await h.job(job.id)
        await renders_of(h).process(planned)  # the renderer loop sleeps: the test steps it
        call = await rendered_video(h)
        assert "Planned Title" in call.params["caption"]
        assert (call.params["width"], call.params["height"]) == (1280, 720)
        assert h.upstream.media_hits == ["audio-audio-2.wav"]  # no cover in the plan
        assert record_requests(h.upstream) == 0
