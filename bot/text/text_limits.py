"""Telegram's length limits and the one way we cut text to fit them (pure; no I/O).

Telegram counts a text's length in UTF-16 code units (an emoji outside the BMP counts twice),
so lengths here are measured the same way; a cut never splits a character.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

CAPTION_LIMIT: Final = 1024  # a media caption, after entity parsing
MESSAGE_LIMIT: Final = 4096  # a text message
ELLIPSIS: Final = "…"


def utf16_length(text: str) -> int:
    """The length of `text` as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """`text` unchanged if it fits in `limit`, else cut to fit with "…" at the end ("" if
    not even that fits)."""
    if utf16_length(text) <= limit:
        return text
    room = limit - utf16_length(ELLIPSIS)
    if room < 0:
        return ""
    kept: list[str] = []
    used = 0
    for char in text:
        used += utf16_length(char)
        if used > room:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS


def fit(render: Callable[[str], str], part: str, limit: int) -> str:
    """`render(part)` with only the user-supplied `part` shortened so the whole fits in `limit`;
    everything `render` adds around it (a link, a date) is kept whole."""
    room = limit - utf16_length(render(""))
    return render(shorten(part, room))
