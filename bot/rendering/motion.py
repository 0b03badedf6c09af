"""Beat motion of the cover (issue 18): which pre-scaled cover size each frame shows; no I/O.

The cover is not scaled per frame (that doubles the render time): it is scaled once to
`PULSE_LEVELS` sizes a little larger than its resting size, and each level is overlaid, centred,
only on the frames that show it — the beat's own frame at the beat's strength, then one level
smaller per frame back to rest (docs/architecture.md §8.9). The resting cover is smaller than
the layout's box by `REST_SCALE` so that the largest level fills the box exactly: in 9:16 the
pulse never leaves the apps' safe frame (§8.7).

Pure: the times come from the music analysis (bot/music), turned into a `Motion` by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.rendering.layout import Box
from bot.rendering.section_looks import SectionSpan

PULSE_LEVELS = (
    4  # pre-scaled sizes (measured: 4 levels +43 % render time, a per-frame scale +102 %)
)
REST_SCALE = 0.96  # the resting cover against the layout's box; the largest level is the box
# A beat's strength is the level its frame shows; each later frame shows one level less.
BEAT_LEVEL = 2  # an ordinary beat
ACCENT_LEVEL = 3  # a downbeat, or a beat in a chorus
PEAK_LEVEL = PULSE_LEVELS  # a downbeat in a chorus
_SAME_BEAT_SECONDS = 0.035  # a downbeat this close to a beat is that beat


@dataclass(frozen=True, slots=True)
class Motion:
    """Beat and downbeat times (s) and the choruses' [start, end) (s), from the output's start;
    `sections` give each section's look (section_looks.py)."""

    beats: tuple[float, ...]
    downbeats: tuple[float, ...] = ()
    choruses: tuple[tuple[float, float], ...] = ()
    sections: tuple[SectionSpan, ...] = ()

    def clipped(self, start: float, duration: float) -> Motion:
        """The motion of the part [start, start + duration) of the track, from its own start."""
        end = start + duration

        def inside(times: tuple[float, ...]) -> tuple[float, ...]:
            return tuple(round(t - start, 3) for t in times if start <= t < end)

        choruses = tuple(
            (max(a, start) - start, min(b, end) - start)
            for a, b in self.choruses
            if a < end and b > start
        )
        sections = tuple(
            part for part in (s.clipped(start, end) for s in self.sections) if part is not None
        )
        return Motion(inside(self.beats), inside(self.downbeats), choruses, sections)


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def cover_sizes(box: Box) -> tuple[Box, tuple[Box, ...]]:
    """The resting cover's box and the levels' boxes (growing; the last is `box`), all centred
    on `box`'s centre with even sizes."""
    centre_x2, centre_y2 = 2 * box.x + box.width, 2 * box.y + box.height

    def scaled(scale: float) -> Box:
        width, height = _even(box.width * scale), _even(box.height * scale)
        return Box((centre_x2 - width) // 2, (centre_y2 - height) // 2, width, height)

    step = (1.0 - REST_SCALE) / PULSE_LEVELS
    levels = tuple(scaled(REST_SCALE + step * k) for k in range(1, PULSE_LEVELS))
    return scaled(REST_SCALE), (*levels, box)


def beat_strength(at: float, motion: Motion) -> int:
    """The level a beat's own frame shows."""
    downbeat = any(abs(at - d) <= _SAME_BEAT_SECONDS for d in motion.downbeats)
    chorus = any(a <= at < b for a, b in motion.choruses)
    if downbeat and chorus:
        return PEAK_LEVEL
    return ACCENT_LEVEL if downbeat or chorus else BEAT_LEVEL


def level_frames(motion: Motion, frames: int, fps: int) -> tuple[tuple[int, ...], ...]:
    """For each level 1..PULSE_LEVELS, the frames (0..frames-1) that show it, ascending.

    A beat's frame is the nearest one to its time; a pulse is cut short by the next beat's."""
    starts = sorted({round(t * fps): t for t in motion.beats if t >= 0}.items())
    shown: list[list[int]] = [[] for _ in range(PULSE_LEVELS)]
    for index, (frame, at) in enumerate(starts):
        next_frame = starts[index + 1][0] if index + 1 < len(starts) else frames
        level = beat_strength(at, motion)
        for offset in range(level):
            current = frame + offset
            if current >= min(next_frame, frames):
                break
            shown[level - offset - 1].append(current)
    return tuple(tuple(levels) for levels in shown)


def frame_runs(frames: tuple[int, ...]) -> list[tuple[int, int]]:
    """Ascending frame numbers as inclusive runs of consecutive frames."""
    runs: list[tuple[int, int]] = []
    for frame in frames:
        if runs and runs[-1][1] == frame - 1:
            runs[-1] = (runs[-1][0], frame)
        else:
            runs.append((frame, frame))
    return runs
