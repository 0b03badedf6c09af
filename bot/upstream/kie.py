"""The KIE dialect (kie.ai, apikley; docs/providers.md §2): build requests, parse answers.

Pure: no I/O, must not import httpx. The SUNOAPI module reuses the wire shapes defined here
(`*_from` functions), since §3 is the same shape with another code table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
from collections.abc import Mapping
from typing import Any

from bot.domain import (
    Credits,
    SeparationResult,
    SeparationStatus,
    Track,
    TrackList,
    TrackListStatus,
    VideoRequest,
    VideoResult,
    VideoStatus,
)
from bot.lyrics.model import AlignedLyrics, WordToken, aligned_lyrics
from bot.upstream.common import (
    SUCCESS_CODES,
    ErrorTable,
    checked_payload,
    decimal_amount,
    decode_object,
    int_code,
    message_of,
    object_field,
    parse_timestamp,
    seconds_or_none,
    text_field,
)
from bot.upstream.errors import (
    InsufficientCredits,
    InvalidTrack,
    Maintenance,
    MalformedResponse,
    RateLimited,
    Unauthorized,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bot.upstream.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

CREATE_PATH = "/api/v1/mp4/generate"
DETAILS_PATH = "/api/v1/mp4/record-info"
MUSIC_PATH = "/api/v1/generate/record-info"
CREDITS_PATH = "/api/v1/chat/credit"
LYRICS_PATH = "/api/v1/generate/get-timestamped-lyrics"
SEPARATION_PATH = "/api/v1/vocal-removal/generate"
SEPARATION_DETAILS_PATH = "/api/v1/vocal-removal/record-info"
SEPARATION_TYPE = "separate_vocal"  # vocals + instrumental (§5.2); split_stem has no instrumental

# §2.4. 409 and any "already exists" text become AlreadyExists in common.error_for; 422 is a
# validation error otherwise (docs/providers.md §7.5).
ERRORS: ErrorTable = {
    400: InvalidTrack,
    401: Unauthorized,
    402: InsufficientCredits,
    404: InvalidTrack,
    408: UpstreamUnavailable,
    422: InvalidTrack,
    429: RateLimited,
    455: Maintenance,
    500: UpstreamUnavailable,
    501: UpstreamRejected,
    505: UpstreamRejected,
}

# §5.1 lists 451 among the lyrics endpoint's codes without a meaning: the provider refuses.
LYRICS_ERRORS: ErrorTable = {**ERRORS, 451: UpstreamRejected}

_MUSIC_READY = frozenset({"FIRST_SUCCESS", "SUCCESS"})
_MUSIC_PENDING = frozenset({"PENDING", "TEXT_SUCCESS"})
_MUSIC_FAILED = frozenset(
    {"CREATE_TASK_FAILED", "GENERATE_AUDIO_FAILED", "CALLBACK_EXCEPTION", "SENSITIVE_WORD_ERROR"}
)


def build_create(request: VideoRequest) -> HttpRequest:
    """POST /api/v1/mp4/generate with the flat camelCase body (§2.1); optional fields omitted."""
    body: dict[str, Any] = {
        "taskId": request.task_id,
        "audioId": request.audio_id,
        "callBackUrl": request.callback_url,
    }
    if request.author is not None:
        body["author"] = request.author
    if request.domain_name is not None:
        body["domainName"] = request.domain_name
    return HttpRequest("POST", CREATE_PATH, json=body)


def parse_create(response: HttpResponse) -> str:
    """The new video task id from a create answer."""
    return video_task_id_from(checked_payload(response, ERRORS))


def build_details(video_task_id: str) -> HttpRequest:
    """GET /api/v1/mp4/record-info for one video task (§2.2)."""
    return HttpRequest("GET", DETAILS_PATH, params={"taskId": video_task_id})


def parse_details(response: HttpResponse) -> VideoResult:
    """A video task's state from a record-info answer."""
    return details_from(checked_payload(response, ERRORS))


def parse_callback(body: bytes) -> VideoResult:
    """A callback body (§2.3): code 200 with video_url succeeded; any other code failed."""
    return callback_from(decode_object(body))


def build_tracks(music_task_id: str) -> HttpRequest:
    """GET /api/v1/generate/record-info for a music task (§5)."""
    return HttpRequest("GET", MUSIC_PATH, params={"taskId": music_task_id})


def parse_tracks(response: HttpResponse) -> TrackList:
    """The tracks a music task offers."""
    return tracks_from(checked_payload(response, ERRORS))


def build_credits() -> HttpRequest:
    """GET /api/v1/chat/credit (§2.6)."""
    return HttpRequest("GET", CREDITS_PATH)


def parse_credits(response: HttpResponse) -> Credits:
    """The remaining credits (`data` is a bare number)."""
    return credits_from(checked_payload(response, ERRORS))


def build_timestamped_lyrics(task_id: str, audio_id: str) -> HttpRequest:
    """POST /api/v1/generate/get-timestamped-lyrics for one track (§5.1)."""
    body = {"taskId": task_id, "audioId": audio_id}
    return HttpRequest("POST", LYRICS_PATH, json=body)


