"""`/style` end to end (issue 18 item 3, docs/architecture.md §9.3): the buttons, a tap that
sets the chat's look, the look on the job row and in the video, and the look as part of the
"rendered once" key — through the fake Bot API and the fake upstream with real ffmpeg renders of
a generated 120 BPM track (tests/music/tracks.py), whose beats the bot trusts.

The fake's cover is solid blue: its width on one row through the cover's middle is measured on
every decoded frame (the blurred fill around it is darkened), as tests/rendering/test_motion.py
measures the red one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bot.domain import JobState, Look, Provider
from bot.rendering import VideoFormat
from bot.rendering.layout import LAYOUTS
from bot.rendering.runner import Ffmpeg
from handlers.settings import LOOK_PREFIX
from storage.chats import ChatSettingsRepository
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, running_bot
from tests.e2e.test_history import answers_to, buttons, tap
from tests.e2e.test_lyrics_jobs import answer_to, uploaded
from tests.e2e.test_render_jobs import RENDER_TIMEOUT
from tests.fakes.telegram import Call
from tests.music.tracks import beat_track
from tests.rendering.conftest import FFMPEG

USER = 4242
GROUP = -1001234
RENDER = f"/render {TASK_ID} {AUDIO_ID} 9:16"
COVER = LAYOUTS[VideoFormat.VERTICAL].cover
ROW = COVER.y + COVER.height // 2


async def cover_widths(video: Path) -> list[int]:
    """The blue cover's width on row ROW of every frame."""
    width = VideoFormat.VERTICAL.width
    done = await Ffmpeg(FFMPEG).run(
        [
            *("-i", str(video), "-vf", f"crop={width}:2:0:{ROW}"),
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"),
        ],
        time_limit=60,
    )
    rows = np.frombuffer(done.stdout, np.uint8).reshape(-1, 2, width, 3)
    blue = (rows[:, 0, :, 2] > 150) & (rows[:, 0, :, 0] < 90)
    return [int(count) for count in blue.sum(axis=1)]


async def look_of(h: Harness, chat_id: int) -> Look:
    """The chat's stored look."""
    assert h.app.db is not None
    return (await ChatSettingsRepository(h.app.db).get(chat_id)).look


async def edit(h: Harness, message_id: int, count: int = 1) -> Call:
    """The `count`th edit of one message (waiting for it)."""

    def of_message(call: Call) -> bool:
        return call.params["message_id"] == message_id

    return (await h.telegram.wait_for("editMessageText", of_message, count=count))[-1]


async def style_message(h: Harness, chat_id: int, update: dict[str, Any]) -> dict[str, Any]:
    """Push a `/style` update; the bot's answer as the chat shows it."""
    sent = len(h.telegram.calls_to("sendMessage"))
    h.telegram.push_update(update)
    await h.telegram.wait_for("sendMessage", count=sent + 1)
    return h.telegram.messages(chat_id)[-1]


async def test_style_buttons_set_the_look_and_each_look_renders_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.media_audio = beat_track(120.0, 4.0).write(tmp_path / "beats.wav").read_bytes()
        shown = await style_message(h, USER, h.telegram.private_message("/style", user_id=USER))
        assert "look: pulse" in shown["text"]
        assert buttons(shown) == [
            ("✓ pulse", f"{LOOK_PREFIX}pulse"),
            ("bars", f"{LOOK_PREFIX}bars"),
            ("calm", f"{LOOK_PREFIX}calm"),
        ]
        query_id = await tap(h, f"{LOOK_PREFIX}bars", shown)
        assert answers_to(h, query_id)[0].params["text"] == "✅ Look: bars"
        edited = await edit(h, shown["message_id"])
        assert "look: bars" in edited.params["text"]
        assert "✓ bars" in str(edited.params["reply_markup"])
        assert await look_of(h, USER) is Look.BARS

        await h.submit(RENDER, user_id=USER)
        first = (await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT))[0]
        bars = await h.wait_state(JobState.DELIVERED, job_id=1)
        assert bars.look == Look.BARS.value
        widths = await cover_widths(await uploaded(first, tmp_path, "bars"))
        assert len(set(widths)) > 1  # bars keeps the beat motion

        assert "still cover" in await answer_to(h, "/style calm")
        await h.submit(RENDER, user_id=USER)
        second = (await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT))[1]
        assert (await h.wait_state(JobState.DELIVERED, job_id=2)).look == Look.CALM.value
        assert "video" in second.files  # another look: rendered anew, not bars' file again
        widths = await cover_widths(await uploaded(second, tmp_path, "calm"))
        assert len(set(widths)) == 1  # calm: the cover never moves, beats or not
        assert widths[0] == COVER.width

        await answer_to(h, "/style bars")
        await h.submit(RENDER, user_id=USER)
        third = (await h.telegram.wait_for("sendVideo", count=3, timeout=RENDER_TIMEOUT))[2]
        assert (await h.wait_state(JobState.DELIVERED, job_id=3)).look == Look.BARS.value
        assert "video" not in third.files
        assert third.params["video"] == bars.file_id  # bars again: the first video sent again
        assert "Usage: /style" in await answer_to(h, "/style disco")


async def test_only_a_groups_admins_change_its_look(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.set_admins(GROUP, [1])
        group = h.telegram.group_message("/style", chat_id=GROUP, user_id=USER)
        shown = await style_message(h, GROUP, group)  # anyone may look
        assert "look: pulse" in shown["text"]

        query_id = await tap(h, f"{LOOK_PREFIX}calm", shown)
        assert "admins" in answers_to(h, query_id)[0].params["text"]
        refused = h.telegram.group_message("/style calm", chat_id=GROUP, user_id=USER)
        assert "admins" in (await style_message(h, GROUP, refused))["text"]
        assert await look_of(h, GROUP) is Look.PULSE

        h.telegram.set_admins(GROUP, [1, USER])
        query_id = await tap(h, f"{LOOK_PREFIX}calm", shown)
        assert answers_to(h, query_id)[0].params["text"] == "✅ Look: calm"
        assert "✓ calm" in str((await edit(h, shown["message_id"])).params["reply_markup"])
        assert await look_of(h, GROUP) is Look.CALM
