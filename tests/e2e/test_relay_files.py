"""The relay's temp files live beside the database and a start removes what a kill left there
(docs/architecture.md §6.1), end to end: the real bot against the fake Bot API and provider."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from bot.domain import JobState, Provider
from tests.e2e.harness import running_bot

USER = 4242


def is_upload(params: dict[str, object]) -> bool:
    """A sendVideo whose video is a file part, not a URL or file_id."""
    return "video" not in params


@pytest.fixture
def system_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temp folder for this test (it must stay empty)."""
    where = tmp_path / "system-temp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


async def test_a_relay_keeps_its_temp_file_in_the_data_folder(
    tmp_path: Path, system_temp: Path
) -> None:
    data = tmp_path / "data"
    async with running_bot(tmp_path, Provider.KIE, database_path=data / "bot.sqlite3") as h:
        h.telegram.refuse_video_urls()
        h.telegram.hang("sendVideo", when=is_upload)
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task, video_size=400_000)
        await h.upstream.fire_callback(video_task, h.web)
        await h.telegram.wait_for("sendVideo", lambda c: bool(c.files))

        [relayed] = (data / "relay").iterdir()  # uploading from here right now
        assert relayed.stat().st_size == 400_000
        assert list(system_temp.iterdir()) == []
        h.telegram.release_hangs()
        await h.wait_state(JobState.DELIVERED)
        assert list((data / "relay").iterdir()) == []  # removed once sent


async def test_the_start_removes_relay_files_a_killed_run_left(tmp_path: Path) -> None:
    relay = tmp_path / "relay"
    relay.mkdir()
    left = [relay / "job7-x1y2z3.mp4", relay / "job12-abcdef.mp4"]
    for path in left:
        path.write_bytes(b"\x00" * 1000)
    unrelated = relay / "notes.txt"  # not a relay file: left alone
    unrelated.write_text("operator's")
    async with running_bot(tmp_path, Provider.KIE):
        assert sorted(relay.iterdir()) == [unrelated]
