"""A render's failure paths (docs/architecture.md §8.2, §8.3): a Cancel before the render
starts, unexpected failures (a full disk, a flood wait on getFile) retried and then told."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from bot.app import BotApp
from bot.domain import JobState, Provider
from bot.engine import render_jobs, render_sources
from bot.engine.render_jobs import RenderJobs
from storage.jobs import Job
from tests.e2e.harness import (
    AUDIO_ID,
    TASK_ID,
    Harness,
    direct_job,
    make_settings,
    new_fakes,
    running_bot,
)
from tests.e2e.test_render_jobs import USER, rendered_video


def renders_of(h: Harness) -> RenderJobs:
    assert h.app.services is not None
    return h.app.services.renders


def _retry_planned(h: Harness, job: Job) -> bool:
    """An attempt was made and a retry is due soon (a running attempt's lease is hours away)."""
    due = job.next_poll_at
    soon = due is not None and due < h.app.clock() + timedelta(minutes=1)
    return job.submit_attempts >= 1 and soon


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render retries after 0.1 s (doubling) instead of 15 s, so a test sees all three."""
    monkeypatch.setattr(render_jobs, "RETRY_SECONDS", 0.1, raising=False)


async def test_a_cancel_between_claim_and_start_stops_the_render(tmp_path: Path) -> None:
    """Cancel lands at every point from just before the claim to the render's start: the
    render never starts and the job ends cancelled."""
    async with running_bot(tmp_path, Provider.KIE) as h:
        renders = renders_of(h)
        await h.settle()
        for steps in range(12):
            job = await h.repo.create(
                direct_job(
                    USER,
                    f"cancel-{steps}",
                    kind="render",
                    video_format="9:16",
                    audio_id=AUDIO_ID,
                    # Due, but the renderer loop sleeps (nothing woke it): this test takes
                    # the step itself.
                    next_poll_at=h.app.clock(),
                )
            )
            step = asyncio.create_task(renders.process(job))
            for _ in range(steps):
                await asyncio.sleep(0)
            assert await renders.cancel(job.id)
            await step
            done = await h.repo.get(job.id)
            assert done is not None
            assert (done.state, done.error_kind) == (JobState.FAILED, "cancelled"), steps
        await h.settle()
        assert h.upstream.media_hits == []  # no render fetched its audio
        assert h.telegram.calls_to("sendVideo") == []
        assert not (tmp_path / "renders").exists() or list((tmp_path / "renders").iterdir()) == []


async def test_a_full_disk_is_retried_and_then_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render_jobs, "RETRY_SECONDS", 2.0, raising=False)
    (tmp_path / "renders").write_bytes(b"")  # where the work dirs go: mkdir fails (OSError)
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        async with asyncio.timeout(10):  # the first attempt failed and a retry is planned
            while (job := await h.repo.get(1)) is None or not _retry_planned(h, job):
                await asyncio.sleep(0.01)
        (tmp_path / "renders").unlink()  # the disk has room again
        await rendered_video(h)
        job = await h.wait_state(JobState.DELIVERED)
        assert job.submit_attempts >= 2


async def test_a_render_failing_unexpectedly_every_time_ends_with_a_notice(
    tmp_path: Path, quick_retries: None
) -> None:
    (tmp_path / "renders").write_bytes(b"")  # every attempt's work dir fails (OSError)
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        job = await h.wait_state(JobState.FAILED, timeout=15)
        assert (job.error_kind, job.submit_attempts) == ("render_failed", 3)
        await h.wait_until(lambda: "could not render this video" in h.status_text(USER))
        assert h.telegram.calls_to("sendVideo") == []


async def test_a_flood_wait_on_get_file_is_retried(tmp_path: Path, quick_retries: None) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    async with running_bot(tmp_path, fakes=(telegram, upstream)) as h:
        media = telegram.user_file("voice", b"OggS-not-audio", file_name="", mime_type="audio/ogg")
        # More 429s than python-telegram-bot's rate limiter retries by itself (3).
        telegram.fail_next(
            "getFile",
            error_code=429,
            description="Too Many Requests: retry after 1",
            retry_after=1,
            times=4,
        )
        telegram.push_update(telegram.audio_message(media, kind="voice", user_id=USER))
        job = await h.wait_state(JobState.FAILED, timeout=30)
        # The second attempt got the file (not an audio file): a failure of the source, told.
        assert (job.error_kind, job.submit_attempts) == ("source_unavailable", 2)
        assert len(telegram.calls_to("getFile")) == 5
        await h.wait_until(lambda: "could not get the track's audio" in h.status_text(USER))


GROUP = -100_4242


@pytest.mark.parametrize(
    ("code", "description", "said"),
    [
        (400, "Bad Request: not enough rights to send videos to the chat", "may not send videos"),
        (413, "Request Entity Too Large", "the file is too big"),
    ],
)
async def test_a_render_telegram_refuses_for_good_is_told_once_and_ended(
    tmp_path: Path, code: int, description: str, said: str
) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.fail_next("sendVideo", error_code=code, description=description, times=None)
    async with running_bot(tmp_path, fakes=(telegram, upstream)) as h:
        telegram.push_update(
            telegram.group_message(f"/render {TASK_ID} {AUDIO_ID}", chat_id=GROUP, user_id=USER)
        )
        [told] = await telegram.wait_for(
            "sendMessage", lambda c: said in str(c.params.get("text")), timeout=60
        )
        assert "Song A" in told.params["text"]
        job = await h.wait_state(JobState.UNDELIVERABLE)
        assert job.error is not None
        assert description.removeprefix("Bad Request: ").lower() in job.error.lower()
        await h.settle()
        assert len(telegram.calls_to("sendVideo")) == 1  # never uploaded again
        assert [c for c in telegram.calls_to("sendMessage") if said in c.params["text"]] == [told]
        assert list((tmp_path / "renders").iterdir()) == []  # its files are gone
        await h.wait_until(lambda: "could not post the video" in h.status_text(GROUP))


async def test_a_reused_file_id_telegram_refuses_is_rendered_again(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        await rendered_video(h)
        first = await h.wait_state(JobState.DELIVERED)
        refused = first.file_id
        assert refused is not None
        h.telegram.fail_next(
            "sendVideo",
            error_code=400,
            description="Bad Request: wrong file identifier/HTTP URL specified",
            when=lambda params: params.get("video") == refused,
            times=None,
        )
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)  # the same look: reused
        again = await rendered_video(h, 3)  # the refused file_id, then a new upload
        second = await h.wait_state(JobState.DELIVERED, job_id=2, timeout=60)
        assert "video" in again.files
        assert second.file_id not in (None, refused)
        tried = [c.params.get("video") for c in h.telegram.calls_to("sendVideo")]
        assert tried.count(refused) == 1
        assert len(h.upstream.media_hits) == 4  # audio and cover, twice: rendered again


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_failed_fallback_after_a_credits_refusal_says_the_root_cause(
    tmp_path: Path, language: str
) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    upstream.fail_next("create", 402, "insufficient credits")
    async with running_bot(tmp_path, fakes=(telegram, upstream), render_fallback=True) as h:
        # A task the music service does not know: the fallback render finds no record.
        update = telegram.private_message("/video lost-task audio-9", user_id=USER)
        update["message"]["from"]["language_code"] = language
        telegram.push_update(update)
        render = await h.wait_state(JobState.FAILED, job_id=2, timeout=30)
        assert (render.fallback_of, render.error_kind) == (1, "source_unavailable")
        assert (await h.job(1)).error_kind == "credits"
        out_of_credits, no_audio = {
            "en": ("out of credits", "could not get the track's audio"),
            "ru": ("закончились кредиты", "Не удалось получить аудио трека"),
        }[language]
        await h.wait_until(lambda: no_audio in h.status_text(USER), timeout=10)
        status = h.status_text(USER)
        assert out_of_credits in status
        assert status.index(out_of_credits) < status.index(no_audio)
        assert "not found" in status  # the render's own cause is still said
        # The admins' alert is as before.
        alerts = [c for c in telegram.calls_to("sendMessage") if c.params["chat_id"] == 999]
        assert len(alerts) == 1
        assert "insufficient credits" in alerts[0].params["text"]


async def test_a_source_download_that_never_ends_runs_into_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    """A CDN that trickles the audio forever: each attempt stops at the download's deadline
    (sized from the byte limit; 1 s here), and after three the chat is told."""
    monkeypatch.setattr(render_sources, "DOWNLOAD_MIN_SECONDS", 1.0, raising=False)
    monkeypatch.setattr(render_sources, "DOWNLOAD_SECONDS_PER_MB", 0.0, raising=False)
    telegram, upstream = new_fakes(Provider.KIE)
    trickles: list[str] = []

    async def trickling_cdn(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/media/audio-"):
            await upstream.app(scope, receive, send)
            return
        trickles.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:  # one byte a tenth of a second, never the end
            await send({"type": "http.response.body", "body": b"R", "more_body": True})
            await asyncio.sleep(0.1)

    settings = make_settings(tmp_path, Provider.KIE)
    app = BotApp(
        settings,
        telegram_transport=httpx.ASGITransport(app=telegram.app),
        upstream_transport=httpx.ASGITransport(app=upstream.app),
        cdn_transport=httpx.ASGITransport(app=trickling_cdn),
    )
    async with app:
        assert app.web is not None
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app.web)) as web:
            h = Harness(app=app, telegram=telegram, upstream=upstream, web=web, settings=settings)
            await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
            job = await h.wait_state(JobState.FAILED, timeout=30)
            assert (job.error_kind, job.submit_attempts) == ("source_unavailable", 3)
            assert len(trickles) == 3
            await h.wait_until(lambda: "could not get the track's audio" in h.status_text(USER))
