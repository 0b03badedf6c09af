"""Canvas loops (issue 20, docs/architecture.md §10.3): rendered with real ffmpeg, decoded back.

Generated tracks with a known beat grid (tests/music/tracks.py) are analysed with the bot's own
analysis; the loop is rendered over a detailed test-card cover (a solid colour would hide most
of the cover's motion from the seam metric) and decoded with the wheel's ffmpeg. The seam is the
mean absolute difference of the first and the last decoded grey frame, in % of full scale.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import numpy as np
import pytest

from bot.music.track import TrackAnalysis, analyse_track
from bot.rendering.loop import (
    LOOP_MAX_BYTES,
    RenderedLoop,
    build_loop_args,
    build_loop_graph,
    plan_loop,
    render_loop,
)
from bot.rendering.loop_plan import (
    FALLBACK_FRAMES,
    FPS,
    MAX_SECONDS,
    MIN_SECONDS,
    REST_SIDE,
    LoopMode,
    LoopTiming,
    forward_back_timing,
    frame_sides,
    loop_timing,
)
from bot.rendering.probe import probe
from bot.rendering.runner import Ffmpeg
from tests.music.tracks import Track, beat_track, pad_track
from tests.rendering.conftest import FFMPEG, make_media, processes_with

pytestmark = pytest.mark.usefixtures("no_stray_ffmpeg")

SEAM_MAX = 0.01
WINDOW_START = 3.0  # the chorus window's start in the generated tracks


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("loop")


@pytest.fixture(scope="module")
def card(folder: Path) -> Path:
    """A detailed 600x600 cover: colour bars, a gradient, a checker pattern."""
    path = folder / "card.png"
    make_media("-f", "lavfi", "-i", "testsrc2=s=600x600", "-frames:v", "1", str(path))
    return path


@pytest.fixture(scope="module")
def beats_120(folder: Path) -> tuple[Track, TrackAnalysis]:
    track = beat_track(120.0, 14.0)
    audio = track.write(folder / "beats-120.wav")
    return track, asyncio.run(analyse_track(Ffmpeg(FFMPEG), audio))


@pytest.fixture(scope="module")
def beat_loop(folder: Path, card: Path, beats_120: tuple[Track, TrackAnalysis]) -> RenderedLoop:
    timing = plan_loop(beats_120[1], WINDOW_START)
    return asyncio.run(render_loop(Ffmpeg(FFMPEG), card, timing, folder / "beat-loop.mp4"))


async def grey_frames(video: Path, frames: list[int]) -> list[np.ndarray]:  # type: ignore[type-arg]
    """The given frames (0-based, negative from the end) as full-size grey pictures (float)."""
    total = await frame_count(video)
    wanted = sorted({f % total for f in frames})
    select = "+".join(f"eq(n,{f})" for f in wanted)
    done = await Ffmpeg(FFMPEG).run(
        [
            *("-i", str(video), "-vf", f"select='{select}'", "-fps_mode", "passthrough"),
            *("-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"),
        ],
        time_limit=60,
    )
    pictures = np.frombuffer(done.stdout, np.uint8).reshape(len(wanted), 1280, 720)
    by_frame = dict(zip(wanted, pictures.astype(np.float64), strict=True))
    return [by_frame[f % total] for f in frames]


async def frame_count(video: Path) -> int:
    """How many frames the file decodes to (each decoded at 4x4)."""
    done = await Ffmpeg(FFMPEG).run(
        ["-i", str(video), "-vf", "scale=4:4", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"],
        time_limit=60,
    )
    return len(done.stdout) // 16


def difference(a: np.ndarray, b: np.ndarray) -> float:  # type: ignore[type-arg]
    """Mean absolute difference of two grey pictures, 0..1."""
    return float(np.abs(a - b).mean() / 255)


def top_level_boxes(mp4: bytes) -> list[bytes]:
    """The MP4's top-level box types in file order."""
    boxes, at = [], 0
    while at + 8 <= len(mp4):
        size = int.from_bytes(mp4[at : at + 4], "big")
        boxes.append(mp4[at + 4 : at + 8])
        if size == 1:  # a 64-bit size follows the type
            size = int.from_bytes(mp4[at + 8 : at + 16], "big")
        if size < 8:
            break
        at += size
    return boxes


