"""The ffmpeg runner: progress, failure tail, time limit, cancel kills the group, low priority."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import pytest

from bot.rendering.errors import FfmpegFailed, RenderTimedOut
from bot.rendering.runner import CHILD_ENV_NAMES, NICENESS, Ffmpeg
from tests.rendering.conftest import FFMPEG, processes_with

pytestmark = pytest.mark.usefixtures("no_stray_ffmpeg")


def _endless(marker: str) -> list[str]:
    """An encode that runs until stopped; `marker` finds it in /proc."""
    return [
        *("-re", "-f", "lavfi", "-i", "sine=f=440:sample_rate=8000"),
        *("-metadata", f"comment={marker}", "-f", "null", "-"),
    ]


async def _wait_for_process(marker: str) -> int:
    async with asyncio.timeout(20):
        while not (pids := processes_with(marker)):
            await asyncio.sleep(0.05)
    return pids[0]


async def test_progress_is_reported_up_to_one() -> None:
    seen: list[float] = []
    await Ffmpeg(FFMPEG).run(
        ["-f", "lavfi", "-i", "sine=d=2", "-f", "null", "-"],
        time_limit=30,
        progress=(2.0, seen.append),
    )
    assert seen
    assert seen == sorted(seen)
    assert seen[-1] == 1.0


async def test_failure_keeps_the_stderr_tail() -> None:
    with pytest.raises(FfmpegFailed) as info:
        await Ffmpeg(FFMPEG).run(["-i", "/nonexistent/in.wav", "-f", "null", "-"], time_limit=30)
    assert info.value.returncode != 0
    assert "No such file or directory" in info.value.stderr_tail


async def test_time_limit_kills_the_process() -> None:
    marker = uuid.uuid4().hex
    task = asyncio.create_task(Ffmpeg(FFMPEG).run(_endless(marker), time_limit=1.0))
    pid = await _wait_for_process(marker)
    with pytest.raises(RenderTimedOut):
        await task
    assert processes_with(marker) == []
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_cancel_kills_the_whole_group_at_lower_priority() -> None:
    marker = uuid.uuid4().hex
    task = asyncio.create_task(Ffmpeg(FFMPEG).run(_endless(marker), time_limit=60))
    pid = await _wait_for_process(marker)
    assert os.getpgid(pid) == pid != os.getpgid(0)  # a process group of its own
    nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
    assert nice >= min(NICENESS, 19)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert processes_with(marker) == []
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


async def test_ffmpeg_dies_with_a_parent_killed_by_sigkill() -> None:
    """A render worker killed -9 cannot stop its ffmpeg: the parent-death signal does
    (docs/architecture.md §8.8)."""
    marker = uuid.uuid4().hex
    script = (
        "import asyncio, os\n"
        "from pathlib import Path\n"
        "from bot.rendering.runner import Ffmpeg\n"
        "from tests.rendering.test_runner import _endless\n"
        f"args = _endless(os.environ['MARKER'])\n"
        f"asyncio.run(Ffmpeg(Path({str(FFMPEG)!r})).run(args, time_limit=60))\n"
    )
    # The marker reaches the parent through its environment: only ffmpeg's argv carries it.
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, env={**os.environ, "MARKER": marker}
    )
    pid = await _wait_for_process(marker)
    assert pid != parent.pid
    parent.kill()
    await parent.wait()
    async with asyncio.timeout(5):  # gone (a zombie at most, until init reaps it)
        while processes_with(marker):
            await asyncio.sleep(0.05)


async def test_event_loop_stays_responsive_while_ffmpeg_runs() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    await Ffmpeg(FFMPEG).run(
        ["-f", "lavfi", "-i", "testsrc=d=1:s=640x360", "-c:v", "libx264", "-f", "null", "-"],
        time_limit=30,
    )
    ticking.cancel()
    assert ticks > 5


async def test_ffmpeg_children_get_a_minimal_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in FFMPEG_BINARY dumps its environment: no token, no key, only what ffmpeg needs."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-TOKEN")
    monkeypatch.setenv("MUSIC_API_KEY", "secret-api-key")
    monkeypatch.setenv("CALLBACK_SECRET", "secret-callbacks")
    monkeypatch.setenv("FONTCONFIG_PATH", "/some/fonts")
    monkeypatch.setenv("LANG", "C.UTF-8")
    stand_in = tmp_path / "ffmpeg"
    stand_in.write_text('#!/bin/sh\nfor last; do :; done\nenv > "$last"\n')
    stand_in.chmod(0o755)
    dump = tmp_path / "env.txt"
    await Ffmpeg(stand_in, {"FONTCONFIG_FILE": "/fonts.conf"}).run([str(dump)], time_limit=30)
    seen = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert "SECRET" not in dump.read_text().upper()
    assert not {"TELEGRAM_BOT_TOKEN", "MUSIC_API_KEY", "CALLBACK_SECRET"} & set(seen)
    assert seen["FONTCONFIG_FILE"] == "/fonts.conf"
    assert seen["FONTCONFIG_PATH"] == "/some/fonts"
    assert seen["LANG"] == "C.UTF-8"
    assert seen["PATH"] == os.environ["PATH"]
    shell_own = {"PWD", "SHLVL", "_", "OLDPWD"}  # set by the stand-in's shell itself
    allowed = {name for name in os.environ if name in CHILD_ENV_NAMES} | {"FONTCONFIG_PATH"}
    assert set(seen) - shell_own <= allowed | {"FONTCONFIG_FILE"}
