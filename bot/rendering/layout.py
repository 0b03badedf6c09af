"""Where the cover, texts and visualisation go in each format, and fitting text; no I/O.

In 9:16 the middle third of the frame is kept free of the visualisation: karaoke lyrics
(a later subtitles layer) are drawn there.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.rendering.fonts import Script, script_of
from bot.rendering.formats import VideoFormat


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in output pixels."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class TextSlot:
    """A line of text: top y, font size, the widest it may be; x=None means centred."""

    y: int
    size: int
    max_width: int
    x: int | None = None


@dataclass(frozen=True, slots=True)
class Layout:
    """Positions of every layer for one format."""

    cover: Box
    visualisation: Box
    title: TextSlot
    author: TextSlot
    domain: TextSlot
    domain_right_aligned: bool = False


LAYOUTS = {
    VideoFormat.VERTICAL: Layout(
        cover=Box(60, 110, 600, 600),
        title=TextSlot(y=750, size=52, max_width=660),
        author=TextSlot(y=825, size=36, max_width=660),
        visualisation=Box(40, 900, 640, 240),
        domain=TextSlot(y=1190, size=30, max_width=660),
    ),
    VideoFormat.SQUARE: Layout(
        cover=Box(180, 36, 360, 360),
        title=TextSlot(y=420, size=40, max_width=660),
        author=TextSlot(y=474, size=28, max_width=660),
        visualisation=Box(60, 520, 600, 130),
        domain=TextSlot(y=670, size=24, max_width=660),
    ),
    VideoFormat.LANDSCAPE: Layout(
        cover=Box(80, 100, 520, 520),
        title=TextSlot(y=150, size=50, max_width=560, x=660),
        author=TextSlot(y=225, size=34, max_width=560, x=660),
        visualisation=Box(660, 320, 540, 220),
        domain=TextSlot(y=640, size=28, max_width=560, x=660),
        domain_right_aligned=True,
    ),
}

# Control, surrogate, private-use, unassigned and separator characters (line breaks included).
_BREAKING = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})
MIN_SCALE = 0.6  # text shrinks to 60 % of its slot size before it is cut with "…"
_WIDE = 1.0  # CJK glyphs are about one em wide
_NARROW = 0.62  # Latin and Cyrillic glyphs in DejaVu/Noto Sans are about 0.6 em on average


def clean_text(text: str) -> str:
    """User text as one line: control characters and line breaks become spaces."""
    chars = (" " if unicodedata.category(ch) in _BREAKING else ch for ch in text)
    return " ".join("".join(chars).split())


def _ems(text: str) -> float:
    return sum(_WIDE if script_of(ch) is Script.CJK else _NARROW for ch in text)


def fit_text(text: str, slot: TextSlot) -> tuple[str, int]:
    """The text and font size that fit the slot: shrunk first, then cut with an ellipsis."""
    ems = _ems(text)
    if ems == 0:
        return text, slot.size
    size = min(slot.size, int(slot.max_width / ems))
    floor = int(slot.size * MIN_SCALE)
    if size >= floor:
        return text, size
    budget = slot.max_width / floor - _NARROW  # room for the ellipsis
    kept = []
    for ch in text:
        budget -= _WIDE if script_of(ch) is Script.CJK else _NARROW
        if budget < 0:
            break
        kept.append(ch)
    return "".join(kept).rstrip() + "…", floor
