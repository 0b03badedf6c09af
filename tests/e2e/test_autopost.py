"""Auto-post to the user's own channel (issue 12): linking, posting once, pace, rights lost."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.channel_poster import CHANNEL_POSTS_PER_WINDOW
from bot.domain import JobState, Provider
from storage.autopost_links import AutopostLinkRepository
from storage.channel_posts import ChannelPostRepository, PostState
from tests.e2e.distribution import ask, deliver, stored_video
from tests.e2e.harness import AUDIO_ID, Harness, new_fakes, running_bot
from tests.fakes.telegram import DEFAULT_CHANNEL_ID, DEFAULT_GROUP_ID

USER = 4242
CHANNEL = DEFAULT_CHANNEL_ID


def posts_repo(h: Harness) -> ChannelPostRepository:
    """Read access to channel_posts."""
    assert h.app.db is not None
    return ChannelPostRepository(h.app.db)


def links_repo(h: Harness) -> AutopostLinkRepository:
    """Read access to autopost_links."""
    assert h.app.db is not None
    return AutopostLinkRepository(h.app.db)


def channel_videos(h: Harness, channel: int = CHANNEL) -> list[dict[str, object]]:
    """The videos the bot posted in a channel, oldest first."""
    return [m for m in h.telegram.channel_posts(channel) if "video" in m]


async def link(h: Harness, user_id: int = USER, target: str = "@mychannel") -> str:
    """`/autopost <target>` in the user's private chat; returns the answer."""
    return await ask(h, h.telegram.private_message(f"/autopost {target}", user_id=user_id), user_id)


async def test_a_user_links_a_channel_and_each_video_is_posted_there(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.add_channel(members={USER: "creator"})
    upstream.track_tags[AUDIO_ID] = "lo-fi hip hop, Rock"
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        answer = await link(h)
        assert "Linked" in answer
        assert "@mychannel" in answer
        job = await deliver(h, 1, user_id=USER)
        await telegram.wait_for("sendVideo", lambda c: c.params["chat_id"] == CHANNEL)
        [post] = channel_videos(h)
        assert post["video"]["file_id"] == job.file_id  # type: ignore[index]
        assert "forward_origin" not in post
        assert post["caption"] == "🎬 Song A\n👤 DJ Ann\n#lo_fi_hip_hop #rock"
        # /autopost shows the link, /autopost off removes it.
        shown = await ask(h, telegram.private_message("/autopost", user_id=USER), USER)
        assert "also posted to @mychannel" in shown
        off = await ask(h, telegram.private_message("/autopost off", user_id=USER), USER)
        assert "off" in off
        await deliver(h, 2, user_id=USER, audio_id="audio-2")
        await asyncio.sleep(0.3)
        assert len(channel_videos(h)) == 1