async def seam(video: Path) -> float:
    first, last = await grey_frames(video, [0, -1])
    return difference(first, last)


# -- pure -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bpm", [50.0, 60.0, 72.0, 90.0, 100.0, 120.0, 128.0, 140.0, 174.0, 220.0])
def test_a_loop_is_whole_beats_within_a_frame_and_3_to_8_seconds(bpm: float) -> None:
    beat = 60.0 / bpm
    beats = [0.4 + i * beat for i in range(200)]
    timing = loop_timing(beats, beats[::4], True, 10.0)
    assert timing.mode is LoopMode.BEATS
    assert timing.beats % 4 == 0  # whole bars: one always fits in 3..8 s at 50..220 BPM
    assert MIN_SECONDS <= timing.duration <= MAX_SECONDS
    assert abs(timing.duration - timing.beats * beat) <= 0.5 / FPS + 1e-9
    assert min(abs(timing.start - d) for d in beats[::4]) <= 0.001  # a downbeat…
    assert 10.0 - 0.05 <= timing.start < 10.0 + 4 * beat  # …the first at/after the window
    assert abs(timing.duration - 6.0) <= 2 * beat + 0.5 / FPS  # the bar count closest to 6 s
    assert timing.beat_frame(timing.beats) == timing.frames  # beat N is frame 0 again


def test_the_loop_starts_on_a_beat_when_no_downbeat_is_known() -> None:
    beats = [0.3 + i * 0.45 for i in range(60)]
    timing = loop_timing(beats, (), True, 5.0)
    assert timing.start == round(beats[11], 3)  # the first beat at/after 5.0 s
    assert not timing.accents
    assert loop_timing(beats, (), False, 5.0).mode is LoopMode.FORWARD_BACK
    assert plan_loop(None, 5.0) == forward_back_timing(5.0)


def test_the_motion_repeats_and_the_last_frame_is_the_first_picture() -> None:
    beats = [0.3 + i * 60 / 128 for i in range(60)]
    timing = loop_timing(beats, beats[::4], True, 2.0)
    sides = frame_sides(timing)
    assert len(sides) == timing.frames
    assert sides[-1] == sides[0] > REST_SIDE  # the peak held on the frame before the beat
    starts = [f for f in range(1, len(sides)) if sides[f] > sides[f - 1]]
    assert starts == [timing.beat_frame(i) - 1 for i in range(1, timing.beats + 1)]
    back = frame_sides(forward_back_timing(0.0))
    assert len(back) == FALLBACK_FRAMES
    assert back == back[::-1]
    assert back[0] == REST_SIDE < max(back)


# -- rendered -------------------------------------------------------------------------------


async def test_a_beat_loop_is_a_silent_seamless_720x1280_mp4_of_whole_beats(
    beat_loop: RenderedLoop, beats_120: tuple[Track, TrackAnalysis]
) -> None:
    track, _ = beats_120
    timing = beat_loop.timing
    assert timing.mode is LoopMode.BEATS
    assert timing.accents
    assert min(abs(timing.start - d) for d in track.downbeats) <= 0.03  # a true downbeat
    assert timing.start >= WINDOW_START - 0.05
    true_length = timing.beats * 0.5  # 120 BPM
    info = await probe(Ffmpeg(FFMPEG), beat_loop.path)
    assert info.audio is None
    assert not beat_loop.has_audio
    assert info.video is not None
    assert (info.video.width, info.video.height) == (720, 1280)
    assert info.video.codec == "h264"
    assert info.video.pixel_format == "yuv420p"
    assert await frame_count(beat_loop.path) == timing.frames
    assert abs(timing.frames / FPS - true_length) <= 1 / FPS
    assert info.duration is not None
    assert abs(info.duration - true_length) <= 1 / FPS
    assert MIN_SECONDS <= beat_loop.duration <= MAX_SECONDS
    assert beat_loop.size <= LOOP_MAX_BYTES
    boxes = top_level_boxes(beat_loop.path.read_bytes())
    assert boxes.index(b"moov") < boxes.index(b"mdat")  # +faststart: the index first
    assert await seam(beat_loop.path) <= SEAM_MAX


