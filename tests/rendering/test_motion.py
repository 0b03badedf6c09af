"""The cover pulses on the beats (issue 18, docs/architecture.md §8.9).

Generated tracks with a known beat grid (tests/music/tracks.py) are analysed and stored through
`TrackAnalyses` on a real SQLite database, rendered with real ffmpeg, and decoded back: the red
cover's width is measured on one row of every frame against its darker blurred background.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from bot.engine.track_analyses import TrackAnalyses, TrackKey
from bot.rendering import Motion
from bot.rendering.engine import Renderer, RenderSpec
from bot.rendering.filtergraph import FPS, GRAPH_INLINE_MAX, Clip, enable_expression
from bot.rendering.formats import VideoFormat
from bot.rendering.layout import LAYOUTS, SAFE_FRAME
from bot.rendering.motion import (
    ACCENT_LEVEL,
    BEAT_LEVEL,
    PEAK_LEVEL,
    PULSE_LEVELS,
    cover_sizes,
    frame_runs,
    level_frames,
)
from bot.rendering.runner import Ffmpeg
from storage.db import SqliteDatabase
from storage.lyrics import AnalysisRepository
from tests.music.tracks import Track, beat_track, pad_track
from tests.rendering.conftest import FFMPEG

pytestmark = pytest.mark.usefixtures("no_stray_ffmpeg")

COVER = LAYOUTS[VideoFormat.VERTICAL].cover
ROW = COVER.y + COVER.height // 2  # an even row through the cover's middle
BEAT_SECONDS = 6.0
KEY = TrackKey("unified", "task-1", "audio-1")


@pytest.fixture
async def analyses(tmp_path: Path) -> AsyncIterator[tuple[TrackAnalyses, SqliteDatabase]]:
    async with SqliteDatabase.connect(tmp_path / "data" / "bot.sqlite3") as db:
        yield TrackAnalyses(AnalysisRepository(db)), db


@pytest.fixture(scope="module")
def beats_120(tmp_path_factory: pytest.TempPathFactory) -> tuple[Track, Path]:
    track = beat_track(120.0, BEAT_SECONDS)
    return track, track.write(tmp_path_factory.mktemp("tracks") / "beats-120.wav")


@pytest.fixture
async def beats_120_motion(
    renderer: Renderer,
    beats_120: tuple[Track, Path],
    analyses: tuple[TrackAnalyses, SqliteDatabase],
) -> Motion:
    """The 120 BPM track's motion, analysed and stored through `TrackAnalyses`."""
    motion = await analyses[0].motion(KEY, renderer.ffmpeg, beats_120[1], None)
    assert motion is not None
    return motion


async def cover_widths(video: Path) -> list[int]:
    """The red cover's width on row ROW of every frame."""
    done = await Ffmpeg(FFMPEG).run(
        [
            *("-i", str(video), "-vf", f"crop={VideoFormat.VERTICAL.width}:2:0:{ROW}"),
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"),
        ],
        time_limit=60,
    )
    rows = np.frombuffer(done.stdout, np.uint8).reshape(-1, 2, VideoFormat.VERTICAL.width, 3)
    red = (rows[:, 0, :, 0] > 180) & (rows[:, 0, :, 1] < 90)  # the blurred fill is darkened
    return [int(count) for count in red.sum(axis=1)]


def pulse_starts(widths: list[int]) -> list[int]:
    """Frames where the cover grows: a pulse's first frame is its largest."""
    return [i for i in range(1, len(widths)) if widths[i] > widths[i - 1]]


async def render(
    renderer: Renderer,
    audio: Path,
    folder: Path,
    cover: Path,
    *,
    motion: Motion | None,
    clip: Clip | None = None,
) -> Path:
    spec = RenderSpec(audio=audio, cover=cover, title="", motion=motion, clip=clip)
    return (await renderer.render(spec, workdir=folder)).path


# -- pure ---------------------------------------------------------------------------------


