"""Fault paths that used to lose or endanger a paid video (issue: never lose a paid video)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain import JobState, Provider
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, direct_job, new_fakes, running_bot

USER = 4242


async def make_submit_due(h: Harness, job_id: int = 1) -> None:
    """Retries back off from 5 s; make the next one due now for the test."""
    await h.repo.transition(job_id, expected=JobState.SUBMITTING, next_poll_at=h.app.clock())
    h.app.wake_reconciler()


def create_callback_url(h: Harness, index: int = 0) -> str:
    """The callBackUrl the bot sent with its `index`-th create request."""
    creates = [r for r in h.upstream.requests if r.method == "POST"]
    url = creates[index].json["callBackUrl"]
    assert isinstance(url, str)
    return url


@pytest.mark.parametrize("provider", [Provider.KIE, Provider.SUNOAPI])
async def test_already_exists_without_id_waits_for_the_callback_and_delivers(
    tmp_path: Path, provider: Provider
) -> None:
    telegram, upstream = new_fakes(provider)
    upstream.already_exists_style = "409_no_id"
    # The first create is carried out but its answer is lost; the retry hears "already exists".
    upstream.fail_next("create", 500, "accepted but the answer was lost", accept=True)
    async with running_bot(tmp_path, provider, fakes=(telegram, upstream)) as h:
        await h.submit(user_id=USER)
        await h.wait_until(lambda: len(upstream.creates) == 1)
        await h.wait_until(lambda: "retry automatically" in h.status_text(USER))
        await make_submit_due(h)
        await h.wait_until(lambda: len(upstream.creates) == 2)
        job = await h.wait_state(JobState.PENDING)
        assert job.video_task_id is None  # waiting for its own callback, not failed
        [video_task] = upstream.video_task_ids()
        upstream.complete(video_task)
        assert (await upstream.fire_callback(video_task, h.web)).status_code == 200
        delivered = await h.wait_state(JobState.DELIVERED)
        assert delivered.video_task_id == video_task
        assert len(telegram.calls_to("sendVideo")) == 1
        said = [str(c.params.get("text", "")) for c in telegram.calls if "text" in c.params]
        assert not any("already exists" in line or "❌" in line for line in said)


async def test_already_exists_without_callbacks_still_fails_clearly(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    upstream.already_exists_style = "409_no_id"
    upstream.create_video(TASK_ID, AUDIO_ID)  # made earlier, elsewhere; nothing will call us
    async with running_bot(
        tmp_path, Provider.KIE, fakes=(telegram, upstream), public_base_url=None
    ) as h:
        await h.submit(user_id=USER)
        await h.wait_state(JobState.FAILED)
        await h.wait_until(lambda: "already exists" in h.status_text(USER))


async def test_success_callback_after_time_out_delivers_the_video(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, job_timeout_minutes=0.01) as h:
        await h.submit(user_id=USER)
        job = await h.wait_state(JobState.TIMED_OUT, timeout=10)
        assert job.video_task_id is not None
        h.upstream.complete(job.video_task_id)
        assert (await h.upstream.fire_callback(job.video_task_id, h.web)).status_code == 200
        await h.wait_state(JobState.DELIVERED)
        assert len(h.telegram.calls_to("sendVideo")) == 1


async def test_unsigned_callback_never_attaches_another_chats_task(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.SUNOAPI)
    upstream.add_music_task("their-task", tracks=[("their-audio", "Theirs", 100.0)])
    foreign = upstream.create_video("their-task", "their-audio", "http://bot.test/callbacks/x")
    upstream.complete(foreign)
    upstream.fail_next("create", 500, "busy")  # our job stays SUBMITTING for a while
    async with running_bot(tmp_path, Provider.SUNOAPI, fakes=(telegram, upstream)) as h:
        await h.submit(user_id=USER)
        await h.wait_until(lambda: "retry automatically" in h.status_text(USER))
        body = upstream.callback_body(foreign)
        answer = await h.web.post(create_callback_url(h), json=body)
        assert answer.status_code == 200
        await make_submit_due(h)
        own = await h.video_task_id()
        assert own != foreign
        upstream.complete(own)
        await upstream.fire_callback(own, h.web)
        await h.wait_state(JobState.DELIVERED)
        [sent] = telegram.calls_to("sendVideo")
        assert own in str(sent.params["video"])
        assert foreign not in str(sent.params["video"])


async def test_a_callback_naming_a_foreign_task_is_not_adopted_after_already_exists(
    tmp_path: Path,
) -> None:
    """The job waits for its own callback; a hostile one naming another task is checked
    against the details answer (made for another callback URL) and ignored."""
    telegram, upstream = new_fakes(Provider.KIE)
    upstream.already_exists_style = "409_no_id"
    upstream.add_music_task("their-task", tracks=[("their-audio", "Theirs", 100.0)])
    foreign = upstream.create_video("their-task", "their-audio", "http://bot.test/callbacks/x")
    upstream.complete(foreign)
    upstream.fail_next("create", 500, "accepted but the answer was lost", accept=True)
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        await h.submit(user_id=USER)
        await h.wait_until(lambda: "retry automatically" in h.status_text(USER))
        await make_submit_due(h)
        await h.wait_state(JobState.PENDING)
        own_url = create_callback_url(h)
        hostile = upstream.callback_body(foreign)
        assert (await h.web.post(own_url, json=hostile)).status_code == 200
        await h.wait_until(lambda: upstream.details_calls[foreign] == 1)
        await h.settle()
        job = await h.job()
        assert job.state is JobState.PENDING
        assert job.video_task_id is None
        assert telegram.calls_to("sendVideo") == []
        own = next(v for v in upstream.video_task_ids() if v != foreign)
        upstream.complete(own)
        await upstream.fire_callback(own, h.web)
        delivered = await h.wait_state(JobState.DELIVERED)
        assert delivered.video_task_id == own


async def test_a_backlog_of_submissions_never_starves_polls_and_callbacks(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        # 300 submissions queue up behind the provider's rate of 20 creates per 10 s.
        template = await h.job()
        for n in range(300):
            await h.repo.create(
                direct_job(
                    10_000 + n,
                    f"backlog-{n}",
                    provider=template.provider,
                    audio_id="audio-2",
                    next_poll_at=h.app.clock(),
                )
            )
        h.app.wake_reconciler()
        await h.wait_until(lambda: len(h.upstream.creates) >= 10)
        h.upstream.complete(video_task)
        await h.upstream.fire_callback(video_task, h.web)
        await h.wait_state(JobState.DELIVERED, timeout=2)
        assert len(h.upstream.creates) <= 21  # the rate held all along


async def test_a_job_still_queued_at_its_deadline_is_never_submitted(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, job_timeout_minutes=1) as h:
        job = await h.repo.create(direct_job(USER, "late"))
        past = h.app.clock() - timedelta(minutes=2)
        await h.repo.transition(
            job.id, expected=JobState.SUBMITTING, created_at=past, next_poll_at=h.app.clock()
        )
        h.app.wake_reconciler()
        failed = await h.wait_state(JobState.FAILED, job_id=job.id)
        assert failed.error_kind == "not_submitted"
        assert h.upstream.creates == []
        message = await h.telegram.wait_for("sendMessage")
        assert "no credits were spent" in str(message[-1].params["text"])


async def test_creates_keep_to_eighteen_per_ten_seconds_and_say_queued(tmp_path: Path) -> None:
    """The documented 20 per 10 s less the margin (docs/providers.md §6.2)."""
    async with running_bot(tmp_path, Provider.KIE) as h:
        for n in range(30):
            h.telegram.push_update(
                h.telegram.private_message(f"/video {TASK_ID} {AUDIO_ID}", user_id=20_000 + n)
            )
        await h.wait_until(lambda: len(h.upstream.creates) == 18, timeout=8)
        await asyncio.sleep(2.0)
        assert len(h.upstream.creates) == 18  # not 18 at once and then 2 a second
        queued = [
            c
            for c in h.telegram.calls_to("editMessageText")
            if str(c.params["text"]).startswith("⏳ Queued")
        ]
        assert queued


async def test_provider_retry_after_header_is_honoured(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.fail_next("create", 429, "slow down", http_status=429, retry_after=60)
        await h.submit(user_id=USER)
        await h.wait_until(lambda: "retry automatically" in h.status_text(USER))
        job = await h.job()
        assert job.next_poll_at is not None
        assert (job.next_poll_at - h.app.clock()).total_seconds() > 50


async def test_a_signed_callback_is_delivered_without_a_confirming_poll(tmp_path: Path) -> None:
    key = "hmac-key"
    async with running_bot(tmp_path, Provider.KIE, music_api_webhook_hmac_key=key) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task)
        stamp = str(int(h.app.clock().timestamp()))
        headers = {
            "X-Webhook-Timestamp": stamp,
            "X-Webhook-Signature": h.upstream.sign_kie(key, video_task, stamp),
        }
        assert (
            await h.upstream.fire_callback(video_task, h.web, headers=headers)
        ).status_code == 200
        await h.wait_state(JobState.DELIVERED)
        assert h.upstream.details_calls[video_task] == 0


async def test_an_unsigned_callback_is_trusted_only_on_a_host_the_details_used(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.SUNOAPI) as h:
        await h.submit(user_id=USER)
        first = await h.video_task_id()
        h.upstream.complete(first)
        await h.upstream.fire_callback(first, h.web)
        await h.wait_state(JobState.DELIVERED)
        assert h.upstream.details_calls[first] == 1  # unknown host: confirmed first

        await h.submit(f"/video {TASK_ID} audio-2", user_id=USER)
        second = await h.video_task_id(job_id=2)
        h.upstream.complete(second)
        await h.upstream.fire_callback(second, h.web)
        await h.wait_state(JobState.DELIVERED, job_id=2)
        assert h.upstream.details_calls[second] == 0  # the host is known now

        h.upstream.add_music_task("task-3", tracks=[("audio-3", "Song C", 90.0)])
        await h.submit("/video task-3 audio-3", user_id=USER + 1)
        third = await h.video_task_id(job_id=3)
        h.upstream.complete(third)
        body = h.upstream.callback_body(third)
        body["data"]["video_url"] = "https://elsewhere.example/x.mp4"
        await h.upstream.fire_callback(third, h.web, body=body)
        delivered = await h.wait_state(JobState.DELIVERED, job_id=3)
        assert h.upstream.details_calls[third] == 1
        assert "elsewhere.example" not in str(delivered.video_url)


async def test_a_callback_during_the_create_makes_the_first_poll_due_at_once(
    tmp_path: Path,
) -> None:
    """The provider calls back before its create answer reached us: the hint is kept, and
    once the answer names that task, the job is polled at once (not after the usual delay)."""
    async with running_bot(tmp_path, Provider.KIE, poll_interval_seconds=30) as h:
        h.upstream.answer_delay["create"] = 0.5
        await h.submit(user_id=USER)
        await h.wait_until(lambda: len(h.upstream.video_task_ids()) == 1)
        [video_task] = h.upstream.video_task_ids()
        h.upstream.complete(video_task)
        assert (await h.upstream.fire_callback(video_task, h.web)).status_code == 200
        assert (await h.job()).state is JobState.SUBMITTING  # the answer is still on its way
        await h.wait_state(JobState.DELIVERED, timeout=3)  # not after the 90 s first poll


async def test_the_callback_endpoint_answers_without_calling_telegram(tmp_path: Path) -> None:
    """Record, wake the loop, answer: the provider never waits on a Telegram call (a callback
    arriving while the create's answer is on its way used to edit the status message first)."""
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.answer_delay["create"] = 0.5
        await h.submit(user_id=USER)
        await h.wait_until(lambda: len(h.upstream.video_task_ids()) == 1)
        [video_task] = h.upstream.video_task_ids()
        h.upstream.complete(video_task)
        before = len(h.telegram.calls)
        assert (await h.upstream.fire_callback(video_task, h.web)).status_code == 200
        assert h.telegram.calls[before:] == []
        await h.wait_state(JobState.DELIVERED)


async def test_a_plain_video_command_learns_the_track_title_for_the_caption(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.SUNOAPI) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        async with asyncio.timeout(5):
            while (await h.job()).title != "Song A":
                await asyncio.sleep(0.02)
        h.upstream.complete(video_task)
        await h.upstream.fire_callback(video_task, h.web)
        [video] = await h.telegram.wait_for("sendVideo")
        assert "Song A" in video.params["caption"]
