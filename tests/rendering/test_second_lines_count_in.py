"""Second lines and the count-in in a real render (docs/architecture.md §9.5, §9.6): decoded
frames show a second line's ink in its band under the sung line only while a line that has one
is sung, and the count-in's digit in its region only during the count-in.

One 5 s 9:16 render through the Renderer over a black cover, without title: "Hello world" is
sung from 3.2 s (counted in from 0.2 s: "3", "2", "1") with a second line, "again now" from
4.2 s without one. Only the lyrics are bright in their rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.lyrics.ass import karaoke_ass, layout_for
from bot.lyrics.model import AlignedLyrics, AlignedWord, SecondLine
from bot.rendering.engine import Renderer, RenderSpec
from bot.rendering.filtergraph import Clip
from bot.rendering.formats import VideoFormat
from bot.rendering.probe import Frame, decode_frame
from tests.rendering.conftest import make_media

pytestmark = pytest.mark.usefixtures("no_stray_ffmpeg")

WIDTH, HEIGHT = VideoFormat.VERTICAL.size
LAYOUT = layout_for(WIDTH, HEIGHT).with_second_lines()
WORDS = (
    AlignedWord("Hello", 3.2, 3.5, break_before=True),
    AlignedWord("world", 3.55, 3.9),
    AlignedWord("again", 4.2, 4.5, break_before=True),
    AlignedWord("now", 4.55, 4.8),
)
SECOND = SecondLine(3.2, 3.9, "Привет, мир")
BEFORE, THREE, TWO, ONE, FIRST_SUNG, SECOND_SUNG = 0.1, 0.7, 1.7, 2.7, 3.6, 4.6


def _band(centre: int, half: int) -> range:
    return range(centre - half, centre + half)


def _ink(frame: Frame, rows: range) -> int:
    """Bright pixels in `rows` (text, whatever its colour; the cover is black)."""
    return sum(
        1
        for y in rows
        for x in range(WIDTH)
        if 0.299 * (p := frame.pixel(x, y))[0] + 0.587 * p[1] + 0.114 * p[2] > 100
    )


async def _frames(renderer: Renderer, folder: Path) -> dict[float, Frame]:
    cover, audio, lyrics = folder / "black.png", folder / "tone.wav", folder / "lyrics.ass"
    make_media("-f", "lavfi", "-i", "color=c=black:s=400x400", "-frames:v", "1", str(cover))
    make_media("-f", "lavfi", "-i", "sine=f=330:d=5:sample_rate=22050", str(audio))
    document = karaoke_ass(
        AlignedLyrics(WORDS), layout_for(WIDTH, HEIGHT), second_lines=(SECOND,), count_in=True
    )
    assert document is not None
    lyrics.write_text(document, encoding="utf-8")
    spec = RenderSpec(
        audio=audio, cover=cover, title="", subtitles=lyrics, clip=Clip(start=0.0, duration=5.0)
    )
    video = await renderer.render(spec, workdir=folder / "work")
    return {
        at: await decode_frame(renderer.ffmpeg, video.path, at, WIDTH, HEIGHT)
        for at in (BEFORE, THREE, TWO, ONE, FIRST_SUNG, SECOND_SUNG)
    }


async def test_second_line_and_count_in_are_drawn_where_and_when_they_belong(
    renderer: Renderer, tmp_path: Path
) -> None:
    frames = await _frames(renderer, tmp_path)
    assert LAYOUT.second_y is not None
    second_band = _band(LAYOUT.second_y, LAYOUT.second_font_size // 2)
    count_band = _band(LAYOUT.count_y, LAYOUT.count_font_size // 2)
    current_band = _band(LAYOUT.current_y, LAYOUT.font_size // 2)
    # The second line is under "Hello world" while it is sung, and gone under "again now".
    assert _ink(frames[FIRST_SUNG], second_band) > 300
    assert _ink(frames[SECOND_SUNG], second_band) == 0
    assert _ink(frames[SECOND_SUNG], current_band) > 300  # "again now" is there, though
    # The count-in: nothing before it, a digit in each of its seconds, nothing once sung.
    assert _ink(frames[BEFORE], count_band) == 0
    digits = [_ink(frames[at], count_band) for at in (THREE, TWO, ONE)]
    assert all(ink > 300 for ink in digits), digits
    assert _ink(frames[FIRST_SUNG], count_band) == 0
    # The line to come is on screen from the count-in's start, its next line under it.
    assert _ink(frames[THREE], current_band) > 300
    assert _ink(frames[BEFORE], current_band) == 0
