"""Every kind of chat, access control, abuse limits and webhook mode, through the fakes."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from bot.domain import JobState, Provider
from bot.logs import configure_logging
from tests.e2e.harness import API_KEY, AUDIO_ID, BOT_TOKEN, TASK_ID, running_bot

USER = 4242
GROUP = -1001234


async def test_channel_post_video_is_posted_into_the_channel(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        channel = -1009876
        h.telegram.push_update(
            h.telegram.channel_post(f"/video {TASK_ID} {AUDIO_ID}", chat_id=channel)
        )
        video_task = await h.video_task_id()
        job = await h.job()
        assert job.user_id is None
        h.upstream.complete(video_task)
        [video] = await h.telegram.wait_for("sendVideo")
        assert int(video.params["chat_id"]) == channel


async def test_anonymous_admin_is_judged_by_the_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, allowed_chat_ids=frozenset({GROUP})) as h:
        h.telegram.push_update(
            h.telegram.anonymous_admin_message(f"/video@MusicVideoBot {TASK_ID} {AUDIO_ID}", GROUP)
        )
        await h.video_task_id()
        assert (await h.job()).user_id is None


async def test_anonymous_admins_share_the_chats_hourly_quota(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, quota_per_hour=1) as h:
        h.upstream.add_music_task("task-2", tracks=[("audio-9", "Song Z", 100.0)])
        for track in (f"{TASK_ID} {AUDIO_ID}", f"{TASK_ID} audio-2"):
            h.telegram.push_update(
                h.telegram.anonymous_admin_message(f"/video@MusicVideoBot {track}", GROUP)
            )
        # "Send as channel": a member posts as one of their channels; no user id either.
        as_channel = h.telegram.group_message("/video task-2 audio-9", chat_id=GROUP)
        as_channel["message"]["from"] = {"id": 136817688, "is_bot": True, "first_name": "Channel"}
        as_channel["message"]["sender_chat"] = {"id": -100777, "title": "Mine", "type": "channel"}
        h.telegram.push_update(as_channel)
        calls = await h.telegram.wait_for("sendMessage", count=3)
        refusals = [c.params["text"] for c in calls[1:]]
        assert all("hourly limit" in r and "UTC" in r for r in refusals), refusals
        await h.video_task_id()
        assert len(h.upstream.creates) == 1
        # A person in the same group still has a quota of their own.
        h.telegram.push_update(
            h.telegram.group_message(f"/video {TASK_ID} audio-2", chat_id=GROUP, user_id=USER)
        )
        await h.video_task_id(job_id=2)


async def test_channel_posts_have_an_hourly_quota(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, quota_per_hour=1) as h:
        channel = -1009876
        for audio in (AUDIO_ID, "audio-2"):
            h.telegram.push_update(
                h.telegram.channel_post(f"/video {TASK_ID} {audio}", chat_id=channel)
            )
        calls = await h.telegram.wait_for("sendMessage", count=2)
        assert "hourly limit" in calls[1].params["text"]
        await h.video_task_id()
        assert len(h.upstream.creates) == 1
        assert await h.repo.get(2) is None


async def test_forum_topic_gets_the_video_in_the_same_topic(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.push_update(
            h.telegram.group_message(
                f"/video@MusicVideoBot {TASK_ID} {AUDIO_ID}",
                chat_id=GROUP,
                thread_id=77,
                is_forum=True,
            )
        )
        video_task = await h.video_task_id()
        h.upstream.complete(video_task)
        [video] = await h.telegram.wait_for("sendVideo")
        assert int(video.params["message_thread_id"]) == 77
        [status] = h.telegram.calls_to("sendMessage")
        assert int(status.params["message_thread_id"]) == 77


async def test_error_reply_goes_to_the_same_forum_topic(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.fail_next("sendMessage", error_code=400, description="Bad Request: odd")
        h.telegram.push_update(
            h.telegram.group_message(
                f"/video@MusicVideoBot {TASK_ID} {AUDIO_ID}",
                chat_id=GROUP,
                thread_id=77,
                is_forum=True,
            )
        )
        [_refused, error] = await h.telegram.wait_for("sendMessage", count=2)
        assert "Something went wrong" in error.params["text"]
        assert int(error.params["message_thread_id"]) == 77


async def test_deleted_command_message_does_not_stop_delivery(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        update = await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.telegram.deleted_messages[USER].add(update["message"]["message_id"])
        h.upstream.complete(video_task)
        [video] = await h.telegram.wait_for("sendVideo")
        assert video.params["reply_parameters"]["allow_sending_without_reply"] is True
        await h.wait_state(JobState.DELIVERED)


async def test_chat_migration_moves_the_job(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        old, new = -4001, -1004001
        h.telegram.push_update(
            h.telegram.group_message(f"/video {TASK_ID} {AUDIO_ID}", chat_id=old)
        )
        video_task = await h.video_task_id()
        h.telegram.upgrade_chat(old, new)
        h.upstream.complete(video_task)
        job = await h.wait_state(JobState.DELIVERED)
        assert job.chat_id == new
        videos = [c for c in h.telegram.calls_to("sendVideo") if int(c.params["chat_id"]) == new]
        assert len(videos) == 1


async def test_refused_user_gets_one_sentence_and_nothing_reaches_upstream(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, allowed_user_ids=frozenset({1})) as h:
        await h.submit(user_id=USER)
        [refusal] = await h.telegram.wait_for("sendMessage")
        assert "private" in refusal.params["text"]
        await h.submit("/help", user_id=USER)  # /help answers everyone
        await h.telegram.wait_for("sendMessage", count=2)
        assert h.upstream.requests == []
        assert await h.repo.get(1) is None


async def test_allowed_chat_lets_everyone_in_it_use_the_bot(tmp_path: Path) -> None:
    async with running_bot(
        tmp_path, Provider.KIE, allowed_user_ids=frozenset({1}), allowed_chat_ids=frozenset({GROUP})
    ) as h:
        h.telegram.push_update(
            h.telegram.group_message(f"/video {TASK_ID} {AUDIO_ID}", chat_id=GROUP, user_id=USER)
        )
        await h.video_task_id()


async def test_quota_refuses_with_the_time_to_try_again(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, quota_per_hour=1) as h:
        h.upstream.add_music_task("task-2", tracks=[("audio-9", "Song Z", 100.0)])
        await h.submit(user_id=USER)
        await h.video_task_id()
        await h.submit("/video task-2 audio-9", user_id=USER)
        calls = await h.telegram.wait_for("sendMessage", count=2)
        assert "hourly limit" in calls[1].params["text"]
        assert "UTC" in calls[1].params["text"]
        assert len(h.upstream.creates) == 1
        # Admins are exempt.
        await h.submit("/video task-2 audio-9", user_id=999)
        await h.video_task_id(job_id=2)


async def test_repeated_command_answers_with_the_job_in_flight(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await h.submit(user_id=USER)
        await h.video_task_id()
        await h.submit(user_id=USER)
        calls = await h.telegram.wait_for("sendMessage", count=2)
        assert "already making this video (job #1)" in calls[1].params["text"]
        assert len(h.upstream.creates) == 1


async def test_webhook_mode_registers_checks_secret_and_dedupes(tmp_path: Path) -> None:
    async with running_bot(
        tmp_path, Provider.KIE, bot_mode="webhook", webhook_secret="s3cret-token"
    ) as h:
        [registered] = h.telegram.calls_to("setWebhook")
        assert registered.params["url"] == "http://bot.test/telegram"
        assert registered.params["secret_token"] == "s3cret-token"
        update = h.telegram.private_message(f"/video {TASK_ID} {AUDIO_ID}", user_id=USER)
        assert (await h.web.post("/telegram", json=update)).status_code == 403
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "nope"}
        assert (await h.web.post("/telegram", json=update, headers=wrong)).status_code == 403
        right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
        assert (await h.web.post("/telegram", content=b"{", headers=right)).status_code == 200
        for _ in range(3):  # Telegram redelivers when it misses our answer
            assert (await h.web.post("/telegram", json=update, headers=right)).status_code == 200
        await h.video_task_id()
        await h.settle()
        assert len(h.upstream.creates) == 1
        assert len(h.telegram.calls_to("sendMessage")) == 1
        assert h.telegram.calls_to("getUpdates") == []


async def test_full_job_at_debug_level_logs_no_secret(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, log_level="DEBUG") as h:
        stream = io.StringIO()
        handler = configure_logging(h.settings, stream)
        try:
            await h.submit(user_id=USER)
            video_task = await h.video_task_id()
            h.upstream.complete(video_task)
            await h.upstream.fire_callback(video_task, h.web)
            await h.wait_state(JobState.DELIVERED)
        finally:
            logging.getLogger().removeHandler(handler)
            logging.getLogger().setLevel(logging.WARNING)
        output = stream.getvalue()
        assert "job 1" in output  # the capture did see the job's log lines
        assert BOT_TOKEN not in output
        assert BOT_TOKEN.split(":")[1] not in output
        assert API_KEY not in output
