"""Auto-post to the user's own channel (issue 12): linking, posting once, pace, rights lost."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.distribution.channel_poster import CHANNEL_POSTS_PER_WINDOW
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


async def wait_settled(h: Harness, job_ids: list[int], timeout: float = 5.0) -> list[PostState]:
    """Wait until no post of these jobs is pending; return their states."""
    async with asyncio.timeout(timeout):
        while True:
            posts = [p for job_id in job_ids for p in await posts_repo(h).for_job(job_id)]
            if posts and all(p.state is not PostState.PENDING for p in posts):
                return [p.state for p in posts]
            await asyncio.sleep(0.02)


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
        await h.settle()
        assert len(channel_videos(h)) == 1


async def test_each_refusal_says_what_is_missing(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.add_channel(members={USER: "member"})  # the bot may post; the user is no admin
    telegram.add_channel(
        -1001, username="memberbot", bot_status="member", members={USER: "creator"}
    )
    telegram.add_channel(-1002, username="nopost", bot_can_post=False, members={USER: "creator"})
    telegram.add_channel(-1003, username=None, bot_status="left", members={USER: "creator"})
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        cases = {
            "@nosuchchannel": "can't find the channel @nosuchchannel",
            "-1003": "can't find the channel -1003",  # private, the bot is not in it
            str(DEFAULT_GROUP_ID): "is not a channel",
            "@memberbot": "I'm not an administrator of @memberbot",
            "@nopost": "may not post messages there",
            "@mychannel": "Only the owner or an administrator of @mychannel",
            "hello": "/autopost @channel",  # not a channel reference: the usage
        }
        for target, expected in cases.items():
            answer = await link(h, target=target)
            assert expected in answer, (target, answer)
        assert await links_repo(h).get(USER) is None
        # In a group: a member who is not an admin of the group, then an anonymous admin.
        telegram.set_admins(DEFAULT_GROUP_ID, [7])
        group = telegram.group_message("/autopost @mychannel", user_id=USER)
        assert "Only this group's admins" in await ask(h, group, DEFAULT_GROUP_ID)
        anonymous = telegram.anonymous_admin_message("/autopost @mychannel")
        assert "not anonymously" in await ask(h, anonymous, DEFAULT_GROUP_ID)
        # A channel post cannot link its own channel.
        post = telegram.channel_post("/autopost @mychannel", chat_id=-1002)
        assert "private chat with me or in a group" in await ask(h, post, -1002)
        assert await links_repo(h).get(DEFAULT_GROUP_ID) is None


async def test_a_group_admin_links_the_group(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.add_channel(members={USER: "administrator"})
    telegram.set_admins(DEFAULT_GROUP_ID, [USER])
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        update = telegram.group_message("/autopost @mychannel", user_id=USER)
        assert "Linked" in await ask(h, update, DEFAULT_GROUP_ID)
        again = telegram.group_message("/autopost @mychannel", user_id=USER)
        first = await links_repo(h).get(DEFAULT_GROUP_ID)
        assert "Linked" in await ask(h, again, DEFAULT_GROUP_ID)
        assert await links_repo(h).get(DEFAULT_GROUP_ID) == first  # linking again: no change
        job = await stored_video(h, chat_id=DEFAULT_GROUP_ID, user_id=USER, title="Group Song")
        h.app.wake_poster()
        await telegram.wait_for("sendVideo", lambda c: c.params["chat_id"] == CHANNEL)
        assert await wait_settled(h, [job.id]) == [PostState.POSTED]


async def test_each_video_is_posted_once_across_a_restart(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.add_channel(members={USER: "creator"})
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        await link(h)
        await deliver(h, 1, user_id=USER)
        await telegram.wait_for("sendVideo", lambda c: c.params["chat_id"] == CHANNEL)
        # The second video's post fails on the network; its retry is ~10 s away at the stop.
        telegram.fail_next(
            "sendVideo", error_code=500, description="Internal Server Error",
            when=lambda p: p.get("chat_id") == CHANNEL,
        )  # fmt: skip
        await deliver(h, 2, user_id=USER, audio_id="audio-2")
        await h.wait_until(lambda: len(telegram.calls_to("sendVideo")) == 4)
        await h.settle()
        [pending] = await posts_repo(h).for_job(2)
        assert pending.state is PostState.PENDING
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        await h.wait_until(lambda: len(channel_videos(h)) == 2)  # due again at once
        await stored_video(h, chat_id=USER, user_id=USER, title="Third")
        h.app.wake_poster()
        await h.wait_until(lambda: len(channel_videos(h)) == 3)
        await h.settle()
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        await h.settle()
        files = [m["video"]["file_id"] for m in channel_videos(h)]  # type: ignore[index]
        assert len(files) == len(set(files)) == 3
        for job_id in (1, 2, 3):
            [post] = await posts_repo(h).for_job(job_id)
            assert post.state is PostState.POSTED


async def test_a_hostile_caption_template_is_filled_literally(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.add_channel(members={USER: "creator"})
    upstream.track_tags[AUDIO_ID] = "synthwave"
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        await link(h)
        too_long = "x" * 1025
        answer = await ask(
            h, telegram.private_message(f"/autopost caption {too_long}", user_id=USER), USER
        )
        assert "1025 characters" in answer
        hostile = "{title.__class__} {0} {author!r} {__import__} { tags} {{title}} {tags}\n{title}"
        answer = await ask(
            h, telegram.private_message(f"/autopost caption {hostile}", user_id=USER), USER
        )
        assert "saved" in answer
        await stored_video(h, chat_id=USER, user_id=USER, title="{tags} in a title", author="A")
        h.app.wake_poster()
        await telegram.wait_for("sendVideo", lambda c: c.params["chat_id"] == CHANNEL)
        [post] = channel_videos(h)
        assert post["caption"] == (
            "{title.__class__} {0} {author!r} {__import__} { tags} {{tags} in a title} #synthwave"
            "\n{tags} in a title"
        )
        # A template that grows past Telegram's limit is cut to fit (the fake refuses more).
        await ask(
            h, telegram.private_message("/autopost caption " + "{title}" * 100, user_id=USER), USER
        )
        await stored_video(h, chat_id=USER, user_id=USER, title="Long title " * 3)
        h.app.wake_poster()
        await h.wait_until(lambda: len(channel_videos(h)) == 2)
        caption = str(channel_videos(h)[1]["caption"])
        assert len(caption) == 1024
        assert caption.endswith("…")


async def test_losing_rights_tells_the_chat_once_and_switches_off(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.add_channel(members={USER: "creator"})
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        await link(h)
        telegram.kick_from_channel(CHANNEL)
        jobs = [await stored_video(h, chat_id=USER, user_id=USER, title=f"S{n}") for n in range(3)]
        h.app.wake_poster()
        await telegram.wait_for("sendMessage", lambda c: "no longer post" in str(c.params["text"]))
        states = await wait_settled(h, [job.id for job in jobs])
        assert set(states) <= {PostState.FAILED, PostState.CANCELLED}
        told = [
            c for c in telegram.calls_to("sendMessage") if "no longer post" in str(c.params["text"])
        ]
        assert len(told) == 1
        assert told[0].params["chat_id"] == USER
        assert channel_videos(h) == []
        link_row = await links_repo(h).get(USER)
        assert link_row is not None
        assert not link_row.active
        # Later videos are not posted (no rows at all), and /autopost says it is off.
        later = await stored_video(h, chat_id=USER, user_id=USER, title="Later")
        h.app.wake_poster()
        await h.settle()
        assert await posts_repo(h).for_job(later.id) == []
        shown = await ask(h, telegram.private_message("/autopost", user_id=USER), USER)
        assert "Auto-post is off" in shown


async def test_channel_posts_keep_the_pace_without_delaying_other_chats(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.add_channel(members={USER: "creator"})
    telegram.add_channel(-1005, username="other", members={555: "creator"})
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        await link(h)
        await link(h, user_id=555, target="@other")
        burst = [
            await stored_video(h, chat_id=USER, user_id=USER, title=f"Burst {n}")
            for n in range(CHANNEL_POSTS_PER_WINDOW + 5)
        ]
        h.app.wake_poster()
        await h.wait_until(lambda: len(channel_videos(h)) == CHANNEL_POSTS_PER_WINDOW)
        # Meanwhile another user's video is delivered and another channel gets its post.
        other = await deliver(h, len(burst) + 1, user_id=777)
        assert other.state is JobState.DELIVERED
        await stored_video(h, chat_id=555, user_id=555, title="Elsewhere")
        h.app.wake_poster()
        await h.wait_until(lambda: len(channel_videos(h, -1005)) == 1)
        await h.settle()
        assert len(channel_videos(h)) == CHANNEL_POSTS_PER_WINDOW  # not one more this minute
        assert telegram.channel_rate_limited == []  # the fake never had to say 429
        posts = [p for job in burst for p in await posts_repo(h).for_job(job.id)]
        waiting = [p for p in posts if p.state is PostState.PENDING]
        assert len(waiting) == 5
        first_sent = min(p.sent_at for p in posts if p.sent_at is not None)
        for post in waiting:
            assert post.next_attempt_at is not None
            assert post.next_attempt_at >= first_sent + timedelta(seconds=59)
