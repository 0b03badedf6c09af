"""The one mapping from upstream errors to kinds and sentences."""

from __future__ import annotations

import pytest

from bot.engine.error_kinds import kind_of
from bot.engine.job_model import ErrorKind
from bot.text.error_texts import error_text
from bot.upstream.errors import (
    AlreadyExists,
    InsufficientCredits,
    InvalidTrack,
    Maintenance,
    MalformedResponse,
    RateLimited,
    Unauthorized,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (InsufficientCredits("no credits", 402), ErrorKind.CREDITS),
        (Unauthorized("bad key", 401), ErrorKind.UNAUTHORIZED),
        (InvalidTrack("no such audio", 422), ErrorKind.INVALID_TRACK),
        (AlreadyExists("exists", 409), ErrorKind.ALREADY_EXISTS),
        (UpstreamRejected("nope", 400), ErrorKind.REJECTED),
        (RateLimited("slow down"), ErrorKind.RATE_LIMITED),
        (Maintenance("455"), ErrorKind.UNAVAILABLE),
        (UpstreamUnavailable("timeout"), ErrorKind.UNAVAILABLE),
        (MalformedResponse("garbage"), ErrorKind.UNAVAILABLE),
    ],
)
def test_every_upstream_error_has_one_kind(error: UpstreamError, kind: ErrorKind) -> None:
    assert kind_of(error) is kind


def test_each_place_words_the_same_kind_its_own_way() -> None:
    credits = InsufficientCredits("balance 0", 402)
    assert "credits" in error_text("en", "credits", credits).lower()
    assert "credits" in error_text("en", "picker", credits, task_id="t").lower()
    # A kind a place does not word on its own reads as refused or as "try later".
    refused = error_text("en", "credits", InvalidTrack("odd", 422))
    assert refused == error_text("en", "credits", UpstreamRejected("odd", 422))
    later = error_text("en", "picker", RateLimited("slow"), task_id="t")
    assert later == error_text("en", "picker", UpstreamUnavailable("x"), task_id="t")
