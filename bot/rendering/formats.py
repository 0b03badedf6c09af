"""The three video formats of our own renderer and parsing of the user's token; no I/O."""

from __future__ import annotations

from enum import StrEnum


class VideoFormat(StrEnum):
    """An output shape; the value is the token users type (`/render … 9:16`)."""

    VERTICAL = "9:16"
    SQUARE = "1:1"
    LANDSCAPE = "16:9"

    @property
    def size(self) -> tuple[int, int]:
        """Output width and height in pixels."""
        return _SIZES[self]

    @property
    def width(self) -> int:
        """Output width in pixels."""
        return _SIZES[self][0]

    @property
    def height(self) -> int:
        """Output height in pixels."""
        return _SIZES[self][1]


_SIZES = {
    VideoFormat.VERTICAL: (720, 1280),
    VideoFormat.SQUARE: (720, 720),
    VideoFormat.LANDSCAPE: (1280, 720),
}

# Spellings people type for the same shape; all map to the canonical token.
_ALIASES = {
    "9:16": VideoFormat.VERTICAL,
    "9x16": VideoFormat.VERTICAL,
    "9/16": VideoFormat.VERTICAL,
    "vertical": VideoFormat.VERTICAL,
    "1:1": VideoFormat.SQUARE,
    "1x1": VideoFormat.SQUARE,
    "1/1": VideoFormat.SQUARE,
    "square": VideoFormat.SQUARE,
    "16:9": VideoFormat.LANDSCAPE,
    "16x9": VideoFormat.LANDSCAPE,
    "16/9": VideoFormat.LANDSCAPE,
    "landscape": VideoFormat.LANDSCAPE,
}


def parse_format(token: str) -> VideoFormat | None:
    """The format a user's token names (`9:16`, `1x1`, `landscape`, full-width digits), or None."""
    normalized = token.strip().lower().translate(_FULLWIDTH).replace("×", "x")
    return _ALIASES.get(normalized)


def format_token(token: str) -> str | None:
    """The canonical name ("9:16", "1:1", "16:9") of the format a token names, or None (the
    command parsers' way of telling a format from the next word)."""
    found = parse_format(token)
    return found.value if found is not None else None


# Phones with CJK keyboards type full-width digits and colons.
_FULLWIDTH = str.maketrans("０１２３４５６７８９：／ｘ", "0123456789:/x")
