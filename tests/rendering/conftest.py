"""Real ffmpeg (the imageio-ffmpeg wheel's), generated short media and a renderer for tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import pytest

from bot.rendering.engine import Renderer
from bot.rendering.fonts import FontReport, detect_fonts
from bot.rendering.runner import Ffmpeg

FFMPEG = Path(imageio_ffmpeg.get_ffmpeg_exe())
RED = (230, 20, 20)


def make_media(*args: str) -> None:
    """Run the wheel's ffmpeg synchronously to prepare test inputs."""
    subprocess.run(  # noqa: S603 - the wheel's ffmpeg with arguments from the tests
        [str(FFMPEG), "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=60,
    )


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with: tone.wav (3 s stereo), red.png (a solid red 400x400 cover)."""
    folder = tmp_path_factory.mktemp("media")
    make_media(
        *("-f", "lavfi", "-i", "sine=f=440:d=3:sample_rate=44100"),
        *("-f", "lavfi", "-i", "anoisesrc=d=3:a=0.3:sample_rate=44100"),
        *("-filter_complex", "[0][1]amerge=inputs=2", str(folder / "tone.wav")),
    )
    make_media(
        *("-f", "lavfi", "-i", "color=c=0x{:02X}{:02X}{:02X}:s=400x400".format(*RED)),
        *("-frames:v", "1", str(folder / "red.png")),
    )
    return folder


@pytest.fixture(scope="session")
def font_report(tmp_path_factory: pytest.TempPathFactory) -> FontReport:
    """Fonts as the bot finds them at start (the bundled Noto CJK package included)."""
    folder = tmp_path_factory.mktemp("fontconfig")
    return asyncio.run(detect_fonts(Ffmpeg(FFMPEG), folder))


@pytest.fixture
def renderer(font_report: FontReport) -> Renderer:
    """A renderer like the bot's."""
    return Renderer(Ffmpeg(FFMPEG), font_report)


@pytest.fixture
def ffmpeg(font_report: FontReport) -> Ffmpeg:
    """The wheel's ffmpeg with the fontconfig environment."""
    return Ffmpeg(FFMPEG, font_report.env)


def processes_with(marker: str) -> list[int]:
    """Pids of live (non-zombie) processes whose command line contains `marker`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            pids.append(int(entry.name))
    return pids


@pytest.fixture
def no_stray_ffmpeg() -> Iterator[None]:
    """Fails a test that leaves an ffmpeg child of this process running."""
    yield
    me = str(os.getpid())
    strays = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z" and "ffmpeg" in (entry / "comm").read_text():
            strays.append(entry.name)
    assert not strays
