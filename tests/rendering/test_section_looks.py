"""The look changes at each section start (issue 18, docs/architecture.md §8.9).

A generated 120 BPM track (tests/music/tracks.py) with `[Verse]`/`[Chorus]` timestamped lyrics
is analysed and stored through `TrackAnalyses` on a real SQLite database, rendered with real
ffmpeg at 9:16 and decoded back: the mean luma of the blurred background's top band (nothing
else is drawn there) is measured on every frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.engine.track_analyses import TrackAnalyses, TrackKey
from bot.lyrics.model import WordToken, aligned_lyrics
from bot.rendering import Motion
from bot.rendering.engine import Renderer, RenderSpec
from bot.rendering.filtergraph import FPS, Clip
from bot.rendering.formats import VideoFormat
from bot.rendering.runner import Ffmpeg
from bot.rendering.section_looks import (
    FIRST_CHORUS,
    FLASH,
    LIFT,
    PALE,
    REPEATED_CHORUS,
    SectionSpan,
    look_frames,
)
from storage.db import SqliteDatabase
from storage.lyrics import AnalysisRepository
from tests.music.tracks import Track, beat_track
from tests.rendering.conftest import FFMPEG

pytestmark = pytest.mark.usefixtures("no_stray_ffmpeg")

BEAT_FRAMES = 0.5 * FPS  # one beat at 120 BPM
# Tags sung a little off the downbeats (0.35 + 2 k s): the sections are snapped onto them.
TAGS = ((0.4, "Verse"), (4.3, "Chorus"), (6.4, "Verse 2"), (8.4, "Chorus"))
CHORUS_STARTS = (4.3, 8.4)
BAND = (24, 128)  # rows of the top band: y 24..151, above the cover (y 172) and the title


@pytest.fixture(scope="module")
def tagged_track(tmp_path_factory: pytest.TempPathFactory) -> tuple[Track, Path]:
    track = beat_track(120.0, 11.0)
    return track, track.write(tmp_path_factory.mktemp("tracks") / "verse-chorus.wav")


@pytest.fixture
async def motion(tmp_path: Path, renderer: Renderer, tagged_track: tuple[Track, Path]) -> Motion:
    tokens = [WordToken(f"[{tag}]\nla", at, at + 0.3) for at, tag in TAGS]
    tokens += [WordToken("la", at + 0.8, at + 1.1) for at, _ in TAGS]
    async with SqliteDatabase.connect(tmp_path / "data" / "bot.sqlite3") as db:
        found = await TrackAnalyses(AnalysisRepository(db)).motion(
            TrackKey("unified", "task-1", "audio-1"),
            renderer.ffmpeg,
            tagged_track[1],
            aligned_lyrics(tokens),
        )
    assert found is not None
    return found


async def band_luma(video: Path) -> np.ndarray:
    """The mean luma of the top band on every frame."""
    width = VideoFormat.VERTICAL.width
    done = await Ffmpeg(FFMPEG).run(
        [
            *("-i", str(video), "-vf", f"crop={width}:{BAND[1]}:0:{BAND[0]},format=gray"),
            *("-f", "rawvideo", "pipe:1"),
        ],
        time_limit=60,
    )
    return np.frombuffer(done.stdout, np.uint8).reshape(-1, BAND[1] * width).mean(axis=1)


def first_change(luma: np.ndarray, after: int, level: float) -> int:
    """The first frame from `after` on whose luma differs from `level` by more than 2."""
    return after + int(np.flatnonzero(np.abs(luma[after:] - level) > 2.0)[0])


# -- pure ---------------------------------------------------------------------------------


def test_each_section_kind_has_its_look_and_a_chorus_opens_with_a_flash() -> None:
    sections = (
        SectionSpan(0.0, 2.0, "intro"),
        SectionSpan(2.0, 4.0, "pre-chorus"),
        SectionSpan(4.0, 6.0, "chorus"),
        SectionSpan(6.0, 7.0, "bridge"),
        SectionSpan(7.0, 8.0, "chorus", repeat=1),
        SectionSpan(8.0, 9.0, "verse", repeat=1),
    )
    looks = dict(look_frames(sections, frames=200, fps=FPS))
    assert looks == {
        LIFT: [(50, 99)],
        FIRST_CHORUS: [(100, 149)],
        PALE: [(150, 174)],
        REPEATED_CHORUS: [(175, 199)],
        FLASH[0]: [(100, 100), (175, 175)],
        FLASH[1]: [(101, 101), (176, 176)],
    }
    assert REPEATED_CHORUS.brightness > FIRST_CHORUS.brightness > 0
    assert REPEATED_CHORUS.saturation > FIRST_CHORUS.saturation > 1


def test_a_clip_keeps_the_sections_and_flashes_only_where_one_begins() -> None:
    motion = Motion(
        beats=(1.0,),
        sections=(
            SectionSpan(0.0, 4.0, "verse"),
            SectionSpan(4.0, 6.0, "chorus"),
            SectionSpan(6.0, 9.0, "chorus", repeat=1),
        ),
    )
    clipped = motion.clipped(4.5, 3.0)
    assert clipped.sections == (
        SectionSpan(0.0, 1.5, "chorus", 0, begins=False),
        SectionSpan(1.5, 3.0, "chorus", 1),
    )
    looks = dict(look_frames(clipped.sections, frames=75, fps=FPS))
    assert looks[FLASH[0]] == [(38, 38)]  # the repeated chorus's start, not the clip's
    assert motion.clipped(0.0, 3.0).sections == (SectionSpan(0.0, 3.0, "verse"),)


# -- rendered -----------------------------------------------------------------------------


async def test_a_chorus_looks_different_from_the_verse_from_its_start(
    renderer: Renderer,
    media: Path,
    tmp_path: Path,
    tagged_track: tuple[Track, Path],
    motion: Motion,
) -> None:
    assert [(s.kind, s.repeat) for s in motion.sections] == [
        ("verse", 0),
        ("chorus", 0),
        ("verse", 1),
        ("chorus", 1),
    ]
    spec = RenderSpec(audio=tagged_track[1], cover=media / "red.png", title="", motion=motion)
    luma = await band_luma((await renderer.render(spec, workdir=tmp_path / "out")).path)

    verse = float(np.median(luma[10:90]))  # 0.4 .. 3.6 s
    start = first_change(luma, 90, verse)
    assert abs(start - CHORUS_STARTS[0] * FPS) <= BEAT_FRAMES, start  # within ±1 beat
    first_chorus = float(np.median(luma[start + 5 : start + 45]))
    assert first_chorus > verse + 8  # brighter for the whole section
    assert luma[start] > first_chorus + 8  # the cut: a flash on its first frame

    second_verse = float(np.median(luma[170:205]))  # 6.8 .. 8.2 s
    assert abs(second_verse - verse) <= 1  # back to today's look
    again = first_change(luma, 205, second_verse)
    assert abs(again - CHORUS_STARTS[1] * FPS) <= BEAT_FRAMES, again
    assert luma[again] > first_chorus + 8
    repeated = float(np.median(luma[again + 5 : again + 45]))
    assert repeated > first_chorus + 4  # a repeated chorus is stronger than the first


async def test_a_teasers_look_shifts_at_the_chorus_in_its_clip(
    renderer: Renderer,
    media: Path,
    tmp_path: Path,
    tagged_track: tuple[Track, Path],
    motion: Motion,
) -> None:
    clip = Clip(start=2.6, duration=3.2)
    spec = RenderSpec(
        audio=tagged_track[1], cover=media / "red.png", title="", motion=motion, clip=clip
    )
    luma = await band_luma((await renderer.render(spec, workdir=tmp_path / "out")).path)
    verse = float(np.median(luma[5:30]))
    start = first_change(luma, 30, verse)
    assert abs(start - (CHORUS_STARTS[0] - clip.start) * FPS) <= BEAT_FRAMES, start
    assert float(np.median(luma[start + 5 : start + 30])) > verse + 8
