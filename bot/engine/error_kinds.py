"""The one mapping from upstream errors to what went wrong (ErrorKind) and to what the user
reads: the job engine, /credits and the track picker all go through here.

Pure: no Telegram types; the sentences live in bot/text/texts.py.
"""

from __future__ import annotations

from typing import Final

from bot.engine.job_model import ErrorKind
from bot.text.render import provider_detail
from bot.text.texts import text
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

# What each place says about a kind; a kind it does not list reads as "rejected" when the
# provider refused, else as "unavailable" (try again later).
_SENTENCES: Final[dict[str, dict[ErrorKind, str]]] = {
    "picker": {
        ErrorKind.INVALID_TRACK: "picker_not_found",
        ErrorKind.CREDITS: "picker_credits",
        ErrorKind.UNAUTHORIZED: "picker_unauthorized",
        ErrorKind.REJECTED: "picker_rejected",
        ErrorKind.UNAVAILABLE: "picker_unavailable",
    },
    "credits": {
        ErrorKind.CREDITS: "credits_out",
        ErrorKind.UNAUTHORIZED: "credits_unauthorized",
        ErrorKind.REJECTED: "credits_rejected",
        ErrorKind.UNAVAILABLE: "credits_unavailable",
    },
}


def kind_of(error: UpstreamError) -> ErrorKind:
    """What went wrong, for logs, alerts and the job row (unavailable when nothing matches:
    timeouts, 5xx, maintenance, unreadable answers)."""
    for cls, kind in _KINDS:
        if isinstance(error, cls):
            return kind
    return ErrorKind.UNAVAILABLE


def error_text(language: str, place: str, error: UpstreamError, **values: object) -> str:
    """The sentence `place` ("picker", "credits") shows for `error`."""
    sentences = _SENTENCES[place]
    kind = kind_of(error)
    if kind not in sentences:
        refused = isinstance(error, UpstreamRejected)
        kind = ErrorKind.REJECTED if refused else ErrorKind.UNAVAILABLE
    reason = error.reason if isinstance(error, UpstreamRejected) else None
    return text(language, sentences[kind], detail=provider_detail(reason), **values)
