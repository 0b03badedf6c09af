"""The SUNOAPI dialect (sunoapi.org, api.box) against the sample bodies in tests/samples/sunoapi."""

from __future__ import annotations

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
from bot.upstream import sunoapi
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

SAMPLES = Path(__file__).parents[1] / "samples" / "sunoapi"
VIDEO_ID = "taskId_774b9aa0422f"
URL = "https://example.com/videos/video_847715e66259.mp4"
AT_0010 = datetime(2025, 1, 1, 0, 10, tzinfo=UTC)
AT_MS = datetime(2024, 12, 31, 16, 10, tzinfo=UTC)  # 1735661400000 ms


def sample(name: str) -> bytes:
    return (SAMPLES / f"{name}.json").read_bytes()


def answer(name: str) -> HttpResponse:
    return HttpResponse(200, sample(name))


CREATE_ERRORS: dict[str, type[UpstreamError]] = {
    "create_missing_id": MalformedResponse,
    "create_error_400": InvalidTrack,
    "create_error_401": Unauthorized,
    "create_error_404": InvalidTrack,
    "create_error_405": RateLimited,
    "create_error_409_with_id": AlreadyExists,
    "create_error_409_no_id": AlreadyExists,
    "create_error_413": InvalidTrack,
    "create_error_429": InsufficientCredits,  # not a rate limit here (docs/providers.md §7.8)
    "create_error_430": RateLimited,
    "create_error_455": Maintenance,
    "create_error_500": UpstreamUnavailable,
    "create_error_unknown_code": UpstreamRejected,
}


def _details(
    flag: str,
    status: VideoStatus,
    *,
    video_url: str | None = None,
    error: str | None = None,
    completed_at: datetime = AT_0010,
) -> VideoResult:
    return VideoResult(VIDEO_ID, status, video_url, error, flag, completed_at)


DETAILS: dict[str, VideoResult] = {
    "details_pending": _details("PENDING", VideoStatus.PENDING),
    "details_success_variant_a": _details("SUCCESS", VideoStatus.SUCCEEDED, video_url=URL),
    "details_success_variant_b": _details(
        "SUCCESS", VideoStatus.SUCCEEDED, video_url=URL, completed_at=AT_MS
    ),
    "details_create_task_failed": _details(
        "CREATE_TASK_FAILED", VideoStatus.FAILED, error="Create task failed"
    ),
    "details_generate_mp4_failed": _details(
        "GENERATE_MP4_FAILED", VideoStatus.FAILED, error="MP4 generation failed"
    ),
    "details_callback_exception_with_url": _details(
        "CALLBACK_EXCEPTION", VideoStatus.SUCCEEDED, video_url=URL
    ),
    "details_callback_exception_no_url": _details("CALLBACK_EXCEPTION", VideoStatus.PENDING),
}


def _failed(code: int, message: str) -> VideoResult:
    return VideoResult(VIDEO_ID, VideoStatus.FAILED, error=message, raw_status=str(code))


CALLBACKS: dict[str, VideoResult] = {
    "callback_success": VideoResult(
        VIDEO_ID, VideoStatus.SUCCEEDED, video_url=URL, raw_status="200"
    ),
    "callback_failed_400": _failed(400, "MP4 generation failed: unsupported audio format"),
    "callback_failed_401": _failed(401, "Invalid API key"),
    "callback_failed_429": _failed(429, "Insufficient credits"),
    "callback_failed_451": _failed(451, "Failed to download the source audio"),
    "callback_failed_500": _failed(500, "Internal server error, please retry later"),
}
TRACKS: dict[str, TrackList] = {
    "tracks_success": TrackList(
        TrackListStatus.READY,
        (
            Track(
                "e231a9c1-2f0b-4b7e-9a51-6f3c8cadc7d0",
                "Night Drive",
                198.44,
                audio_url="https://example.com/0.mp3",
                image_url="https://example.com/0.jpeg",
                tags="electrifying, rock",
            ),
            Track(
                "e231a9c1-2f0b-4b7e-9a51-6f3c8cadc7d1",
                "Night Drive (alt)",
                201.2,
                audio_url="https://example.com/1.mp3",
                image_url="https://example.com/1.jpeg",
                tags="electrifying, rock",
            ),
        ),
    ),
    "tracks_pending": TrackList(TrackListStatus.PENDING),
    "tracks_failed": TrackList(TrackListStatus.FAILED, error="Create task failed"),
}


