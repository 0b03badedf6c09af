"""/video to a delivered MP4, end to end: real python-telegram-bot against the fakes."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from bot.domain import JobState, Provider
from tests.e2e.harness import AUDIO_ID, PUBLIC_BASE_URL, TASK_ID, new_fakes, running_bot

USER = 4242


async def test_happy_path_with_callback_posts_the_video_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        update = await h.submit(f'/video {TASK_ID} {AUDIO_ID} "DJ Ann"', user_id=USER)
        command_id = update["message"]["message_id"]
        video_task = await h.video_task_id()

        [create] = h.upstream.creates
        assert create["taskId"] == TASK_ID
        assert create["audioId"] == AUDIO_ID
        assert create["author"] == "DJ Ann"
        assert "domainName" not in create
        assert create["callBackUrl"].startswith(f"{PUBLIC_BASE_URL}/callbacks/")

        h.upstream.complete(video_task)
        response = await h.upstream.fire_callback(video_task, h.web)
        assert response.status_code == 200

        [video] = await h.telegram.wait_for("sendVideo")
        assert video.params["video"] == f"http://upstream.test/cdn/{video_task}.mp4"
        assert video.params["supports_streaming"] in (True, "true", "True")
        assert "DJ Ann" in video.params["caption"]
        assert "Link valid until" in video.params["caption"]
        assert video.params["reply_parameters"]["message_id"] == command_id

        job = await h.wait_state(JobState.DELIVERED)
        assert job.file_id
        assert len(h.telegram.calls_to("sendVideo")) == 1
        # Two Telegram calls for the whole job: the status message and the video.
        to_chat = [c for c in h.telegram.calls if c.params.get("chat_id") == USER]
        assert [c.method for c in to_chat] == ["sendMessage", "sendVideo"]
        assert "Rendering" in h.status_text(USER)


async def test_poll_only_without_public_url(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.SUNOAPI, public_base_url=None) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        [create] = h.upstream.creates
        assert ".invalid/callbacks/" in create["callBackUrl"]
        h.upstream.complete(video_task)
        await h.telegram.wait_for("sendVideo")
        await h.wait_state(JobState.DELIVERED)


async def test_vidgo_happy_path_by_poll(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.VIDGO) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        [create] = h.upstream.creates
        assert create["model"] == "create-music-video"
        assert create["input"]["audio_id"] == AUDIO_ID
        h.upstream.complete(video_task)
        await h.telegram.wait_for("sendVideo")
        await h.wait_state(JobState.DELIVERED)


async def test_provider_side_failure_is_reported(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.fail(video_task, "Audio mp4 generation failed")
        job = await h.wait_state(JobState.FAILED)
        assert job.error == "Audio mp4 generation failed"
        await h.wait_until(lambda: "could not make this video" in h.status_text(USER))
        assert h.telegram.calls_to("sendVideo") == []


@pytest.mark.parametrize(
    ("provider", "code", "expected"),
    [
        (Provider.KIE, 401, "key was refused"),
        (Provider.KIE, 402, "out of credits"),
        (Provider.SUNOAPI, 429, "out of credits"),
        (Provider.VIDGO, 402, "out of credits"),
        (Provider.KIE, 422, "did not accept taskId"),
        (Provider.SUNOAPI, 400, "did not accept taskId"),
    ],
)
async def test_rejections_fail_at_once_with_their_own_sentence(
    tmp_path: Path, provider: Provider, code: int, expected: str
) -> None:
    async with running_bot(tmp_path, provider) as h:
        h.upstream.fail_next("create", code, "refused")
        await h.submit(user_id=USER)
        await h.wait_state(JobState.FAILED)
        await h.wait_until(lambda: expected in h.status_text(USER))
        if expected in ("out of credits", "key was refused"):
            await h.telegram.wait_for("sendMessage", lambda c: c.params["chat_id"] in (999, "999"))


@pytest.mark.parametrize(
    ("provider", "code"),
    [
        (Provider.KIE, 429),
        (Provider.SUNOAPI, 430),
        (Provider.SUNOAPI, 405),
        (Provider.KIE, 455),
        (Provider.VIDGO, 500),
    ],
)
async def test_busy_upstream_is_retried_automatically(
    tmp_path: Path, provider: Provider, code: int
) -> None:
    async with running_bot(tmp_path, provider) as h:
        h.upstream.fail_next("create", code, "slow down")
        # Retries back off from 5 s; make the first retry due at once for the test.
        await h.submit(user_id=USER)
        await h.wait_until(lambda: "retry automatically" in h.status_text(USER))
        await h.repo.transition(1, expected=JobState.SUBMITTING, next_poll_at=h.app.clock())
        h.app.wake_reconciler()
        video_task = await h.video_task_id()
        h.upstream.complete(video_task)
        await h.telegram.wait_for("sendVideo")
        assert len(h.upstream.creates) == 1


async def test_already_exists_with_task_id_polls_that_task(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.SUNOAPI)
    existing = upstream.create_video(TASK_ID, AUDIO_ID)  # made earlier, by someone else
    upstream.complete(existing)
    async with running_bot(tmp_path, Provider.SUNOAPI, fakes=(telegram, upstream)) as h:
        await h.submit(user_id=USER)
        [video] = await h.telegram.wait_for("sendVideo")
        assert video.params["video"].endswith(f"/cdn/{existing}.mp4")
        job = await h.wait_state(JobState.DELIVERED)
        assert job.video_task_id == existing


async def test_already_exists_of_our_own_video_reuses_the_file_id(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(user_id=USER)
        h.upstream.complete(await h.video_task_id())
        await h.telegram.wait_for("sendVideo")
        first_job = await h.wait_state(JobState.DELIVERED)
        await h.submit(user_id=USER)
        await h.wait_state(JobState.DELIVERED, job_id=2)
        calls = await h.telegram.wait_for("sendVideo", count=2)
        assert calls[1].params["video"] == first_job.file_id
        assert len(h.upstream.creates) == 2  # the second create answered "already exists"


async def test_duplicate_callbacks_in_a_row_post_one_video(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task)
        for _ in range(3):
            assert (await h.upstream.fire_callback(video_task, h.web)).status_code == 200
        await h.wait_state(JobState.DELIVERED)
        for _ in range(3):
            assert (await h.upstream.fire_callback(video_task, h.web)).status_code == 200
        await h.settle()
        assert len(h.telegram.calls_to("sendVideo")) == 1


async def test_concurrent_duplicate_callbacks_post_one_video(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.SUNOAPI) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task)
        responses = await asyncio.gather(
            *(h.upstream.fire_callback(video_task, h.web) for _ in range(10))
        )
        assert {r.status_code for r in responses} == {200}
        await h.wait_state(JobState.DELIVERED)
        await h.settle()
        assert len(h.telegram.calls_to("sendVideo")) == 1


async def test_callback_endpoint_answers(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        url = h.upstream.callback_url(video_task)
        assert (await h.web.post("/callbacks/not-a-token", json={"code": 200})).status_code == 404
        assert (await h.web.post(url, content=b"not json")).status_code == 400
        assert (await h.web.post(url, json={"hello": "world"})).status_code == 400
        assert (await h.web.post(url, content=b"x" * (64 * 1024 + 1))).status_code == 413
        body = b'{"code": 200, "msg": "ok", "data": {"task_id": "' + video_task.encode() + b'"'
        padded = body + b", " + b'"pad": "' + b"p" * (64 * 1024 - len(body) - 13) + b'"}}'
        assert len(padded) == 64 * 1024
        assert (await h.web.post(url, content=padded)).status_code == 200
        health = await h.web.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"


async def test_restart_in_the_middle_posts_once(tmp_path: Path) -> None:
    fakes = new_fakes(Provider.KIE)
    async with running_bot(tmp_path, Provider.KIE, fakes=fakes) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
    fakes[1].complete(video_task)
    async with running_bot(tmp_path, Provider.KIE, fakes=fakes) as h:
        await h.wait_state(JobState.DELIVERED)
        await h.settle()
        assert len(h.telegram.calls_to("sendVideo")) == 1
        assert len(h.upstream.creates) == 1


async def test_crash_after_upstream_accepted_is_recovered(tmp_path: Path) -> None:
    """The upstream accepted, but the process died before recording the video task id."""
    fakes = new_fakes(Provider.KIE)
    telegram, upstream = fakes
    upstream.fail_next("create", 500, "accepted but the answer was lost", accept=True)
    async with running_bot(tmp_path, Provider.KIE, fakes=fakes) as h:
        await h.submit(user_id=USER)
        await h.wait_until(lambda: len(upstream.creates) == 1)
        assert (await h.job()).state is JobState.SUBMITTING
    [video_task] = upstream.video_task_ids()
    upstream.complete(video_task)
    async with running_bot(tmp_path, Provider.KIE, fakes=fakes) as h:
        # The callback for the first request still finds its job (same derived token).
        response = await upstream.fire_callback(video_task, h.web)
        assert response.status_code == 200
        await h.wait_state(JobState.DELIVERED)
        assert len(telegram.calls_to("sendVideo")) == 1


async def test_telegram_429_on_send_video_delivers_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.fail_with_retry_after("sendVideo", 1)
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task)
        await h.upstream.fire_callback(video_task, h.web)
        await h.wait_state(JobState.DELIVERED, timeout=10)
        assert len(h.telegram.calls_to("sendVideo")) == 2  # the refused one and the real one
        videos = [m for m in h.telegram.messages(USER) if "video" in m]
        assert len(videos) == 1


async def test_refused_url_is_downloaded_and_uploaded(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.refuse_video_urls()
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task, video_size=300_000)
        await h.upstream.fire_callback(video_task, h.web)
        await h.wait_state(JobState.DELIVERED)
        upload = h.telegram.calls_to("sendVideo")[-1]
        assert upload.files["video"].size == 300_000
        assert h.upstream.cdn_hits


async def test_too_large_video_is_sent_as_a_link(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, max_upload_mb=1) as h:
        h.telegram.refuse_video_urls()
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task, video_size=2 * 1024 * 1024)
        await h.upstream.fire_callback(video_task, h.web)
        await h.wait_state(JobState.DELIVERED)
        link = h.telegram.calls_to("sendMessage")[-1]
        assert f"/cdn/{video_task}.mp4" in link.params["text"]
        assert "valid until" in link.params["text"]


async def test_blocked_chat_ends_delivery(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.telegram.block_chat(USER)
        h.upstream.complete(video_task)
        await h.upstream.fire_callback(video_task, h.web)
        await h.wait_state(JobState.UNDELIVERABLE)


async def test_group_command_with_bot_name_and_other_bot(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        group = -1001234
        h.telegram.push_update(
            h.telegram.group_message(f"/video@OtherBot {TASK_ID} {AUDIO_ID}", chat_id=group)
        )
        h.telegram.push_update(
            h.telegram.group_message(f"/video@MusicVideoBot {TASK_ID} {AUDIO_ID}", chat_id=group)
        )
        video_task = await h.video_task_id()
        await h.settle()
        assert len(h.upstream.creates) == 1
        h.upstream.complete(video_task)
        [video] = await h.telegram.wait_for("sendVideo")
        assert int(video.params["chat_id"]) == group


async def test_edited_command_never_resubmits(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.push_update(
            h.telegram.edited_message(f"/video {TASK_ID} {AUDIO_ID}", user_id=USER)
        )
        await h.telegram.wait_for("getUpdates", count=3)
        await h.settle()
        assert h.upstream.creates == []
        assert h.telegram.calls_to("sendMessage") == []


async def test_missing_arguments_answer_usage_without_upstream_call(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit("/video", user_id=USER)
        [usage] = await h.telegram.wait_for("sendMessage")
        assert "Usage: /video" in usage.params["text"]
        await h.submit(f"/video {TASK_ID} {AUDIO_ID} " + "x" * 51, user_id=USER)
        calls = await h.telegram.wait_for("sendMessage", count=2)
        assert "limit is 50" in calls[1].params["text"]
        assert h.upstream.creates == []


async def test_timeout_marks_job_and_tells_user(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, job_timeout_minutes=0.01) as h:
        await h.submit(user_id=USER)
        await h.wait_state(JobState.TIMED_OUT, timeout=10)
        await h.wait_until(lambda: "took too long" in h.status_text(USER))


async def test_polls_never_exceed_three_per_second_per_task(tmp_path: Path) -> None:
    async with running_bot(
        tmp_path, Provider.KIE, public_base_url=None, poll_interval_seconds=0.001
    ) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        started = h.upstream.details_calls[video_task]
        await asyncio.sleep(1.5)
        polls = h.upstream.details_calls[video_task] - started
        assert 2 <= polls <= 5  # ≤ 3/s over 1.5 s, plus one at the window's edge


async def test_healthz_reports_job_counts(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(user_id=USER)
        await h.video_task_id()
        body = (await h.web.get("/healthz")).json()
        assert body["status"] == "ok"
        assert body["due_polls"] == 1
        assert body["updates_pending"] == 0


@pytest.mark.parametrize("task_name", ["inbox-worker", "telegram-poller", "reconciler"])
async def test_healthz_is_unhealthy_when_a_loop_has_stopped(tmp_path: Path, task_name: str) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        assert (await h.web.get("/healthz")).status_code == 200
        [task] = [t for t in asyncio.all_tasks() if t.get_name() == task_name]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert (await h.web.get("/healthz")).status_code == 503


async def test_admins_are_alerted_once_per_hour_per_cause(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.add_music_task("task-2", tracks=[("audio-9", "Song Z", 100.0)])
        h.upstream.fail_next("create", 402, "no credits", times=2)
        await h.submit(user_id=USER)
        await h.wait_state(JobState.FAILED)
        await h.submit("/video task-2 audio-9", user_id=USER)
        await h.wait_state(JobState.FAILED, job_id=2)
        await h.settle()
        alerts = [c for c in h.telegram.calls_to("sendMessage") if int(c.params["chat_id"]) == 999]
        assert len(alerts) == 1
        assert "credits" in alerts[0].params["text"]
