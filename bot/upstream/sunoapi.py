"""The SUNOAPI dialect (sunoapi.org, api.box; docs/providers.md §3): build requests, parse answers.

The wire shapes are KIE's (§3.1-§3.3), so they are reused from `bot.upstream.kie`; what differs
is the code table (429 means *out of credits* here, §7.8), the credits path and the absence of
callback signatures. Pure: no I/O, must not import httpx.
"""

from __future__ import annotations

from bot.domain import Credits, SeparationResult, TrackList, VideoResult
from bot.lyrics.model import AlignedLyrics
from bot.upstream import kie
from bot.upstream.common import ErrorTable, checked_payload, unverifiable_signature
from bot.upstream.errors import (
    InsufficientCredits,
    InvalidTrack,
    Maintenance,
    RateLimited,
    Unauthorized,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bot.upstream.http import HttpRequest, HttpResponse

CREDITS_PATH = "/api/v1/generate/credit"

# §3.4. 409 and "already exists" text become AlreadyExists in common.error_for. 422 is not in
# the table; read it as KIE does (validation) for consistency.
ERRORS: ErrorTable = {
    400: InvalidTrack,
    401: Unauthorized,
    404: InvalidTrack,
    405: RateLimited,
    413: InvalidTrack,
    422: InvalidTrack,
    429: InsufficientCredits,
    430: RateLimited,
    455: Maintenance,
    500: UpstreamUnavailable,
}

# §5.1: the lyrics endpoint answers with the family's usual codes; 451 there has no meaning given.
LYRICS_ERRORS: ErrorTable = {**ERRORS, 451: UpstreamRejected}

build_create = kie.build_create
build_details = kie.build_details
build_tracks = kie.build_tracks
build_timestamped_lyrics = kie.build_timestamped_lyrics
build_separation = kie.build_separation
build_separation_details = kie.build_separation_details
# Callback failure codes (400/401/429/451/500, §3.3) all mean FAILED, exactly as KIE's 500.
parse_callback = kie.parse_callback


def parse_create(response: HttpResponse) -> str:
    """The new video task id (`data.taskId`; it may echo the music task id, §7.4)."""
    return kie.video_task_id_from(checked_payload(response, ERRORS))


def parse_details(response: HttpResponse) -> VideoResult:
    """A video task's state; times may be strings or epoch ms (§3.2 variants A and B)."""
    return kie.details_from(checked_payload(response, ERRORS))


def parse_tracks(response: HttpResponse) -> TrackList:
    """The tracks a music task offers (§5)."""
    return kie.tracks_from(checked_payload(response, ERRORS))


def parse_timestamped_lyrics(response: HttpResponse) -> AlignedLyrics:
    """A track's aligned words (§5.1); a 429 here means out of credits, as everywhere in §3.4."""
    return kie.lyrics_from(checked_payload(response, LYRICS_ERRORS))


def parse_separation(response: HttpResponse) -> str:
    """The separation task id (§5.2); a 429 here means out of credits, as everywhere in §3.4."""
    return kie.video_task_id_from(checked_payload(response, ERRORS))


def parse_separation_details(response: HttpResponse) -> SeparationResult:
    """A separation task's state (§5.2): KIE's shape, times as strings or epoch ms."""
    return kie.separation_from(checked_payload(response, ERRORS))


def build_credits() -> HttpRequest:
    """GET /api/v1/generate/credit (§3.5)."""
    return HttpRequest("GET", CREDITS_PATH)


def parse_credits(response: HttpResponse) -> Credits:
    """The remaining credits (`data` is a bare number)."""
    return kie.credits_from(checked_payload(response, ERRORS))


# SUNOAPI (§3.3) documents no callback signature: nothing can be verified, so a caller that
# demands signatures refuses the callback instead of trusting it.
verify_signature = unverifiable_signature
