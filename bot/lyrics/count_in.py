"""When a sing-along render counts in: "3", "2", "1" before the first line and before every
line that follows a long gap (docs/architecture.md §9.6). The constants live here and only here.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.lyrics.lines import LyricLine

COUNT_IN_GAP_SECONDS = 4.0  # a line starting this long after the previous one ended is counted in
COUNT_IN_STEP_SECONDS = 1.0  # each digit is shown this long
COUNT_IN_FROM = 3  # the first digit: "3", "2", "1"


@dataclass(frozen=True, slots=True)
class CountBeat:
    """One digit of a count-in, in centiseconds from the render's start."""

    digit: str
    start: int
    end: int


def counted_lines(lines: Sequence[LyricLine]) -> tuple[int, ...]:
    """The indexes of the lines a count-in comes before: the first, and each line whose start
    is at least COUNT_IN_GAP_SECONDS after the previous line's end."""
    return tuple(
        index
        for index, line in enumerate(lines)
        if index == 0 or line.start - lines[index - 1].end >= COUNT_IN_GAP_SECONDS - 1e-9
    )


def count_in_beats(line_start_cs: int) -> tuple[CountBeat, ...]:
    """The digits before a line whose first word starts at `line_start_cs`: the last one ends
    exactly there. Digits that would start before the render's start (0: the track's start, or
    a teaser's window start) are left out, so a line 2.5 s in is counted "2", "1"."""
    step = round(COUNT_IN_STEP_SECONDS * 100)
    beats = []
    for digit in range(COUNT_IN_FROM, 0, -1):
        start = line_start_cs - digit * step
        if start >= 0:
            beats.append(CountBeat(str(digit), start, start + step))
    return tuple(beats)


def count_in_lead_cs() -> int:
    """How long a full count-in lasts, in centiseconds (the counted line shows from its start)."""
    return round(COUNT_IN_FROM * COUNT_IN_STEP_SECONDS * 100)