def test_every_sample_has_an_expectation() -> None:
    covered = set(CREATE_ERRORS) | {"create_success", "credits"} | set(DETAILS)
    covered |= set(CALLBACKS) | set(TRACKS)
    names = {path.stem for path in SAMPLES.glob("*.json")}
    assert {
        name for name in names if not name.startswith(("lyrics_", "separation_"))
    } == covered  # see test_dialect_lyrics and test_dialect_separation


def test_create_answer_yields_the_video_task_id() -> None:
    assert sunoapi.parse_create(answer("create_success")) == VIDEO_ID


@pytest.mark.parametrize(("name", "kind"), CREATE_ERRORS.items())
def test_create_error_maps_to_its_exception(name: str, kind: type[UpstreamError]) -> None:
    with pytest.raises(UpstreamError) as caught:
        sunoapi.parse_create(answer(name))
    assert type(caught.value) is kind


@pytest.mark.parametrize(
    ("name", "existing"),
    [("create_error_409_with_id", "taskId_0a1b2c3d4e5f"), ("create_error_409_no_id", None)],
)
def test_already_exists_carries_the_existing_task_id(name: str, existing: str | None) -> None:
    with pytest.raises(AlreadyExists) as caught:
        sunoapi.parse_create(answer(name))
    assert caught.value.existing_task_id == existing


def test_body_code_429_wins_over_http_status() -> None:
    with pytest.raises(InsufficientCredits):
        sunoapi.parse_create(HttpResponse(429, sample("create_error_429")))


def test_bare_http_429_is_a_rate_limit() -> None:
    with pytest.raises(RateLimited):
        sunoapi.parse_create(HttpResponse(429, b"Too Many Requests"))


@pytest.mark.parametrize(("name", "expected"), DETAILS.items())
def test_details_sample_parses(name: str, expected: VideoResult) -> None:
    parsed = sunoapi.parse_details(answer(name))
    # What the task was made for is checked separately below.
    assert replace(parsed, callback_url=None, audio_id=None) == expected


@pytest.mark.parametrize(("name", "expected"), CALLBACKS.items())
def test_callback_sample_parses(name: str, expected: VideoResult) -> None:
    assert sunoapi.parse_callback(sample(name)) == expected


@pytest.mark.parametrize("body", [b"", b"{}", b'{"code": 200, "data": {}}', b"null"])
def test_non_callback_body_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponse):
        sunoapi.parse_callback(body)


@pytest.mark.parametrize(("name", "expected"), TRACKS.items())
def test_tracks_sample_parses(name: str, expected: TrackList) -> None:
    assert sunoapi.parse_tracks(answer(name)) == expected


def test_credits_sample_parses() -> None:
    assert sunoapi.parse_credits(answer("credits")) == Credits(Decimal(100))


def test_credits_out_is_429() -> None:
    with pytest.raises(InsufficientCredits):
        sunoapi.parse_credits(HttpResponse(200, b'{"code":429,"msg":"Insufficient credits"}'))


def test_build_create_matches_kie_shape() -> None:
    request = VideoRequest("music-1", "audio-1", "https://bot.example/cb/tok", "Ann")
    assert sunoapi.build_create(request) == HttpRequest(
        "POST",
        "/api/v1/mp4/generate",
        json={
            "taskId": "music-1",
            "audioId": "audio-1",
            "callBackUrl": "https://bot.example/cb/tok",
            "author": "Ann",
        },
    )


def test_build_create_omits_absent_author_and_domain() -> None:
    request = VideoRequest("music-1", "audio-1", "https://bot.example/cb/tok", domain_name="d.io")
    assert sunoapi.build_create(request).json == {
        "taskId": "music-1",
        "audioId": "audio-1",
        "callBackUrl": "https://bot.example/cb/tok",
        "domainName": "d.io",
    }


def test_other_requests() -> None:
    assert sunoapi.build_details("v1") == HttpRequest(
        "GET", "/api/v1/mp4/record-info", params={"taskId": "v1"}
    )
    assert sunoapi.build_tracks("m1") == HttpRequest(
        "GET", "/api/v1/generate/record-info", params={"taskId": "m1"}
    )
    assert sunoapi.build_credits() == HttpRequest("GET", "/api/v1/generate/credit")


def test_no_signature_scheme_so_nothing_verifies() -> None:
    assert not sunoapi.verify_signature("k", VIDEO_ID, "1750000000", "sig", now=1_750_000_000.0)


def test_details_prefer_the_real_audio_id_over_a_placeholder_music_id() -> None:
    parsed = sunoapi.parse_details(answer("details_success_variant_b"))
    assert parsed.audio_id == "e231a9c1-2f0b-4b7e-9a51-6f3c8cadc7dc"
    assert parsed.callback_url == "https://api.example.com/callback"
