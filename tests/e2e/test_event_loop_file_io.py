"""No file is written whole on the event loop's thread (docs/architecture.md §1.3): big files
are written in worker threads (`asyncio.to_thread`), so one upload never freezes every chat.

Observed through Python's audit hook: every `open()` for writing of a file in the bot's data
folder is recorded with whether the opening thread runs an event loop.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.domain import JobState, Provider
from tests.e2e.harness import running_bot

USER = 4242
MB = 1024 * 1024


@dataclass
class LoopWrites:
    """Files under `root` opened for writing by a thread that runs an event loop."""

    root: str
    paths: list[str] = field(default_factory=list)

    def saw(self, path: object, mode: object) -> None:
        if not isinstance(path, str | bytes | os.PathLike) or not isinstance(mode, str):
            return
        if not any(flag in mode for flag in "wax+"):
            return
        name = os.fsdecode(os.fspath(path))
        if not os.path.abspath(name).startswith(self.root):
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a worker thread: fine
        self.paths.append(name)


_WATCHING: list[LoopWrites] = []  # the hook below cannot be removed, so it looks here


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _WATCHING:
        for watch in _WATCHING:
            watch.saw(args[0], args[1])


sys.addaudithook(_audit)


@pytest.fixture
def loop_writes(tmp_path: Path) -> Iterator[LoopWrites]:
    watch = LoopWrites(str(tmp_path.resolve()))
    _WATCHING.append(watch)
    yield watch
    _WATCHING.remove(watch)


async def test_an_uploaded_audio_file_is_saved_off_the_event_loop(
    tmp_path: Path, loop_writes: LoopWrites
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        body = os.urandom(3 * MB // 2)  # 1.5 MB (not audio: the render then fails, quickly)
        media = h.telegram.user_file("audio", body, file_name="big.mp3", mime_type="audio/mpeg")
        h.telegram.push_update(h.telegram.audio_message(media, caption="16:9", user_id=USER))
        await h.wait_until(lambda: bool(h.telegram.file_downloads), timeout=10)
        await h.wait_state(JobState.FAILED, timeout=20)
    assert loop_writes.paths == []


async def test_a_relayed_video_is_written_off_the_event_loop(
    tmp_path: Path, loop_writes: LoopWrites
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.refuse_video_urls()
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task, video_size=3 * MB // 2)
        await h.upstream.fire_callback(video_task, h.web)
        await h.wait_state(JobState.DELIVERED, timeout=20)
        assert any(call.files for call in h.telegram.calls_to("sendVideo"))  # it was relayed
    assert loop_writes.paths == []
