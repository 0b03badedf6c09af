"""Escaping for ffmpeg's filter-graph syntax (ffmpeg-filters "Notes on filtergraph escaping").

A value inside a filter's options is read twice: first by the graph parser (which stops at
`[ ] , ;` and treats `\\` and `'` specially), then by the filter's option parser (which stops
at `:`). So a value is escaped for the option level first and for the graph level second.
"""

from __future__ import annotations

_OPTION_SPECIAL = "\\':"
_GRAPH_SPECIAL = "\\'[],;"


def _backslash(text: str, special: str) -> str:
    return "".join("\\" + ch if ch in special else ch for ch in text)


def filter_value(text: str) -> str:
    """`text` as a literal option value inside a filter graph (paths, font names, colours)."""
    if any(ch in text for ch in "\n\r\0"):
        raise ValueError("filter values cannot contain line breaks or NUL")
    escaped = _backslash(_backslash(text, _OPTION_SPECIAL), _GRAPH_SPECIAL)
    # The graph parser trims unescaped white space at both ends.
    if escaped[:1].isspace():
        escaped = "\\" + escaped
    if escaped[-1:].isspace():
        escaped = escaped[:-1] + "\\" + escaped[-1]
    return escaped