def test_every_pulse_level_stays_in_the_safe_frame() -> None:
    resting, levels = cover_sizes(COVER)
    assert len(levels) == PULSE_LEVELS
    assert levels[-1] == COVER  # the largest level is the layout's box: nothing grows past it
    widths = [resting.width, *(box.width for box in levels)]
    assert widths == sorted(set(widths))  # every level larger than the one before
    for box in (resting, *levels):
        assert SAFE_FRAME.contains(box)
        assert 2 * box.x + box.width == 2 * COVER.x + COVER.width  # centred
        assert 2 * box.y + box.height == 2 * COVER.y + COVER.height


def test_a_pulse_starts_on_its_beat_frame_at_its_strength_and_decays() -> None:
    # 1.0 an ordinary beat, 2.0 a downbeat, 3.0 a beat in the chorus, 4.0 a chorus downbeat.
    motion = Motion(beats=(1.0, 2.0, 3.0, 4.0), downbeats=(2.0, 4.01), choruses=((2.5, 9.0),))
    shown = level_frames(motion, frames=200, fps=FPS)
    level_of = {frame: level + 1 for level, frames in enumerate(shown) for frame in frames}
    assert [level_of.get(f, 0) for f in range(24, 29)] == [0, BEAT_LEVEL, 1, 0, 0]
    assert [level_of.get(f, 0) for f in range(50, 54)] == [ACCENT_LEVEL, 2, 1, 0]
    assert [level_of.get(f, 0) for f in range(75, 79)] == [ACCENT_LEVEL, 2, 1, 0]
    assert [level_of.get(f, 0) for f in range(100, 105)] == [PEAK_LEVEL, 3, 2, 1, 0]


def test_a_pulse_ends_at_the_next_beat_and_at_the_last_frame() -> None:
    shown = level_frames(Motion(beats=(0.0, 0.04, 0.4)), frames=11, fps=FPS)
    level_of = {frame: level + 1 for level, frames in enumerate(shown) for frame in frames}
    assert level_of == {0: BEAT_LEVEL, 1: BEAT_LEVEL, 2: 1, 10: BEAT_LEVEL}
    assert frame_runs((1, 2, 3, 7, 9, 10)) == [(1, 3), (7, 7), (9, 10)]


def test_a_clip_moves_the_beats_to_its_own_start() -> None:
    motion = Motion(beats=(1.0, 2.0, 3.0, 4.0), downbeats=(1.0, 3.0), choruses=((2.5, 9.0),))
    assert motion.clipped(1.5, 2.0) == Motion((0.5, 1.5), (1.5,), ((1.0, 2.0),))


async def test_a_long_fast_tracks_frames_are_enabled_exactly(tmp_path: Path) -> None:
    """Ten minutes at 180 BPM: the expression is too long to pass inline (it goes through a
    graph file) and too many terms for a flat sum; ffmpeg shows the overlay on its frames only."""
    frames = 10 * 60 * FPS
    motion = Motion(beats=tuple(0.3 + i / 3 for i in range(1795)), downbeats=(), choruses=())
    first, second = level_frames(motion, frames=frames, fps=FPS)[:BEAT_LEVEL]
    graph = (
        f"color=c=black:s=16x16:r={FPS}:d={frames / FPS}[base];color=c=white:s=16x16:d=1,"
        "split[mark1][mark2];"
        f"[base][mark1]overlay=0:0:enable='{enable_expression(frame_runs(first))}'[lit];"
        f"[lit][mark2]overlay=0:0:enable='{enable_expression(frame_runs(second))}',"
        "format=gray[out]"
    )
    assert len(graph) > GRAPH_INLINE_MAX
    script = tmp_path / "graph.txt"
    script.write_text(graph, encoding="utf-8")
    done = await Ffmpeg(FFMPEG).run(
        ["-/filter_complex", str(script), "-map", "[out]", "-f", "rawvideo", "pipe:1"],
        time_limit=60,
    )
    lit = np.frombuffer(done.stdout, np.uint8).reshape(-1, 256).mean(axis=1) > 128
    assert len(lit) == frames
    assert np.flatnonzero(lit).tolist() == sorted(first + second)


# -- rendered -----------------------------------------------------------------------------