def parse_timestamped_lyrics(response: HttpResponse) -> AlignedLyrics:
    """A track's aligned words; an instrumental yields no words."""
    return lyrics_from(checked_payload(response, LYRICS_ERRORS))


def build_separation(task_id: str, audio_id: str, callback_url: str) -> HttpRequest:
    """POST /api/v1/vocal-removal/generate, `type=separate_vocal` (§5.2); callBackUrl is
    required by the API although polling the details is what we rely on."""
    body = {
        "taskId": task_id,
        "audioId": audio_id,
        "type": SEPARATION_TYPE,
        "callBackUrl": callback_url,
    }
    return HttpRequest("POST", SEPARATION_PATH, json=body)


def parse_separation(response: HttpResponse) -> str:
    """The separation task id (`data.taskId`) of a vocal-removal answer."""
    return video_task_id_from(checked_payload(response, ERRORS))


def build_separation_details(separation_task_id: str) -> HttpRequest:
    """GET /api/v1/vocal-removal/record-info for one separation task (§5.2)."""
    return HttpRequest("GET", SEPARATION_DETAILS_PATH, params={"taskId": separation_task_id})


def parse_separation_details(response: HttpResponse) -> SeparationResult:
    """A separation task's state from a record-info answer."""
    return separation_from(checked_payload(response, ERRORS))


def separation_from(payload: Mapping[str, Any]) -> SeparationResult:
    """A SeparationResult from a vocal-removal record-info payload (camelCase, §5.2).

    SUCCESS (and CALLBACK_EXCEPTION: only the callback failed) with an instrumentalUrl is
    done; the same flags without one are still pending (the file may follow); any FAILED
    flag failed; PENDING and unknown flags are pending (the caller's deadline ends them)."""
    data = object_field(payload, "data")
    raw = data.get("successFlag")
    flag = None if raw is None else str(raw).strip()
    files = data.get("response")
    instrumental = text_field(files, "instrumentalUrl") if isinstance(files, dict) else None
    vocals = text_field(files, "vocalUrl") if isinstance(files, dict) else None
    normalized = (flag or "").upper()
    if normalized.startswith(("SUCCESS", "CALLBACK_EXCEPTION")) and instrumental:
        return SeparationResult(SeparationStatus.SUCCEEDED, instrumental, vocals, raw_status=flag)
    if "FAIL" in normalized or "ERROR" in normalized:
        error = text_field(data, "errorMessage") or flag
        return SeparationResult(SeparationStatus.FAILED, error=error, raw_status=flag)
    if not normalized.startswith("PENDING"):
        log.warning("separation flag %r without an instrumentalUrl; treating as pending", flag)
    return SeparationResult(SeparationStatus.PENDING, raw_status=flag)


