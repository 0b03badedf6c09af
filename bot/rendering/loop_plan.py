"""A Canvas loop's timing and motion (issue 20): how long it runs and the cover's size on every
frame; no I/O (docs/architecture.md §10.3).

A loop must repeat without a seam: its first frame and its last look the same, and the frame
after its last *is* its first. Everything here is a function of the frame number modulo the
loop's length, so nothing drifts:

- **Beat loop** (the beats are trusted, `TrackAnalysis.pulse`): N whole beats from a beat (a
  downbeat when known) at or after the chorus window's start, N chosen so the loop lasts 3-8 s,
  whole bars first, then closest to 6 s. It lasts `frames = round(N * beat * FPS)` frames (so
  within half a frame of N beats), and beat i of the loop is drawn on frame
  `round(i * frames / N)`: the grid is stretched by at most half a frame over the whole loop, so
  beat N lands on frame `frames`, which is frame 0 again. The cover pulses as in the video
  (motion.py's idea: a few pre-scaled sizes, each overlaid on its frames only), but the peak is
  held on the frame before the beat too: the last frame is the peak of the loop's first beat,
  the same picture as frame 0.
- **Forward-back loop** (no confident beat): 6 s, a slow, eased push-in of the cover for 3 s,
  then the same frames in reverse order; the last frame is frame 0's picture.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.rendering.layout import Box

FPS = 25
WIDTH, HEIGHT = 720, 1280  # Spotify Canvas: 9:16
MIN_SECONDS, MAX_SECONDS, TARGET_SECONDS = 3.0, 8.0, 6.0
BAR = 4  # beats a bar (the tracker assumes 4/4, bot/music/analysis.py)
ON_BEAT_SECONDS = 0.05  # a beat this close before the window's start counts as at it
TEMPO_SPAN_SECONDS = 12.0  # the beat length is the median interval in this span from the start
# The cover: centred, at most MAX_SIDE wide; it rests at REST_SIDE and pulses up to MAX_SIDE on
# an accented beat (a downbeat), ACCENT_SHARE of the way on any other beat.
MAX_SIDE = 624
REST_SIDE = 580
BEAT_SHARE = 0.6
DECAY_FRAMES = 4  # frames after the beat's own back to rest (cut short by the next beat)
# Forward-back: FALLBACK_FRAMES in all, the cover eases from REST_SIDE to GENTLE_SIDE and back.
FALLBACK_FRAMES = 150  # 6 s
GENTLE_SIDE = 612


class LoopMode(StrEnum):
    """How the loop repeats."""

    BEATS = "beats"
    FORWARD_BACK = "forward-back"


@dataclass(frozen=True, slots=True)
class LoopTiming:
    """Where the loop starts in the track (s), how many frames it lasts at FPS, and, for a beat
    loop, how many beats it spans, the beat's length (s) and whether its bars are accented."""

    mode: LoopMode
    start: float
    frames: int
    beats: int = 0
    beat_seconds: float = 0.0
    accents: bool = False

    @property
    def duration(self) -> float:
        """The loop's length in seconds."""
        return self.frames / FPS

    def beat_frame(self, index: int) -> int:
        """The frame beat `index` of the loop is drawn on (beat `beats` is frame `frames`)."""
        return round(index * self.frames / self.beats)


def _beat_length(beats: Sequence[float], start: float) -> float:
    near = [t for t in beats if start - ON_BEAT_SECONDS <= t <= start + TEMPO_SPAN_SECONDS]
    chosen = near if len(near) >= 3 else list(beats)
    return float(statistics.median(b - a for a, b in itertools.pairwise(chosen)))


def _beat_count(beat: float) -> int | None:
    """N: whole bars first, then the length closest to TARGET_SECONDS (to the millisecond; the
    shorter of two as close), inside the bounds (kept a frame away from them, so the rounding to
    frames cannot leave them)."""
    low, high = MIN_SECONDS + 1 / FPS, MAX_SECONDS - 1 / FPS
    fitting = [n for n in range(1, int(high / beat) + 1) if low <= n * beat <= high]
    if not fitting:
        return None
    return min(fitting, key=lambda n: (n % BAR != 0, round(abs(n * beat - TARGET_SECONDS), 3), n))