async def test_the_cover_is_largest_on_each_beat(
    renderer: Renderer,
    media: Path,
    tmp_path: Path,
    beats_120: tuple[Track, Path],
    beats_120_motion: Motion,
) -> None:
    (track, audio), motion = beats_120, beats_120_motion

    video = await render(renderer, audio, tmp_path / "out", media / "red.png", motion=motion)
    widths = await cover_widths(video)

    resting, levels = cover_sizes(COVER)
    assert min(widths) == resting.width
    assert max(widths) >= levels[ACCENT_LEVEL - 1].width  # downbeats pulse stronger
    starts = pulse_starts(widths)
    beat_frames = [round(beat * FPS) for beat in track.beats]
    for start in starts:  # no pulse off the beat
        assert min(abs(start - frame) for frame in beat_frames) <= 1, (start, beat_frames)
    # every beat pulses (the tracker may leave out the first kick, after the silence)
    for frame in beat_frames[1:]:
        assert min(abs(start - frame) for start in starts) <= 1, (frame, starts)
    for start in starts:  # the largest size of each pulse is its first frame
        assert widths[start] == max(widths[start : start + 4])


async def test_a_teasers_pulses_follow_its_clip(
    renderer: Renderer,
    media: Path,
    tmp_path: Path,
    beats_120: tuple[Track, Path],
    beats_120_motion: Motion,
) -> None:
    (track, audio), motion = beats_120, beats_120_motion
    clip = Clip(start=2.1, duration=3.0)
    video = await render(
        renderer, audio, tmp_path / "out", media / "red.png", motion=motion, clip=clip
    )
    starts = pulse_starts(await cover_widths(video))
    beat_frames = [round((b - clip.start) * FPS) for b in track.beats if 2.1 < b < 5.1]
    assert len(starts) == len(beat_frames) == 6
    assert all(abs(a - b) <= 1 for a, b in zip(starts, beat_frames, strict=True))


async def test_a_drumless_track_keeps_a_still_cover(
    renderer: Renderer,
    media: Path,
    tmp_path: Path,
    analyses: tuple[TrackAnalyses, SqliteDatabase],
) -> None:
    audio = pad_track(4.0).write(tmp_path / "pads.wav")
    repo, db = analyses
    assert await repo.motion(KEY, renderer.ffmpeg, audio, None) is None
    stored = await db.fetch_one("SELECT body FROM track_analysis")
    assert stored is not None  # analysed (and stored) all the same: low confidence

    video = await render(renderer, audio, tmp_path / "out", media / "red.png", motion=None)
    assert set(await cover_widths(video)) == {COVER.width}  # today's cover, full size


async def test_a_track_is_analysed_once_and_stored(
    renderer: Renderer,
    tmp_path: Path,
    beats_120: tuple[Track, Path],
    analyses: tuple[TrackAnalyses, SqliteDatabase],
) -> None:
    _, audio = beats_120
    repo, db = analyses
    first = await repo.motion(KEY, renderer.ffmpeg, audio, None)
    assert first is not None
    # The same track again, its audio now drumless: the stored analysis is used, not a new one.
    pads = pad_track(4.0).write(tmp_path / "pads.wav")
    assert await repo.motion(KEY, renderer.ffmpeg, pads, None) == first
    # An uploaded file is its own track, keyed by its file_unique_id.
    upload = TrackKey.upload("AgADfile")
    assert await repo.motion(upload, renderer.ffmpeg, pads, None) is None
    rows = await db.fetch_all(
        "SELECT provider, task_id, audio_id FROM track_analysis ORDER BY provider"
    )
    assert [tuple(row) for row in rows] == [
        ("unified", "task-1", "audio-1"),
        ("upload", "", "AgADfile"),
    ]


async def test_an_unreadable_audio_file_renders_without_motion(
    renderer: Renderer, tmp_path: Path, analyses: tuple[TrackAnalyses, SqliteDatabase]
) -> None:
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"not audio at all" * 100)
    repo, db = analyses
    assert await repo.motion(KEY, renderer.ffmpeg, broken, None) is None
    assert await db.fetch_one("SELECT body FROM track_analysis") is None
