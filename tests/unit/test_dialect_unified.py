"""The UNIFIED dialect (vidgo, PoYo) against the sample bodies in tests/samples/unified."""

from __future__ import annotations

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
from bot.upstream import unified
from bot.upstream.errors import (
    AlreadyExists,
    InsufficientCredits,
    InvalidTrack,
    MalformedResponse,
    RateLimited,
    Unauthorized,
    UpstreamError,
    UpstreamUnavailable,
)
from bot.upstream.http import HttpRequest, HttpResponse

SAMPLES = Path(__file__).parents[1] / "samples" / "unified"
VIDEO_ID = "8FDN1I7M7Q68DDG8"
URL = "https://storage.vidgo.ai/generated/8FDN1I7M7Q68DDG8.mp4"


def sample(name: str) -> bytes:
    return (SAMPLES / f"{name}.json").read_bytes()


def answer(name: str) -> HttpResponse:
    return HttpResponse(200, sample(name))


CREATE_ERRORS: dict[str, type[UpstreamError]] = {
    "create_missing_id": MalformedResponse,
    "create_error_400": InvalidTrack,
    "create_error_400_moderation": InvalidTrack,
    "create_error_401": Unauthorized,
    "create_error_402": InsufficientCredits,
    "create_error_403": Unauthorized,
    "create_error_404": InvalidTrack,
    "create_error_409": AlreadyExists,
    "create_error_409_with_id": AlreadyExists,
    "create_error_429": RateLimited,
    "create_error_500": UpstreamUnavailable,
    "create_error_503": UpstreamUnavailable,
}
_SUCCEEDED = VideoResult(VIDEO_ID, VideoStatus.SUCCEEDED, video_url=URL, raw_status="finished")
_FAILED = VideoResult(
    VIDEO_ID, VideoStatus.FAILED, error="Audio could not be processed", raw_status="failed"
)
DETAILS: dict[str, VideoResult] = {
    "details_not_started": VideoResult(VIDEO_ID, VideoStatus.PENDING, raw_status="not_started"),
    "details_running": VideoResult(VIDEO_ID, VideoStatus.PENDING, raw_status="running"),
    "details_finished": _SUCCEEDED,
    "details_finished_no_files": VideoResult(VIDEO_ID, VideoStatus.PENDING, raw_status="finished"),
    "details_failed": _FAILED,
}
CALLBACKS: dict[str, VideoResult] = {
    "callback_finished": _SUCCEEDED,
    "callback_failed": _FAILED,
    "callback_finished_unwrapped": _SUCCEEDED,
    "callback_failed_unwrapped": _FAILED,
}
TRACKS: dict[str, TrackList] = {
    "tracks_finished": TrackList(
        TrackListStatus.READY,
        (
            Track(
                "a1b2c3d4-0000-4000-8000-000000000001",
                "Night Drive",
                198.44,
                audio_url="https://storage.vidgo.ai/a1.mp3",
                image_url="https://storage.vidgo.ai/a1.jpeg",
                tags="synthwave",
            ),
            Track(
                "a1b2c3d4-0000-4000-8000-000000000002",
                "Night Drive (alt)",
                201.2,
                audio_url="https://storage.vidgo.ai/a2.mp3",
                image_url="https://storage.vidgo.ai/a2.jpeg",
                tags="synthwave",
            ),
        ),
    ),
    "tracks_running": TrackList(TrackListStatus.PENDING),
    "tracks_not_started": TrackList(TrackListStatus.PENDING),
    "tracks_failed": TrackList(TrackListStatus.FAILED, error="Generation failed"),
}


def test_every_sample_has_an_expectation() -> None:
    covered = set(CREATE_ERRORS) | {"create_success", "credits", "details_error_404"}
    covered |= set(DETAILS) | set(CALLBACKS) | set(TRACKS)
    assert {path.stem for path in SAMPLES.glob("*.json")} == covered


def test_create_answer_yields_the_video_task_id() -> None:
    assert unified.parse_create(answer("create_success")) == "task-unified-1757165031-uyujaw3d"


@pytest.mark.parametrize(("name", "kind"), CREATE_ERRORS.items())
def test_create_error_maps_to_its_exception(name: str, kind: type[UpstreamError]) -> None:
    with pytest.raises(UpstreamError) as caught:
        unified.parse_create(answer(name))
    assert type(caught.value) is kind


@pytest.mark.parametrize(
    ("name", "existing"),
    [("create_error_409", None), ("create_error_409_with_id", "task-unified-1757160000-abcdefgh")],
)
def test_already_exists_carries_the_existing_task_id(name: str, existing: str | None) -> None:
    with pytest.raises(AlreadyExists) as caught:
        unified.parse_create(answer(name))
    assert caught.value.existing_task_id == existing


def test_error_message_comes_from_the_error_object() -> None:
    with pytest.raises(InsufficientCredits) as caught:
        unified.parse_create(HttpResponse(402, sample("create_error_402")))
    assert (caught.value.reason, caught.value.code) == ("Insufficient credits", 402)


@pytest.mark.parametrize(("name", "expected"), DETAILS.items())
def test_details_sample_parses(name: str, expected: VideoResult) -> None:
    assert unified.parse_details(answer(name)) == expected


def test_details_of_an_unknown_task_is_invalid() -> None:
    with pytest.raises(InvalidTrack):
        unified.parse_details(answer("details_error_404"))


@pytest.mark.parametrize(("name", "expected"), CALLBACKS.items())
def test_callback_sample_parses(name: str, expected: VideoResult) -> None:
    assert unified.parse_callback(sample(name)) == expected


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>",
        b"[]",
        b'{"code": 200}',
        b'{"code": 200, "data": {"status": "finished"}}',
        b'{"task_id": 7, "status": "finished"}',
        b'{"task_id": "t1", "status": 3}',
    ],
)
def test_non_callback_body_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponse):
        unified.parse_callback(body)


@pytest.mark.parametrize(("name", "expected"), TRACKS.items())
def test_tracks_sample_parses(name: str, expected: TrackList) -> None:
    assert unified.parse_tracks(answer(name)) == expected


def test_credits_sample_parses() -> None:
    assert unified.parse_credits(answer("credits")) == Credits(Decimal(17276))


def test_build_create_with_every_field() -> None:
    request = VideoRequest("music-1", "audio-1", "https://bot.example/cb/tok", "Ann", "ex.com")
    assert unified.build_create(request) == HttpRequest(
        "POST",
        "/api/generate/submit",
        json={
            "model": "create-music-video",
            "callback_url": "https://bot.example/cb/tok",
            "input": {
                "task_id": "music-1",
                "audio_id": "audio-1",
                "author": "Ann",
                "domain_name": "ex.com",
            },
        },
    )


def test_build_create_omits_absent_author_and_domain() -> None:
    request = VideoRequest("music-1", "audio-1", "https://bot.example/cb/tok")
    body = unified.build_create(request).json
    assert body is not None
    assert body["input"] == {"task_id": "music-1", "audio_id": "audio-1"}


def test_other_requests() -> None:
    assert unified.build_details("v1") == HttpRequest(
        "GET", "/api/generate/detail/music", params={"task_id": "v1"}
    )
    assert unified.build_tracks("m1") == HttpRequest(
        "GET", "/api/generate/detail/music", params={"task_id": "m1"}
    )
    assert unified.build_credits() == HttpRequest("GET", "/api/user/balance")


def test_no_signature_scheme_so_nothing_verifies() -> None:
    assert not unified.verify_signature("k", VIDEO_ID, "1750000000", "sig", now=1_750_000_000.0)
