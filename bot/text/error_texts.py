"""What the picker and /credits say about an upstream error: the kind from
bot/engine/error_kinds.py, the sentence from bot/text/texts.py. Pure: no Telegram types."""

from __future__ import annotations

from typing import Final

from bot.engine.error_kinds import kind_of
from bot.engine.job_model import ErrorKind
from bot.text.render import provider_detail
from bot.text.texts import text
from bot.upstream.errors import UpstreamError, UpstreamRejected

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


def error_text(language: str, place: str, error: UpstreamError, **values: object) -> str:
    """The sentence `place` ("picker", "credits") shows for `error`."""
    sentences = _SENTENCES[place]
    kind = kind_of(error)
    if kind not in sentences:
        refused = isinstance(error, UpstreamRejected)
        kind = ErrorKind.REJECTED if refused else ErrorKind.UNAVAILABLE
    reason = error.reason if isinstance(error, UpstreamRejected) else None
    return text(language, sentences[kind], detail=provider_detail(reason), **values)
