"""Aligned lyrics as values: words with timing, section tags and line breaks kept as structure.

The provider hides tags (`[Verse]`, `[Chorus]`) and line breaks inside its word tokens
(docs/providers.md §5.1); `aligned_lyrics` parses them out once, so nothing downstream ever shows
a tag. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

_TAG = re.compile(r"\[([^\[\]\n]*)\]")
_PIECES = re.compile(r"\[[^\[\]\n]*\]|\r\n|[\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


class WordToken(NamedTuple):
    """One word as the provider sends it: the raw token with tags and newlines inside."""

    word: str
    start: float
    end: float
    success: bool = True
    palign: float = 0.0


@dataclass(frozen=True, slots=True)
class AlignedWord:
    """A sung word: display text (no tags, no newlines), its timing in seconds from track start."""

    text: str
    start: float
    end: float
    success: bool = True
    palign: float = 0.0
    tags: tuple[str, ...] = ()  # section tags opened right before this word ("Chorus")
    break_before: bool = False  # a source line break or a tag precedes this word


@dataclass(frozen=True, slots=True)
class SecondLine:
    """A second line (a translation, a romanization) shown smaller under a lyric line while that
    line is on screen, without a sweep: from the line's first word's start to its last word's end
    (docs/architecture.md §9.5)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class AlignedLyrics:
    """A track's aligned lyrics; `hoot_cer` is the provider's error measure (higher is worse)."""

    words: tuple[AlignedWord, ...] = ()
    hoot_cer: float | None = None
    waveform: tuple[float, ...] = ()
    is_streamed: bool = False

    @property
    def instrumental(self) -> bool:
        """No word to show: an instrumental, or a track the provider could not align."""
        return not self.words


def aligned_lyrics(
    tokens: Iterable[WordToken],
    *,
    hoot_cer: float | None = None,
    waveform: Iterable[float] = (),
    is_streamed: bool = False,
) -> AlignedLyrics:
    """Lyrics from raw tokens: tags and line breaks become structure; times made monotonic."""
    words: list[AlignedWord] = []
    tags: list[str] = []
    pending_break = False
    last_start = 0.0
    for token in tokens:
        lead, text, trail = _split_token(token.word)
        tags += [tag for kind, tag in lead if kind == "tag"]
        pending_break = pending_break or bool(lead)
        if text and math.isfinite(token.start) and math.isfinite(token.end):
            # Out-of-order starts would give negative karaoke durations: never go back in time.
            start = max(float(token.start), last_start, 0.0)
            end = max(float(token.end), start)
            breaks = pending_break or bool(tags)
            palign = float(token.palign)
            words.append(AlignedWord(text, start, end, token.success, palign, tuple(tags), breaks))
            tags, pending_break, last_start = [], False, start
        tags += [tag for kind, tag in trail if kind == "tag"]
        pending_break = pending_break or bool(trail)
    return AlignedLyrics(tuple(words), hoot_cer, tuple(waveform), is_streamed)


def section_tag(name: str) -> str:
    """A tag's name as stored: inner text of `[...]`, whitespace collapsed."""
    return _SPACES.sub(" ", name).strip()


def _split_token(raw: str) -> tuple[list[tuple[str, str]], str, list[tuple[str, str]]]:
    """(tags/breaks before the text, the display text, tags/breaks after it)."""
    lead: list[tuple[str, str]] = []
    trail: list[tuple[str, str]] = []
    texts: list[str] = []
    position = 0
    for match in _PIECES.finditer(raw):
        _add_text(texts, raw[position : match.start()])
        tag = _TAG.fullmatch(match.group())
        name = section_tag(tag.group(1)) if tag else ""
        piece = ("tag", name) if name else ("break", "")  # "[]" only breaks the line
        (trail if texts else lead).append(piece)
        position = match.end()
    # A tag or break between two texts of one token (one timing) takes effect after the word.
    _add_text(texts, raw[position:])
    return lead, " ".join(texts), trail


def _add_text(texts: list[str], chunk: str) -> None:
    cleaned = _SPACES.sub(" ", _CONTROL.sub(" ", chunk)).strip()
    if cleaned:
        texts.append(cleaned)
