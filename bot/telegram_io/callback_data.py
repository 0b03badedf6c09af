"""Reading button callback data: the one parser for `<prefix><number>` payloads.

Callback data comes from the client and may be stale or forged: anything that is not exactly
the prefix and a plain decimal number of at most 18 digits reads as None.
"""

from __future__ import annotations

MAX_DIGITS = 18  # fits SQLite's signed 64-bit integers


def number_after(prefix: str, data: str | None) -> int | None:
    """The number in callback data like `rs:12`; None for anything else."""
    if data is None or not data.startswith(prefix):
        return None
    rest = data[len(prefix) :]
    if rest.isascii() and rest.isdigit() and len(rest) <= MAX_DIGITS:
        return int(rest)
    return None