async def test_the_cover_pulses_on_the_loops_beats(beat_loop: RenderedLoop) -> None:
    """Not a still picture (which would pass the seam trivially): the peak of each beat differs
    from the rest half a beat later by more than the seam allows."""
    timing = beat_loop.timing
    beat = timing.beat_frame(1)
    peaks = [timing.beat_frame(i) for i in range(timing.beats)]
    frames = await grey_frames(beat_loop.path, [*peaks, *(p + beat // 2 for p in peaks)])
    half = len(peaks)
    for peak, rest in zip(frames[:half], frames[half:], strict=True):
        assert difference(peak, rest) > SEAM_MAX


async def test_a_loop_half_a_beat_too_long_fails_the_seam(
    folder: Path, card: Path, beat_loop: RenderedLoop
) -> None:
    """The metric is sharp: the same motion cut half a beat later measures far over 1 %."""
    timing = beat_loop.timing
    longer = LoopTiming(
        LoopMode.BEATS,
        timing.start,
        round((timing.beats + 4) * timing.beat_seconds * FPS),
        timing.beats + 4,
        timing.beat_seconds,
        timing.accents,
    )
    cut = round((timing.beats + 0.5) * timing.beat_seconds * FPS)
    output = folder / "half-beat-off.mp4"
    graph = build_loop_graph(frame_sides(longer))
    await Ffmpeg(FFMPEG).run(build_loop_args(card, output, cut, graph), time_limit=60)
    assert await frame_count(output) == cut
    assert await seam(output) > 2 * SEAM_MAX


async def test_a_track_without_a_confident_beat_loops_forward_and_back(
    folder: Path, card: Path
) -> None:
    audio = pad_track(8.0).write(folder / "pads.wav")
    analysis = await analyse_track(Ffmpeg(FFMPEG), audio)
    assert not analysis.pulse
    timing = plan_loop(analysis, WINDOW_START)
    assert timing.mode is LoopMode.FORWARD_BACK
    assert timing.start == WINDOW_START
    loop = await render_loop(Ffmpeg(FFMPEG), card, timing, folder / "forward-back.mp4")
    assert not loop.has_audio
    assert (loop.width, loop.height) == (720, 1280)
    assert abs(loop.duration - 6.0) <= 1 / FPS
    assert await frame_count(loop.path) == FALLBACK_FRAMES
    assert loop.size <= LOOP_MAX_BYTES
    assert await seam(loop.path) <= SEAM_MAX
    first, early, middle, mirrored = await grey_frames(loop.path, [0, 30, 74, -31])
    assert difference(first, middle) > 2 * SEAM_MAX  # it moves…
    assert difference(early, mirrored) <= SEAM_MAX  # …and plays the same frames back


async def test_a_cancelled_loop_render_stops_ffmpeg_and_leaves_no_file(
    tmp_path: Path, card: Path
) -> None:
    output = tmp_path / "cancelled.mp4"
    timing = forward_back_timing(0.0)
    task = asyncio.create_task(render_loop(Ffmpeg(FFMPEG), card, timing, output))
    for _ in range(200):  # until its ffmpeg runs
        await asyncio.sleep(0.01)
        if processes_with(str(output)):
            break
    assert processes_with(str(output))
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert not processes_with(str(output))
    assert not output.exists()
