"""Display lines from aligned words, and the verdict on how to show them (sweep, lines, none).

Widths are estimated, not measured: each character class counts the widest advance of its
members in DejaVu Sans (the font the ASS styles name), in units of the ASS font size. libass
sizes a font so that ascender + descender equal the font size, which for DejaVu makes one em
0.86 of it; "m" is then 0.84 units and "i" 0.24. East Asian wide characters count 1.0 (CJK
fonts have a 1 em advance and ascender + descender of about 1 em). For Latin and Cyrillic the
estimate is an upper bound (each class bounds all its members), so a line never overflows the
width it was broken for; one that still would (a single very long word) is squeezed
horizontally by the ASS layer. The 9:16 safe frame relies on it (docs/architecture.md §8.7).
Pure: no I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.lyrics.model import AlignedLyrics, AlignedWord

PAUSE_BREAK_SECONDS = 0.5  # a longer silence between two words starts a new line
# Poor alignment: more than a quarter of the words failed, or the provider's own error measure
# is high. The documented example of a normal song has hootCer 0.38 (docs/providers.md §5.1), and
# sung lyrics often transcribe at 0.2-0.5, so the bar sits well above that.
POOR_FAILED_SHARE = 0.25
POOR_HOOT_CER = 0.6

# The classes and their members are read from DejaVu Sans's advance table over Latin
# (U+0020-024F) and Cyrillic (U+0400-052F), so each class's width bounds all its members.
_NARROW = frozenset(" .,:;'!|()[]ilIjrtf’‘-")
_LOWER_WIDE = frozenset("&ħƣƴǈдмнпфцъѣѥѧѵѷѻҋҩҽҿӆӈӊӎӹџԍԏԥңӌ")  # lower case as wide as capitals
_WIDE_LATIN = frozenset(
    "mwMWЫыжшщю@%#+<=>^~¬±×÷©®¼½¾ÆæœĦŉŴŵƊƕƜƠƢƯǇǊǋǌǢǣǼǽȡȵȸȹФМЪфњљѠѡѤѦѩѭѰѱѸѹѺѾѿҠҡҤҥҧҨҴҵҼҾ"
    "җӂӍӔӕӝӸԂԃԄԅԉԋԕԖԗԙԜԝԡԣԤ"
)
_WIDEST = frozenset("ЖШЩЮЉЊŒѬѽѼѨҖҦӁӜԈԊԔԘԠԢǄǅǆǱǲǳǶ")  # up to 1.43 em
_W_WIDE, _W_CAPITAL, _W_NARROW, _W_OTHER, _W_WIDE_LATIN = 1.0, 0.68, 0.36, 0.56, 0.88
_W_WIDEST = 1.23


class Presentation(StrEnum):
    """How a track's lyrics are shown."""

    SWEEP = "sweep"  # word by word, a left-to-right highlight in time with the singing
    LINES = "lines"  # whole lines from their first to their last word (poor alignment)
    NONE = "none"  # an instrumental: no lyrics


@dataclass(frozen=True, slots=True)
class LyricLine:
    """Words shown together on one line; never empty."""

    words: tuple[AlignedWord, ...]

    @property
    def start(self) -> float:
        """When the first word is sung."""
        return self.words[0].start

    @property
    def end(self) -> float:
        """When the last word ends."""
        return self.words[-1].end

    @property
    def text(self) -> str:
        """The words as displayed."""
        return join_words(word.text for word in self.words)


def presentation(lyrics: AlignedLyrics) -> Presentation:
    """Sweep for good alignment, whole lines for poor, nothing for an instrumental."""
    if lyrics.instrumental:
        return Presentation.NONE
    failed = sum(not word.success for word in lyrics.words) / len(lyrics.words)
    if failed > POOR_FAILED_SHARE or (lyrics.hoot_cer or 0.0) > POOR_HOOT_CER:
        return Presentation.LINES
    return Presentation.SWEEP


def build_lines(
    words: Sequence[AlignedWord], max_line_width: float, *, pause: float = PAUSE_BREAK_SECONDS
) -> tuple[LyricLine, ...]:
    """Lines broken at source breaks and tags, at pauses over `pause` s and to fit the width."""
    lines: list[LyricLine] = []
    current: list[AlignedWord] = []
    for word in words:
        if current and (
            word.break_before
            or word.start - current[-1].end > pause
            or text_width(join_words([*(w.text for w in current), word.text])) > max_line_width
        ):
            lines.append(LyricLine(tuple(current)))
            current = []
        current.append(word)
    if current:
        lines.append(LyricLine(tuple(current)))
    return tuple(lines)


def join_words(texts: Iterable[str]) -> str:
    """Words joined by spaces, except between two East Asian wide characters (CJK)."""
    joined = ""
    for text in texts:
        joined += (word_separator(joined, text) if joined else "") + text
    return joined


def word_separator(left: str, right: str) -> str:
    """What goes between two displayed words: a space, or nothing between CJK characters."""
    return "" if _is_wide(left[-1]) and _is_wide(right[0]) else " "


def text_width(text: str) -> float:
    """Estimated width of `text` in multiples of the ASS font size."""
    return sum(_char_em(char) for char in text)


def _char_em(char: str) -> float:
    if _is_wide(char):
        return _W_WIDE
    if char in _NARROW:
        return _W_NARROW
    if char in _WIDEST:
        return _W_WIDEST
    if char in _WIDE_LATIN:
        return _W_WIDE_LATIN
    return _W_CAPITAL if char.isupper() or char in _LOWER_WIDE else _W_OTHER


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in {"W", "F"}
