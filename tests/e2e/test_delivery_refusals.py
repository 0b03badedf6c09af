"""A provider video in a chat where the bot may not send videos (docs/architecture.md §6.2):
no download, no upload, the link at once, saying why."""

from __future__ import annotations

from pathlib import Path

from bot.domain import JobState, Provider
from tests.e2e.harness import AUDIO_ID, TASK_ID, new_fakes, running_bot

GROUP = -100_8484
USER = 4242


async def test_no_right_to_send_videos_sends_the_link_at_once(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.fail_next(
        "sendVideo",
        error_code=400,
        description="Bad Request: not enough rights to send videos to the chat",
        times=None,
    )
    async with running_bot(tmp_path, fakes=(telegram, upstream)) as h:
        telegram.push_update(
            telegram.group_message(f"/video {TASK_ID} {AUDIO_ID}", chat_id=GROUP, user_id=USER)
        )
        upstream.complete(await h.video_task_id())
        job = await h.wait_state(JobState.DELIVERED, timeout=15)
        [link] = [
            c for c in telegram.calls_to("sendMessage") if "may not send videos" in c.params["text"]
        ]
        assert job.video_url is not None
        assert job.video_url in link.params["text"]
        assert len(telegram.calls_to("sendVideo")) == 1  # by URL only: no relay upload
        assert upstream.cdn_hits == []  # nothing downloaded
