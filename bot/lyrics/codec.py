"""Aligned lyrics as JSON and back, for keeping a track's lyrics in SQLite. Pure: no I/O."""

from __future__ import annotations

import json
from typing import Any

from bot.lyrics.model import AlignedLyrics, AlignedWord


class BadStoredLyrics(ValueError):
    """A stored body that is not lyrics JSON of this shape."""


def lyrics_to_json(lyrics: AlignedLyrics) -> str:
    """The lyrics as compact JSON (every field, so decoding gives back an equal value)."""
    words = [
        [w.text, w.start, w.end, w.success, w.palign, list(w.tags), w.break_before]
        for w in lyrics.words
    ]
    body = {
        "words": words,
        "hootCer": lyrics.hoot_cer,
        "waveform": list(lyrics.waveform),
        "isStreamed": lyrics.is_streamed,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def lyrics_from_json(body: str) -> AlignedLyrics:
    """The lyrics `lyrics_to_json` wrote; BadStoredLyrics for anything else."""
    try:
        data: Any = json.loads(body)
        words = tuple(
            AlignedWord(
                str(text), float(start), float(end), bool(ok), float(palign),
                tuple(str(tag) for tag in tags), bool(breaks),
            )
            for text, start, end, ok, palign, tags, breaks in data["words"]
        )  # fmt: skip
        hoot = data["hootCer"]
        return AlignedLyrics(
            words,
            None if hoot is None else float(hoot),
            tuple(float(level) for level in data["waveform"]),
            bool(data["isStreamed"]),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise BadStoredLyrics(str(exc)) from exc