def verify_signature(
    key: str,
    task_id: str,
    timestamp: str,
    signature: str,
    *,
    now: float,
    max_age_seconds: float = 300,
) -> bool:
    """Whether X-Webhook-Signature = base64(HMAC_SHA256(key, taskId + "." + ts)) and ts is fresh.

    §2.3: only taskId and timestamp are signed, so freshness is the replay protection; the docs
    give no window, hence `max_age_seconds` either side of `now`.
    """
    stamp = timestamp.strip()
    if not key or not stamp.isascii() or not stamp.isdigit():
        return False
    if abs(now - int(stamp)) > max_age_seconds:
        return False
    digest = hmac.new(key.encode(), f"{task_id}.{stamp}".encode(), hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    return hmac.compare_digest(expected, signature.strip().encode())


def video_task_id_from(payload: Mapping[str, Any]) -> str:
    """`data.taskId` of a successful create answer, or MalformedResponse."""
    data = payload.get("data")
    task_id = text_field(data, "taskId") if isinstance(data, dict) else None
    if task_id is None:
        raise MalformedResponse("create answer carries no data.taskId")
    return task_id


def details_from(payload: Mapping[str, Any]) -> VideoResult:
    """A VideoResult from a record-info payload (camelCase, §2.2 / §3.2)."""
    data = object_field(payload, "data")
    raw = data.get("successFlag")
    flag = None if raw is None else str(raw).strip()
    video = data.get("response")
    url = text_field(video, "videoUrl") if isinstance(video, dict) else None
    status = _video_status(flag, url)
    error = text_field(data, "errorMessage")
    if status is VideoStatus.FAILED and error is None:
        error = flag
    return VideoResult(
        task_id=text_field(data, "taskId"),
        status=status,
        video_url=url if status is VideoStatus.SUCCEEDED else None,
        error=error,
        raw_status=flag,
        completed_at=parse_timestamp(data.get("completeTime")),
        callback_url=text_field(data, "callbackUrl"),
        # sunoapi's newer example has a placeholder musicId and the real `audioId` (§3.2).
        audio_id=text_field(data, "audioId", "musicId"),
    )


def callback_from(payload: Mapping[str, Any]) -> VideoResult:
    """A VideoResult from a callback payload (snake_case `data`, §2.3 / §3.3)."""
    data = object_field(payload, "data")
    task_id = text_field(data, "task_id", "taskId")
    code = int_code(payload.get("code"))
    if task_id is None or code is None:
        raise MalformedResponse("callback lacks data.task_id or code")
    url = text_field(data, "video_url")
    if code in SUCCESS_CODES:  # 0 is "success" in the generated callback schema (§2.3, §7.3)
        status = VideoStatus.SUCCEEDED if url else VideoStatus.PENDING
        return VideoResult(task_id, status, video_url=url, raw_status=str(code))
    error = message_of(payload) or f"code {code}"
    return VideoResult(task_id, VideoStatus.FAILED, error=error, raw_status=str(code))


def tracks_from(payload: Mapping[str, Any]) -> TrackList:
    """A TrackList from a music record-info payload (§5)."""
    data = object_field(payload, "data")
    status = (text_field(data, "status") or "").upper()
    tracks = _tracks(data)
    # CALLBACK_EXCEPTION only means the provider could not reach a callback URL; tracks that are
    # there are usable (by analogy with §7.6). A finished SUCCESS without ids offers nothing.
    if status == "SUCCESS" or (tracks and status in _MUSIC_READY | {"CALLBACK_EXCEPTION"}):
        return TrackList(TrackListStatus.READY, tracks)
    if status in _MUSIC_PENDING | _MUSIC_READY:
        return TrackList(TrackListStatus.PENDING)
    if status in _MUSIC_FAILED or "FAIL" in status or "ERROR" in status:
        error = text_field(data, "errorMessage") or status
        return TrackList(TrackListStatus.FAILED, error=error)
    log.warning("unknown music task status %r; treating as pending", status)
    return TrackList(TrackListStatus.PENDING)


def credits_from(payload: Mapping[str, Any]) -> Credits:
    """Credits from a payload whose `data` is the bare balance."""
    return Credits(decimal_amount(payload.get("data")))


def lyrics_from(payload: Mapping[str, Any]) -> AlignedLyrics:
    """AlignedLyrics from a timestamped-lyrics payload; both word spellings (§5.1)."""
    data = object_field(payload, "data")
    items = data.get("alignedWords")
    if items is not None and not isinstance(items, list):
        raise MalformedResponse(f"alignedWords is not a list: {type(items).__name__}")
    waveform = data.get("waveformData")
    return aligned_lyrics(
        (_word_token(item) for item in items or () if isinstance(item, dict)),
        hoot_cer=seconds_or_none(data.get("hootCer")),
        waveform=_levels(waveform) if isinstance(waveform, list) else (),
        is_streamed=data.get("isStreamed") is True,
    )


def _word_token(item: Mapping[str, Any]) -> WordToken:
    # A word without usable times is passed on as NaN: its tags and breaks still count.
    word = item.get("word")
    start = _first_seconds(item, "startS", "start_s")
    end = _first_seconds(item, "endS", "end_s")
    palign = _first_seconds(item, "palign", "p_align")
    return WordToken(
        word if isinstance(word, str) else "",
        math.nan if start is None else start,
        math.nan if end is None else end,
        item.get("success") is not False,  # absent means aligned; only an explicit false fails
        palign or 0.0,
    )


def _first_seconds(item: Mapping[str, Any], *names: str) -> float | None:
    return next((s for name in names if (s := seconds_or_none(item.get(name))) is not None), None)


def _levels(values: list[Any]) -> tuple[float, ...]:
    # Keep one level per sample (a bad one reads as silence) so sample i stays at time i·step.
    return tuple(
        level if (level := seconds_or_none(value)) is not None else 0.0 for value in values
    )


def _video_status(flag: str | None, url: str | None) -> VideoStatus:
    # Matched by prefix: the schema text glues flag and meaning ("SUCCESS-Success", §7.7).
    normalized = (flag or "").upper()
    if normalized.startswith(("SUCCESS", "CALLBACK_EXCEPTION")):
        if url:
            return VideoStatus.SUCCEEDED
        # CALLBACK_EXCEPTION without a url: the result may still arrive (§7.6); keep polling.
        log.warning("successFlag %r without a videoUrl; treating as pending", flag)
        return VideoStatus.PENDING
    if "FAIL" in normalized:  # CREATE_TASK_FAILED, GENERATE_MP4_FAILED and kin
        return VideoStatus.FAILED
    if not normalized.startswith("PENDING"):
        log.warning("unknown successFlag %r; treating as pending", flag)
    return VideoStatus.PENDING


def _tracks(data: Mapping[str, Any]) -> tuple[Track, ...]:
    response = data.get("response")
    items = response.get("sunoData") if isinstance(response, dict) else None
    if not isinstance(items, list):
        return ()
    return tuple(
        Track(
            audio_id,
            text_field(item, "title") or "",
            seconds_or_none(item.get("duration")),
            audio_url=text_field(item, "audioUrl", "sourceAudioUrl", "streamAudioUrl"),
            image_url=text_field(item, "imageUrl", "sourceImageUrl"),
            tags=text_field(item, "tags"),
        )
        for item in items
        if isinstance(item, dict) and (audio_id := text_field(item, "id"))
    )