def forward_back_timing(start: float) -> LoopTiming:
    """The 6 s forward-back loop from `start`."""
    return LoopTiming(LoopMode.FORWARD_BACK, start, FALLBACK_FRAMES)


def loop_timing(
    beats: Sequence[float], downbeats: Sequence[float], confident: bool, window_start: float
) -> LoopTiming:
    """The loop for a track's beats (s from the track's start) and its chorus window's start."""
    start = max(0.0, window_start)
    if not confident or len(beats) < 2:
        return forward_back_timing(start)
    later_downbeats = [t for t in downbeats if t >= start - ON_BEAT_SECONDS]
    later_beats = [t for t in beats if t >= start - ON_BEAT_SECONDS]
    first = (later_downbeats or later_beats or [beats[0]])[0]
    beat = _beat_length(beats, first)
    count = _beat_count(beat) if beat > 0 else None
    if count is None:
        return forward_back_timing(start)
    return LoopTiming(
        LoopMode.BEATS,
        start=round(first, 3),
        frames=round(count * beat * FPS),
        beats=count,
        beat_seconds=beat,
        accents=bool(later_downbeats) and first in later_downbeats and count % BAR == 0,
    )


def _even(value: float) -> int:
    return 2 * round(value / 2)


def _beat_sizes(timing: LoopTiming) -> list[int]:
    """Each frame's cover side: the peak on the frame before a beat and on the beat's own, then
    down to rest over DECAY_FRAMES (linear), a beat's pulse cut short by the next one's."""
    shares = [0.0] * timing.frames
    for index in range(timing.beats):
        frame = timing.beat_frame(index)
        following = timing.beat_frame(index + 1)
        peak = 1.0 if timing.accents and index % BAR == 0 else BEAT_SHARE
        shares[(frame - 1) % timing.frames] = max(shares[(frame - 1) % timing.frames], peak)
        for offset in range(DECAY_FRAMES + 1):
            if frame + offset >= following - 1 and offset > 0:
                break  # the next beat's pre-beat frame takes over
            share = peak * (1 - offset / (DECAY_FRAMES + 1))
            at = (frame + offset) % timing.frames
            shares[at] = max(shares[at], share)
    return [_even(REST_SIDE + share * (MAX_SIDE - REST_SIDE)) for share in shares]


def _forward_back_sizes(frames: int) -> list[int]:
    """An eased push-in over the first half, the same sides backwards over the second."""
    half = frames // 2
    forward = []
    for frame in range(half):
        x = frame / max(1, half - 1)
        eased = x * x * (3 - 2 * x)  # smoothstep: no jolt at either end
        forward.append(_even(REST_SIDE + eased * (GENTLE_SIDE - REST_SIDE)))
    return forward + forward[::-1] + forward[:1] * (frames - 2 * half)


def frame_sides(timing: LoopTiming) -> tuple[int, ...]:
    """The cover's side (px, even) on every frame of the loop."""
    if timing.mode is LoopMode.BEATS:
        return tuple(_beat_sizes(timing))
    return tuple(_forward_back_sizes(timing.frames))


def cover_box(side: int) -> Box:
    """The cover's box at `side`, centred in the 720x1280 frame."""
    return Box((WIDTH - side) // 2, (HEIGHT - side) // 2, side, side)


def frames_by_side(sides: Sequence[int]) -> dict[int, tuple[int, ...]]:
    """For each side other than the resting one, the frames showing it (ascending)."""
    shown: dict[int, list[int]] = {}
    for frame, side in enumerate(sides):
        if side != REST_SIDE:
            shown.setdefault(side, []).append(frame)
    return {side: tuple(frames) for side, frames in sorted(shown.items())}
