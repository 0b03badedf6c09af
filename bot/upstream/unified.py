"""The UNIFIED dialect (vidgo, PoYo; docs/providers.md §4): build requests, parse answers.

One submit endpoint for every model, snake_case, an `input` object; failures of a task arrive
with code 200 and `status: failed`. Pure: no I/O, must not import httpx.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.domain import (
    Credits,
    SeparationResult,
    Track,
    TrackList,
    TrackListStatus,
    VideoRequest,
    VideoResult,
    VideoStatus,
)
from bot.lyrics.model import AlignedLyrics
from bot.upstream.common import (
    ErrorTable,
    checked_payload,
    decimal_amount,
    decode_object,
    object_field,
    seconds_or_none,
    text_field,
    unverifiable_signature,
)
from bot.upstream.errors import (
    InsufficientCredits,
    InvalidTrack,
    MalformedResponse,
    RateLimited,
    Unauthorized,
    Unsupported,
    UpstreamUnavailable,
)
from bot.upstream.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

MODEL = "create-music-video"
SUBMIT_PATH = "/api/generate/submit"
DETAIL_PATH = "/api/generate/detail/music"  # video and music tasks alike (§4.2, §4.5)
BALANCE_PATH = "/api/user/balance"

# §4.4. 409 and "already exists" text become AlreadyExists in common.error_for; other 5xx
# default to UpstreamUnavailable there.
ERRORS: ErrorTable = {
    400: InvalidTrack,
    401: Unauthorized,
    402: InsufficientCredits,
    403: Unauthorized,
    404: InvalidTrack,
    422: InvalidTrack,
    429: RateLimited,
    500: UpstreamUnavailable,
}

_PENDING = frozenset({"not_started", "running"})


def build_create(request: VideoRequest) -> HttpRequest:
    """POST /api/generate/submit with model, callback_url and a snake_case `input` (§4.1)."""
    task: dict[str, Any] = {"task_id": request.task_id, "audio_id": request.audio_id}
    if request.author is not None:
        task["author"] = request.author
    if request.domain_name is not None:
        task["domain_name"] = request.domain_name
    # callback_url is always sent: the schema requires it even if the prose does not (§7.12).
    body = {"model": MODEL, "callback_url": request.callback_url, "input": task}
    return HttpRequest("POST", SUBMIT_PATH, json=body)


def parse_create(response: HttpResponse) -> str:
    """The new video task id (`data.task_id`)."""
    data = checked_payload(response, ERRORS).get("data")
    task_id = text_field(data, "task_id") if isinstance(data, dict) else None
    if task_id is None:
        raise MalformedResponse("submit answer carries no data.task_id")
    return task_id


def build_details(video_task_id: str) -> HttpRequest:
    """GET /api/generate/detail/music?task_id= (§4.2; not the generic status endpoint)."""
    return HttpRequest("GET", DETAIL_PATH, params={"task_id": video_task_id})


def parse_details(response: HttpResponse) -> VideoResult:
    """A video task's state; decided on `data.status`, never on `code` alone."""
    return _result(object_field(checked_payload(response, ERRORS), "data"))


def parse_callback(body: bytes) -> VideoResult:
    """A callback body, wrapped `{code, data}` or bare (§7.11: top-level task_id = the data)."""
    payload = decode_object(body)
    data = payload if "task_id" in payload else object_field(payload, "data")
    if text_field(data, "task_id") is None:
        raise MalformedResponse("callback lacks task_id")
    return _result(data)


def build_tracks(music_task_id: str) -> HttpRequest:
    """The same detail endpoint, asked about the music task (§4.5)."""
    return HttpRequest("GET", DETAIL_PATH, params={"task_id": music_task_id})


