"""Section looks (issue 18): the picture changes at each section start; no I/O.

Verses, the intro and the outro keep today's look. A chorus is brighter and more saturated —
stronger on a repeated one — and opens with a short flash (a cut) on its first frames; a
pre-chorus lifts a little, a bridge or break is paler. Nothing is scaled per frame: each look
is one `eq` (luma and chroma look-up tables) enabled on its sections' frames only, so the frames
of a verse pay for an expression evaluation and nothing else (docs/architecture.md §8.9).

Pure: the sections come from the music analysis (bot/music/sections.py), carried by `Motion`.
"""

from __future__ import annotations

from dataclasses import dataclass

# bot/music/sections.py's kinds (that module imports numpy; this one must not)
CHORUS, PRE_CHORUS, BRIDGE, BREAK = "chorus", "pre-chorus", "bridge", "break"


@dataclass(frozen=True, slots=True)
class SectionSpan:
    """A section's [start, end) in seconds from the output's start, its kind, how many of its
    kind came before it, and whether it begins in this output (False: a clip starts inside it)."""

    start: float
    end: float
    kind: str
    repeat: int = 0
    begins: bool = True

    def clipped(self, start: float, end: float) -> SectionSpan | None:
        """The part inside [start, end), from `start`; None when it lies outside."""
        if self.start >= end or self.end <= start:
            return None
        return SectionSpan(
            round(max(self.start, start) - start, 3),
            round(min(self.end, end) - start, 3),
            self.kind,
            self.repeat,
            self.begins and self.start >= start,
        )


@dataclass(frozen=True, slots=True)
class Look:
    """`eq` settings: brightness added to luma (-1..1), saturation factor (1 = unchanged)."""

    brightness: float
    saturation: float

    @property
    def filter(self) -> str:
        """The `eq` filter, without its `enable` option."""
        return f"eq=brightness={self.brightness:.3f}:saturation={self.saturation:.2f}"


FIRST_CHORUS = Look(0.06, 1.30)
REPEATED_CHORUS = Look(0.10, 1.50)  # any chorus after the first
LIFT = Look(0.03, 1.12)  # a pre-chorus: the build-up
PALE = Look(0.0, 0.70)  # a bridge or a break: a turn away
# A chorus opens with a flash, on top of its look: one `eq` per frame of it, brightest first.
FLASH = (Look(0.16, 1.0), Look(0.08, 1.0))


def look_of(section: SectionSpan) -> Look | None:
    """A section's look; None: today's (verse, intro, outro, other)."""
    if section.kind == CHORUS:
        return FIRST_CHORUS if section.repeat == 0 else REPEATED_CHORUS
    if section.kind == PRE_CHORUS:
        return LIFT
    if section.kind in (BRIDGE, BREAK):
        return PALE
    return None


def look_frames(
    sections: tuple[SectionSpan, ...], frames: int, fps: int
) -> list[tuple[Look, list[tuple[int, int]]]]:
    """Each look used and the inclusive runs of frames (0..frames-1) showing it, in the order
    the filters are chained: the section looks, then the flash frames of each chorus start."""
    runs: dict[Look, list[tuple[int, int]]] = {}
    flashes: list[list[tuple[int, int]]] = [[] for _ in FLASH]
    for section in sections:
        first = max(0, round(section.start * fps))
        last = min(frames, round(section.end * fps)) - 1
        look = look_of(section)
        if look is None or last < first:
            continue
        runs.setdefault(look, []).append((first, last))
        if section.kind == CHORUS and section.begins:
            for offset, frames_of_flash in enumerate(flashes):
                if first + offset <= last:
                    frames_of_flash.append((first + offset, first + offset))
    chosen = [(look, sorted(spans)) for look, spans in runs.items()]
    chosen += [(look, spans) for look, spans in zip(FLASH, flashes, strict=True) if spans]
    return chosen
