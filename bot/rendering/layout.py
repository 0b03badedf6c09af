"""Where the cover, texts and visualisation go in each format, and fitting text; no I/O.

9:16 is laid out inside the short-video apps' safe frame (SAFE_FRAME, docs/architecture.md
§8.7): every box a viewer must read, and the cover and visualisation too, lie in
x ∈ [40, 607], y ∈ [167, 1000], clear of the buttons and captions TikTok, Reels and Shorts draw
over the bottom, top and right of the frame. Karaoke lyrics (bot/lyrics/ass.py) are drawn over
the lower part of the cover. Text boxes are computed from an upper bound of the text's width
(`text_ems`) and the font size, never from an average.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, replace

from bot.rendering.fonts import Script, script_of
from bot.rendering.formats import VideoFormat


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in output pixels."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        """The first column right of the box."""
        return self.x + self.width

    @property
    def bottom(self) -> int:
        """The first row below the box."""
        return self.y + self.height

    def contains(self, other: Box) -> bool:
        """Whether `other` lies wholly inside this box."""
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.right <= self.right
            and other.bottom <= self.bottom
        )


@dataclass(frozen=True, slots=True)
class TextSlot:
    """A line of text: top y, font size, the widest it may be.

    x is the left edge; x=None centres the line on `centre` (None: the frame's centre).
    """

    y: int
    size: int
    max_width: int
    x: int | None = None
    centre: int | None = None
    wrap_size: int | None = None  # a text too long for one line goes on two, at most this size

    def line_y(self, line: int, size: int) -> int:
        """The top of line `line` (0 or 1) of a text drawn at `size`."""
        return self.y + round(line * LINE_PITCH * size)


@dataclass(frozen=True, slots=True)
class Layout:
    """Positions of every layer for one format."""

    cover: Box
    visualisation: Box
    title: TextSlot
    author: TextSlot
    domain: TextSlot
    domain_right_aligned: bool = False


# The part of a 720x1280 frame the short-video apps leave uncovered: their buttons and captions
# take the top ~170 px, the bottom ~280 px and the right ~110 px (docs/architecture.md §8.7).
SAFE_FRAME = Box(40, 167, 567, 833)  # x 40..607, y 167..1000
SAFE_CENTRE = 323  # texts are centred here, not on the frame: the right band is wider
SHADOW = 2  # drawtext's shadow offset (filtergraph), right and down
LINE_HEIGHT = 1.3  # drawtext ink spans at most this many font sizes below y (accents, descenders)
LINE_PITCH = 1.25  # the second line of a wrapped title starts this many font sizes lower
_SAFE_TEXT_WIDTH = 2 * (SAFE_FRAME.right - SAFE_CENTRE - SHADOW)  # 564

LAYOUTS = {
    VideoFormat.VERTICAL: Layout(
        cover=Box(63, 172, 520, 520),
        title=TextSlot(
            y=704, size=46, max_width=_SAFE_TEXT_WIDTH, centre=SAFE_CENTRE, wrap_size=26
        ),
        author=TextSlot(y=776, size=32, max_width=_SAFE_TEXT_WIDTH, centre=SAFE_CENTRE),
        visualisation=Box(40, 826, 566, 110),
        domain=TextSlot(y=948, size=28, max_width=_SAFE_TEXT_WIDTH, centre=SAFE_CENTRE),
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

# Upper bounds of glyph advances, in em, per class, read from DejaVu Sans's advance table over
# Latin (U+0020-024F) and Cyrillic (U+0400-052F): "Sans" resolves to it on our machines and in
# the image. CJK fonts advance 1 em. An unlisted script is estimated, not bounded.
_EM_SPACE = 0.32  # 0.318 em
_EM_NARROW = 0.45  # ≤ 0.45 em in DejaVu Sans
_EM_ASCII = 0.64  # the ASCII lower case letters and digits not listed below: ≤ 0.636 em
_EM_OTHER = 0.72  # lower case, digits, punctuation not listed: ≤ 0.72 em
_EM_CAPITAL = 0.80  # upper case not listed: ≤ 0.80 em
_EM_WIDE = 1.0  # the listed wide letters and signs, and East Asian wide characters: ≤ 1.0 em
_EM_WIDEST = 1.45  # ligature-like letters (Œ, Ǆ, Љ, Ж, Щ…): ≤ 1.43 em
_NARROW = frozenset(
    " !'(),-./:;IJ[\\]fijlrt|¡¦²³·¹ÌÍÎÏìíîïĨĩĪīĬĭĮįİıĴĵĺļľŀłŕŗřţťŧſƒƖƗƚƪƫƭǀǃǏǐǰȈȉȊȋȑȓțȷɈɉɍІЇЈіїјӀӏ"
)
_WIDE = frozenset(
    "#%&+<=>@MW^mw~©¬®±¼½¾Æ×æ÷ĦŉŴŵƊƕƜƠƢƣƯƴǇǈǊǋǌǢǣǼǽȡȵȸȹМФЪЫжмфшщыюљњѠѡѤѥѦѧѭѰѱѸѹѺѻѾѿҗҠҡҥ"
    "ҧҨҴҵҼҽҾҿӂӍӎӔӕӝӸӹԃԄԅԉԋԕԖԗԙԜԝԡԣ"
)
_WIDEST = frozenset("ŒœǄǅǆǱǲǳǶЉЊЖШЩЮѨѩѬѼѽҖҤҦӁӜԂԈԊԔԘԠԢ")


def clean_text(text: str) -> str:
    """User text as one line: control characters and line breaks become spaces."""
    chars = (" " if unicodedata.category(ch) in _BREAKING else ch for ch in text)
    return " ".join("".join(chars).split())


def char_ems(char: str) -> float:
    """An upper bound of one character's advance, in em (the font size in drawtext)."""
    if char in _WIDEST:
        return _EM_WIDEST
    if char in _WIDE or _full_width(char):
        return _EM_WIDE
    if char in _NARROW:
        return _EM_SPACE if char == " " else _EM_NARROW
    if char.isascii() and (char.islower() or char.isdigit()):
        return _EM_ASCII
    return _EM_CAPITAL if char.isupper() else _EM_OTHER


def _full_width(char: str) -> bool:
    """CJK, and the signs CJK fonts draw a full em wide (…, —, ※: ambiguous width)."""
    width = unicodedata.east_asian_width(char)
    return (
        script_of(char) is Script.CJK
        or width in {"W", "F"}
        or (width == "A" and not char.isalpha())
    )


def text_ems(text: str) -> float:
    """An upper bound of a line's width, in em."""
    return sum(char_ems(ch) for ch in text)


def fit_text(text: str, slot: TextSlot) -> tuple[str, int]:
    """The text and font size that fit the slot: shrunk first, then cut with an ellipsis."""
    ems = text_ems(text)
    if ems == 0:
        return text, slot.size
    size = min(slot.size, int(slot.max_width / ems))
    floor = int(slot.size * MIN_SCALE)
    if size >= floor:
        return text, size
    return _cut(text, floor, slot.max_width), floor


def _cut(text: str, size: int, max_width: int) -> str:
    """The text cut with an ellipsis so that it is at most max_width wide at `size`."""
    if text_ems(text) * size <= max_width:
        return text
    budget = max_width / size - char_ems("…")
    kept = []
    for ch in text:
        budget -= char_ems(ch)
        if budget < 0:
            break
        kept.append(ch)
    return "".join(kept).rstrip() + "…"


WRAP_MIN_SCALE = 0.8  # a wrapped text shrinks to 80 % of wrap_size before its 2nd line is cut


def fit_lines(text: str, slot: TextSlot) -> tuple[tuple[str, ...], int]:
    """Like fit_text, but a slot with a wrap_size puts a text that would be smaller than that on
    one line (or cut) on two lines, split at the space (or, in CJK, between characters) that
    balances them best, at wrap_size or less; a text too long even for that is cut at the end of
    its second line. A text with nowhere to break stays on one line."""
    one, size = fit_text(text, slot)
    splits = _splits(text)
    if slot.wrap_size is None or (one == text and size >= slot.wrap_size) or not splits:
        return (one,), size

    def widest(pair: tuple[str, str]) -> float:
        return max(text_ems(pair[0]), text_ems(pair[1]))

    best = min(splits, key=widest)
    wrapped = min(slot.wrap_size, int(slot.max_width / widest(best)))
    if one == text and size >= wrapped:  # one line is as large: keep it
        return (one,), size
    floor = int(slot.wrap_size * WRAP_MIN_SCALE)
    if wrapped >= floor:
        return best, wrapped
    fitting = [pair for pair in splits if text_ems(pair[0]) * floor <= slot.max_width]
    if not fitting:
        return (one,), size
    first, rest = fitting[-1]  # the fullest first line
    return (first, _cut(rest, floor, slot.max_width)), floor


def _splits(text: str) -> list[tuple[str, str]]:
    """Every place a text may break in two: at a space, or between two CJK characters."""
    pairs = []
    for i in range(1, len(text)):
        if text[i] == " ":
            pairs.append((text[:i].rstrip(), text[i:].lstrip()))
        elif script_of(text[i - 1]) is Script.CJK and script_of(text[i]) is Script.CJK:
            pairs.append((text[:i], text[i:]))
    return [pair for pair in pairs if pair[0] and pair[1]]


def lines_box(lines: tuple[str, ...], size: int, slot: TextSlot, frame_width: int) -> Box:
    """The union of the boxes of a fitted text's lines (text_box)."""
    boxes = [
        text_box(line, size, replace(slot, y=slot.line_y(index, size)), frame_width)
        for index, line in enumerate(lines)
    ]
    left, top = min(b.x for b in boxes), min(b.y for b in boxes)
    right, bottom = max(b.right for b in boxes), max(b.bottom for b in boxes)
    return Box(left, top, right - left, bottom - top)


def text_box(text: str, size: int, slot: TextSlot, frame_width: int) -> Box:
    """Where a fitted text's pixels can be, shadow included: the width bound times the font size
    wide, LINE_HEIGHT times it tall, from the slot's top; centred on the slot's centre."""
    width = math.ceil(text_ems(text) * size)
    height = math.ceil(LINE_HEIGHT * size) + SHADOW
    if slot.x is not None:
        return Box(slot.x, slot.y, width + SHADOW, height)
    centre = slot.centre if slot.centre is not None else frame_width / 2
    left = math.floor(centre - width / 2)
    return Box(left, slot.y, math.ceil(centre + width / 2) + SHADOW - left, height)
