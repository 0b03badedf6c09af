"""The KIE dialect (kie.ai, apikley) against the sample bodies in tests/samples/kie."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain import (
    Credits,
    Track,
    TrackList,
    TrackListStatus,
    VideoRequest,
    VideoResult,
    VideoStatus,
)
from bot.upstream import kie
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
from bot.upstream.http import HttpRequest, HttpResponse

SAMPLES = Path(__file__).parents[1] / "samples" / "kie"
VIDEO_ID = "988e4b1f2a3c4d5e6f708192a3b4c8d3"
URL = "https://example.com/s/04e6b2c3d4e5e727.mp4"
AT_0010 = datetime(2025, 1, 1, 0, 10, tzinfo=UTC)


def sample(name: str) -> bytes:
    return (SAMPLES / f"{name}.json").read_bytes()


def answer(name: str, status: int = 200) -> HttpResponse:
    return HttpResponse(status, sample(name))


CREATE_ERRORS: dict[str, type[UpstreamError]] = {
    "create_placeholder_code0": MalformedResponse,
    "create_missing_id": MalformedResponse,
    "create_error_400": InvalidTrack,
    "create_error_401": Unauthorized,
    "create_error_402": InsufficientCredits,
    "create_error_404": InvalidTrack,
    "create_error_408": UpstreamUnavailable,
    "create_error_409_with_id": AlreadyExists,
    "create_error_409_no_id": AlreadyExists,
    "create_error_422": InvalidTrack,
    "create_error_422_already_exists": AlreadyExists,
    "create_error_429": RateLimited,
    "create_error_455": Maintenance,
    "create_error_500": UpstreamUnavailable,
    "create_error_501": UpstreamRejected,
    "create_error_505": UpstreamRejected,
    "create_error_unknown_code": UpstreamRejected,
}
CREATE_OK = {"create_success": VIDEO_ID, "create_success_code0": VIDEO_ID}


def _details(
    flag: str,
    status: VideoStatus,
    *,
    video_url: str | None = None,
    error: str | None = None,
    completed_at: datetime | None = AT_0010,
) -> VideoResult:
    return VideoResult(VIDEO_ID, status, video_url, error, flag, completed_at)


DETAILS: dict[str, VideoResult] = {
    "details_pending": _details("PENDING", VideoStatus.PENDING, completed_at=None),
    "details_success": _details("SUCCESS", VideoStatus.SUCCEEDED, video_url=URL),
    "details_success_suffixed": _details("SUCCESS-Success", VideoStatus.SUCCEEDED, video_url=URL),
    "details_success_epoch_ms": _details("SUCCESS", VideoStatus.SUCCEEDED, video_url=URL),
    "details_success_no_url": _details("SUCCESS", VideoStatus.PENDING),
    "details_create_task_failed": _details(
        "CREATE_TASK_FAILED", VideoStatus.FAILED, error="Task creation failed"
    ),
    "details_generate_mp4_failed": _details(
        "GENERATE_MP4_FAILED", VideoStatus.FAILED, error="Audio mp4 generation failed"
    ),
    "details_unknown_flag": _details("QUEUED", VideoStatus.PENDING),
}
DETAILS_ERRORS: dict[str, type[UpstreamError]] = {"details_error_401": Unauthorized}

CALLBACKS: dict[str, VideoResult] = {
    "callback_success": VideoResult(
        VIDEO_ID, VideoStatus.SUCCEEDED, video_url=URL, raw_status="200"
    ),
    "callback_success_no_url": VideoResult(VIDEO_ID, VideoStatus.PENDING, raw_status="200"),
    "callback_failed_500": VideoResult(
        VIDEO_ID, VideoStatus.FAILED, error="Audio mp4 generation failed", raw_status="500"
    ),
}

_MEDIA = {"tags": "electrifying, rock"}
_TRACK_0 = Track(
    "e231a9c1-2f0b-4b7e-9a51-6f3c8cadc7d0",
    "Night Drive",
    198.44,
    audio_url="https://example.com/0.mp3",
    image_url="https://example.com/0.jpeg",
    **_MEDIA,
)
_TRACK_1 = Track(
    "e231a9c1-2f0b-4b7e-9a51-6f3c8cadc7d1",
    "Night Drive (alt)",
    201.2,
    audio_url="https://example.com/1.mp3",
    image_url="https://example.com/1.jpeg",
    **_MEDIA,
)
TRACKS: dict[str, TrackList] = {
    "tracks_success": TrackList(TrackListStatus.READY, (_TRACK_0, _TRACK_1)),
    "tracks_first_success": TrackList(TrackListStatus.READY, (_TRACK_0,)),
    "tracks_text_success": TrackList(TrackListStatus.PENDING),
    "tracks_pending": TrackList(TrackListStatus.PENDING),
    "tracks_failed": TrackList(TrackListStatus.FAILED, error="Audio generation failed"),
    "tracks_sensitive_word": TrackList(
        TrackListStatus.FAILED, error="Lyrics contain sensitive words"
    ),
}
CREDITS = {"credits": Decimal(100), "credits_fractional": Decimal("123.45")}


def test_every_sample_has_an_expectation() -> None:
    covered = set(CREATE_ERRORS) | set(CREATE_OK) | set(DETAILS) | set(DETAILS_ERRORS)
    covered |= set(CALLBACKS) | set(TRACKS) | set(CREDITS)
    names = {path.stem for path in SAMPLES.glob("*.json")}
    assert {
        name for name in names if not name.startswith(("lyrics_", "separation_"))
    } == covered  # see test_dialect_lyrics and test_dialect_separation


@pytest.mark.parametrize(("name", "expected"), CREATE_OK.items())
def test_create_answer_yields_the_video_task_id(name: str, expected: str) -> None:
    assert kie.parse_create(answer(name)) == expected


@pytest.mark.parametrize(("name", "kind"), CREATE_ERRORS.items())
def test_create_error_maps_to_its_exception(name: str, kind: type[UpstreamError]) -> None:
    with pytest.raises(UpstreamError) as caught:
        kie.parse_create(answer(name))
    assert type(caught.value) is kind


@pytest.mark.parametrize(
    ("name", "existing"),
    [
        ("create_error_409_with_id", VIDEO_ID),
        ("create_error_409_no_id", None),
        ("create_error_422_already_exists", VIDEO_ID),
    ],
)
def test_already_exists_carries_the_existing_task_id(name: str, existing: str | None) -> None:
    with pytest.raises(AlreadyExists) as caught:
        kie.parse_create(answer(name))
    assert caught.value.existing_task_id == existing


def test_rejection_keeps_code_and_provider_text() -> None:
    with pytest.raises(InsufficientCredits) as caught:
        kie.parse_create(answer("create_error_402"))
    assert caught.value.code == 402
    assert caught.value.reason.startswith("Insufficient Credits")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, Unauthorized),
        (402, InsufficientCredits),
        (422, InvalidTrack),
        (429, RateLimited),
        (455, Maintenance),
        (500, UpstreamUnavailable),
        (503, UpstreamUnavailable),
        (505, UpstreamRejected),
    ],
)
def test_http_status_without_body_code_maps(status: int, kind: type[UpstreamError]) -> None:
    with pytest.raises(UpstreamError) as caught:
        kie.parse_create(HttpResponse(status, b"<html>error</html>"))
    assert type(caught.value) is kind


@pytest.mark.parametrize(("name", "expected"), DETAILS.items())
def test_details_sample_parses(name: str, expected: VideoResult) -> None:
    parsed = kie.parse_details(answer(name))
    # What the task was made for is checked separately below.
    assert replace(parsed, callback_url=None, audio_id=None) == expected


@pytest.mark.parametrize(("name", "kind"), DETAILS_ERRORS.items())
def test_details_error_maps(name: str, kind: type[UpstreamError]) -> None:
    with pytest.raises(kind):
        kie.parse_details(answer(name))


def test_details_with_null_data_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        kie.parse_details(HttpResponse(200, b'{"code":200,"msg":"success","data":null}'))


def test_failed_flag_without_message_reports_the_flag() -> None:
    body = b'{"code":200,"data":{"taskId":"t","successFlag":"GENERATE_MP4_FAILED"}}'
    result = kie.parse_details(HttpResponse(200, body))
    assert (result.status, result.error) == (VideoStatus.FAILED, "GENERATE_MP4_FAILED")


@pytest.mark.parametrize(("name", "expected"), CALLBACKS.items())
def test_callback_sample_parses(name: str, expected: VideoResult) -> None:
    assert kie.parse_callback(sample(name)) == expected


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"code": 200}',
        b'{"code": 200, "data": "x"}',
        b'{"code": 200, "data": {"video_url": "https://x/y.mp4"}}',
        b'{"code": 200, "data": {"task_id": 5}}',
        b'{"data": {"task_id": "t1"}}',
        b'{"code": true, "data": {"task_id": "t1"}}',
        b"\xff\xfe",
    ],
)
def test_non_callback_body_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponse):
        kie.parse_callback(body)


@pytest.mark.parametrize(("name", "expected"), TRACKS.items())
def test_tracks_sample_parses(name: str, expected: TrackList) -> None:
    assert kie.parse_tracks(answer(name)) == expected


@pytest.mark.parametrize(("name", "expected"), CREDITS.items())
def test_credits_sample_parses(name: str, expected: Decimal) -> None:
    assert kie.parse_credits(answer(name)) == Credits(expected)


def test_build_create_with_every_field() -> None:
    request = VideoRequest("music-1", "audio-1", "https://bot.example/cb/tok", "Ann", "ex.com")
    assert kie.build_create(request) == HttpRequest(
        "POST",
        "/api/v1/mp4/generate",
        json={
            "taskId": "music-1",
            "audioId": "audio-1",
            "callBackUrl": "https://bot.example/cb/tok",
            "author": "Ann",
            "domainName": "ex.com",
        },
    )


def test_build_create_omits_absent_author_and_domain() -> None:
    request = VideoRequest("music-1", "audio-1", "https://bot.example/cb/tok")
    assert kie.build_create(request).json == {
        "taskId": "music-1",
        "audioId": "audio-1",
        "callBackUrl": "https://bot.example/cb/tok",
    }


def test_other_requests() -> None:
    assert kie.build_details("v1") == HttpRequest(
        "GET", "/api/v1/mp4/record-info", params={"taskId": "v1"}
    )
    assert kie.build_tracks("m1") == HttpRequest(
        "GET", "/api/v1/generate/record-info", params={"taskId": "m1"}
    )
    assert kie.build_credits() == HttpRequest("GET", "/api/v1/chat/credit")


NOW = 1_750_000_000.0


def _sign(key: str, task_id: str, timestamp: str) -> str:
    digest = hmac.new(key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_valid_signature_is_accepted() -> None:
    ts = str(int(NOW) - 10)
    assert kie.verify_signature("secret", VIDEO_ID, ts, _sign("secret", VIDEO_ID, ts), now=NOW)


@pytest.mark.parametrize(
    ("key", "task_id", "signed_ts", "sent_ts"),
    [
        ("other", VIDEO_ID, "1750000000", "1750000000"),  # wrong key
        ("secret", "other-task", "1750000000", "1750000000"),  # signed for another task
        ("secret", VIDEO_ID, "1749999990", "1750000000"),  # timestamp swapped
        ("secret", VIDEO_ID, "1749999000", "1749999000"),  # stale: 1000 s old
        ("secret", VIDEO_ID, "1750000900", "1750000900"),  # from the future
        ("secret", VIDEO_ID, "1750000000.5", "1750000000.5"),  # not an integer
        ("secret", VIDEO_ID, "-5", "-5"),
        ("secret", VIDEO_ID, "", ""),
    ],
)
def test_bad_signature_is_refused(key: str, task_id: str, signed_ts: str, sent_ts: str) -> None:
    signature = _sign(key, task_id, signed_ts)
    assert not kie.verify_signature("secret", VIDEO_ID, sent_ts, signature, now=NOW)


@pytest.mark.parametrize("signature", ["", "garbage", "ÿÿÿ", "=" * 44])
def test_garbage_signature_is_refused(signature: str) -> None:
    assert not kie.verify_signature("secret", VIDEO_ID, "1750000000", signature, now=NOW)


def test_empty_key_never_verifies() -> None:
    ts = "1750000000"
    assert not kie.verify_signature("", VIDEO_ID, ts, _sign("", VIDEO_ID, ts), now=NOW)


def test_signature_age_window_is_configurable() -> None:
    ts = str(int(NOW) - 600)
    signature = _sign("secret", VIDEO_ID, ts)
    assert not kie.verify_signature("secret", VIDEO_ID, ts, signature, now=NOW)
    assert kie.verify_signature("secret", VIDEO_ID, ts, signature, now=NOW, max_age_seconds=900)


def test_details_name_the_callback_url_and_track_the_task_was_made_for() -> None:
    parsed = kie.parse_details(answer("details_success"))
    assert parsed.callback_url == "https://api.example.com/callback"
    assert parsed.audio_id == "e231a9c1-2f0b-4b7e-9a51-6f3c8cadc7dc"