def parse_tracks(response: HttpResponse) -> TrackList:
    """The tracks of a music task: `files[]` with audio_id, title, duration."""
    data = object_field(checked_payload(response, ERRORS), "data")
    status = (text_field(data, "status") or "").lower()
    if status == "finished":
        tracks = tuple(
            Track(
                audio_id,
                text_field(item, "title") or "",
                seconds_or_none(item.get("duration")),
                audio_url=text_field(item, "audio_url"),
                image_url=text_field(item, "image_url"),
                tags=text_field(item, "tags"),
            )
            for item in _files(data)
            if (audio_id := text_field(item, "audio_id"))
        )
        return TrackList(TrackListStatus.READY, tracks)
    if status == "failed":
        error = text_field(data, "error_message") or "failed"
        return TrackList(TrackListStatus.FAILED, error=error)
    if status not in _PENDING:
        log.warning("unknown music task status %r; treating as pending", status)
    return TrackList(TrackListStatus.PENDING)


def build_timestamped_lyrics(task_id: str, audio_id: str) -> HttpRequest:
    """vidgo documents no timestamped lyrics (§5.1): always Unsupported."""
    raise Unsupported(f"no timestamped lyrics on this provider (task {task_id}, audio {audio_id})")


def parse_timestamped_lyrics(response: HttpResponse) -> AlignedLyrics:
    """Never reached (there is no request to answer); Unsupported for symmetry."""
    del response
    raise Unsupported("no timestamped lyrics on this provider")


def build_separation(task_id: str, audio_id: str, callback_url: str) -> HttpRequest:
    """vidgo documents no vocal separation (§5.2): always Unsupported, before any I/O."""
    del callback_url
    raise Unsupported(f"no vocal separation on this provider (task {task_id}, audio {audio_id})")


def parse_separation(response: HttpResponse) -> str:
    """Never reached (there is no request to answer); Unsupported for symmetry."""
    del response
    raise Unsupported("no vocal separation on this provider")


def build_separation_details(separation_task_id: str) -> HttpRequest:
    """vidgo documents no vocal separation (§5.2): always Unsupported."""
    raise Unsupported(f"no vocal separation on this provider (task {separation_task_id})")


def parse_separation_details(response: HttpResponse) -> SeparationResult:
    """Never reached; Unsupported for symmetry."""
    del response
    raise Unsupported("no vocal separation on this provider")


def build_credits() -> HttpRequest:
    """GET /api/user/balance (§4.5)."""
    return HttpRequest("GET", BALANCE_PATH)


def parse_credits(response: HttpResponse) -> Credits:
    """The remaining credits (`data.credits_amount`)."""
    data = object_field(checked_payload(response, ERRORS), "data")
    return Credits(decimal_amount(data.get("credits_amount")))


# vidgo (§4.3) documents no callback signature: nothing can be verified, so a caller that
# demands signatures refuses the callback instead of trusting it.
verify_signature = unverifiable_signature


def _result(data: Mapping[str, Any]) -> VideoResult:
    raw = data.get("status")
    if raw is not None and not isinstance(raw, str):
        raise MalformedResponse(f"status is not a string: {type(raw).__name__}")
    status = (raw or "").strip().lower()
    url = next((u for item in _files(data) if (u := text_field(item, "video_url"))), None)
    error = text_field(data, "error_message")
    if status == "finished" and url:
        verdict = VideoStatus.SUCCEEDED
    elif status == "failed":
        verdict, error = VideoStatus.FAILED, error or "failed"
    else:
        if status not in _PENDING:  # includes "finished" without a url: keep polling
            log.warning("status %r (video url %s); treating as pending", raw, bool(url))
        verdict = VideoStatus.PENDING
    return VideoResult(
        task_id=text_field(data, "task_id"),
        status=verdict,
        video_url=url if verdict is VideoStatus.SUCCEEDED else None,
        error=error,
        raw_status=raw,  # no completion time is documented (§4.2): completed_at stays None
    )


def _files(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    files = data.get("files")
    return [item for item in files if isinstance(item, dict)] if isinstance(files, list) else []
