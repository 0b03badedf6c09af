"""The karaoke ASS burned in by the wheel's ffmpeg (libass): decoded frames show the lyrics.

A 4 s generated clip (lavfi colour + sine) at 360x640 with the 9:16 layout scaled to it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

from bot.lyrics.ass import karaoke_ass, layout_for
from bot.lyrics.model import AlignedLyrics, AlignedWord

WIDTH, HEIGHT, FPS, SECONDS = 360, 640, 20, 4
FRAME_BYTES = WIDTH * HEIGHT * 3
LYRICS = AlignedLyrics(
    (
        AlignedWord("Sing", 0.3, 0.8, tags=("Verse",), break_before=True),
        AlignedWord("loud", 0.8, 1.3),
        AlignedWord("again", 3.6, 3.9),  # after an instrumental gap: hidden 1.9 s to 2.6 s
    ),
    hoot_cer=0.1,
)


def _ffmpeg(*args: str, cwd: Path) -> bytes:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *args]
    done = subprocess.run(command, cwd=cwd, capture_output=True, timeout=120, check=False)  # noqa: S603 - fixed argv
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Every frame (RGB24) of the encoded and decoded clip."""
    folder = tmp_path_factory.mktemp("burn_in")
    document = karaoke_ass(LYRICS, layout_for(WIDTH, HEIGHT))
    assert document is not None
    (folder / "lyrics.ass").write_text(document, encoding="utf-8")
    colour = f"color=c=black:s={WIDTH}x{HEIGHT}:r={FPS}:d={SECONDS}"
    _ffmpeg(
        "-f", "lavfi", "-i", colour, "-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}",
        "-vf", "ass=lyrics.ass", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest", "clip.mp4",
        cwd=folder,
    )  # fmt: skip
    raw = _ffmpeg("-i", "clip.mp4", "-f", "rawvideo", "-pix_fmt", "rgb24", "-", cwd=folder)
    assert len(raw) == FRAME_BYTES * FPS * SECONDS
    return [raw[i : i + FRAME_BYTES] for i in range(0, len(raw), FRAME_BYTES)]


def _pixels(frame: bytes, rows: range, kind: str) -> int:
    """How many pixels in `rows` are text-white or sung-gold."""
    count = 0
    for row in rows:
        line = frame[row * WIDTH * 3 : (row + 1) * WIDTH * 3]
        for x in range(0, len(line), 3):
            red, green, blue = line[x], line[x + 1], line[x + 2]
            if kind == "white":
                count += red > 200 and green > 200 and blue > 200
            else:
                count += red > 180 and 140 < green < 240 and blue < 110
    return count


MIDDLE = range(HEIGHT // 3, 2 * HEIGHT // 3)
OUTSIDE = (range(HEIGHT // 3), range(2 * HEIGHT // 3, HEIGHT))


def _at(frames: list[bytes], seconds: float) -> bytes:
    return frames[round(seconds * FPS)]


def test_lyrics_show_in_the_middle_third_while_sung(frames: list[bytes]) -> None:
    before, during = _at(frames, 0.2), _at(frames, 1.05)
    assert _pixels(before, MIDDLE, "white") > 50  # the line is up before its first word
    assert _pixels(before, MIDDLE, "gold") == 0  # nothing is highlighted yet
    assert _pixels(during, MIDDLE, "gold") > 50  # "Sing" swept, "loud" sweeping
    for frame in (before, during):
        assert all(_pixels(frame, rows, "white") + _pixels(frame, rows, "gold") == 0
                   for rows in OUTSIDE)  # fmt: skip


def test_no_lyrics_during_the_instrumental_gap(frames: list[bytes]) -> None:
    gap = _at(frames, 2.25)
    assert _pixels(gap, range(HEIGHT), "white") + _pixels(gap, range(HEIGHT), "gold") == 0
    assert _pixels(_at(frames, 3.75), MIDDLE, "gold") > 0  # and back for the next line
