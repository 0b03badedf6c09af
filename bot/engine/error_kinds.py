"""The one mapping from upstream errors to what went wrong (ErrorKind): the job engine, /credits
and the track picker all go through here; the sentences per kind are in bot/text/error_texts.py.

Pure: must not import Telegram, bot.text or handlers.
"""

from __future__ import annotations

from typing import Final

from bot.engine.job_model import ErrorKind
from bot.upstream.errors import (
    AlreadyExists,
    InsufficientCredits,
    InvalidTrack,
    RateLimited,
    Unauthorized,
    UpstreamError,
    UpstreamRejected,
)

# First match wins: subclasses before their parents.
_KINDS: Final[tuple[tuple[type[UpstreamError], ErrorKind], ...]] = (
    (InsufficientCredits, ErrorKind.CREDITS),
    (Unauthorized, ErrorKind.UNAUTHORIZED),
    (InvalidTrack, ErrorKind.INVALID_TRACK),
    (AlreadyExists, ErrorKind.ALREADY_EXISTS),
    (UpstreamRejected, ErrorKind.REJECTED),
    (RateLimited, ErrorKind.RATE_LIMITED),
)


def kind_of(error: UpstreamError) -> ErrorKind:
    """What went wrong, for logs, alerts and the job row (unavailable when nothing matches:
    timeouts, 5xx, maintenance, unreadable answers)."""
    for cls, kind in _KINDS:
        if isinstance(error, cls):
            return kind
    return ErrorKind.UNAVAILABLE
