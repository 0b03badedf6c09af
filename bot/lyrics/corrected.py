"""A chat's corrected lyrics of a track as a value, its stored form, and a reply applied to it
(docs/architecture.md §9.5). Pure: no I/O.

The lines a user edits are the track's *source lines* — the provider's line breaks, tags and
pauses, whatever the render's width (`source_lines`). The corrected word list marks each source
line's first word with `break_before`, so the same lines come back on the next edit however the
words were re-timed; renders still re-break them to their width.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.lyrics.codec import BadStoredLyrics, lyrics_from_json, lyrics_to_json
from bot.lyrics.edits import Correction, apply_correction, second_lines
from bot.lyrics.lines import LyricLine, build_lines
from bot.lyrics.model import AlignedLyrics, SecondLine

REVISION_LENGTH = 16  # hex digits of the body's sha256: a render's key, not a security measure


@dataclass(frozen=True, slots=True)
class CorrectedLyrics:
    """Lyrics as a chat corrected them, with the second lines it gave (in time order)."""

    lyrics: AlignedLyrics
    second_lines: tuple[SecondLine, ...] = ()


@dataclass(frozen=True, slots=True)
class Applied:
    """The outcome of a reply: the new corrected lyrics and what changed (1-based lines)."""

    corrected: CorrectedLyrics
    changed: tuple[int, ...]
    second_line_count: int


def source_lines(lyrics: AlignedLyrics) -> tuple[LyricLine, ...]:
    """The lines a user reviews: broken at the source's breaks and pauses only."""
    return build_lines(lyrics.words, math.inf)


def second_line_texts(
    lines: Sequence[LyricLine], seconds: Sequence[SecondLine]
) -> tuple[str | None, ...]:
    """The second line of each source line (None where there is none), matched by its span."""
    by_span = {(s.start, s.end): s.text for s in seconds}
    return tuple(by_span.get((line.start, line.end)) for line in lines)


def numbered_second_lines(lines: Sequence[LyricLine], seconds: Sequence[SecondLine]) -> str:
    """The second lines as "N. text" under their line's number (lines without one left out)."""
    texts = second_line_texts(lines, seconds)
    return "\n".join(f"{n}. {t}" for n, t in enumerate(texts, start=1) if t is not None)


def apply_reply(
    provider: AlignedLyrics, current: CorrectedLyrics | None, correction: Correction
) -> Applied:
    """`correction` applied on top of the current correction (else the provider's words):
    only the lines it changes change, second lines it gives replace those of their lines.
    Raises `CorrectionError` (by line) for numbers past the end or empty texts."""
    base = current.lyrics if current is not None else provider
    lines = source_lines(base)
    edited = apply_correction(lines, correction)
    pairs = enumerate(zip(lines, edited, strict=True), start=1)
    changed = tuple(n for n, (old, new) in pairs if old is not new)
    old_seconds = second_line_texts(lines, current.second_lines if current else ())
    new_seconds = second_lines(correction, len(lines))
    merged = [
        new if new is not None else old for old, new in zip(old_seconds, new_seconds, strict=True)
    ]
    words = tuple(
        dataclasses.replace(word, break_before=True) if i == 0 and n > 0 else word
        for n, line in enumerate(edited)
        for i, word in enumerate(line.words)
    )
    seconds = tuple(
        SecondLine(line.start, line.end, text)
        for line, text in zip(edited, merged, strict=True)
        if text is not None
    )
    lyrics = dataclasses.replace(base, words=words)
    return Applied(CorrectedLyrics(lyrics, seconds), changed, len(seconds))


def is_provider_text(provider: AlignedLyrics, corrected: CorrectedLyrics) -> bool:
    """Whether a correction shows exactly the provider's lines and no second line."""
    if corrected.second_lines:
        return False
    mine, theirs = source_lines(corrected.lyrics), source_lines(provider)
    return [line.text for line in mine] == [line.text for line in theirs]


def corrected_to_json(corrected: CorrectedLyrics) -> str:
    """The stored body: the lyrics (as `bot.lyrics.codec` writes them) and the second lines as
    `[start, end, text]`."""
    body = {
        "lyrics": json.loads(lyrics_to_json(corrected.lyrics)),
        "secondLines": [[s.start, s.end, s.text] for s in corrected.second_lines],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def corrected_from_json(body: str) -> CorrectedLyrics:
    """What `corrected_to_json` wrote; BadStoredLyrics for anything else."""
    try:
        data: Any = json.loads(body)
        lyrics = lyrics_from_json(json.dumps(data["lyrics"], ensure_ascii=False))
        seconds = tuple(
            SecondLine(float(start), float(end), str(text))
            for start, end, text in data["secondLines"]
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise BadStoredLyrics(str(exc)) from exc
    return CorrectedLyrics(lyrics, seconds)


def revision_of(body: str) -> str:
    """A stored body's revision: the start of its sha256 (equal bodies, equal revisions)."""
    return hashlib.sha256(body.encode()).hexdigest()[:REVISION_LENGTH]
