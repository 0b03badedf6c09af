"""Vocal separation (docs/providers.md §5.2) in the KIE and SUNOAPI dialects; vidgo has none."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import SeparationResult, SeparationStatus
from bot.upstream import kie, sunoapi, unified
from bot.upstream.errors import (
    InsufficientCredits,
    Maintenance,
    MalformedResponse,
    RateLimited,
    Unauthorized,
    Unsupported,
    UpstreamError,
    UpstreamUnavailable,
)
from bot.upstream.http import HttpRequest, HttpResponse

SAMPLES = Path(__file__).parents[1] / "samples"
FAMILIES = {"kie": kie, "sunoapi": sunoapi}

INSTRUMENTAL = (
    "https://file.aiquickdraw.com/s/d92a13bf-c6f4-4ade-bb47-f69738435528_Instrumental.mp3"
)
VOCALS = "https://file.aiquickdraw.com/s/3d7021c9-fa8b-4eda-91d1-3b9297ddb172_Vocals.mp3"
DETAILS = {
    "separation_details_success": SeparationResult(
        SeparationStatus.SUCCEEDED, INSTRUMENTAL, VOCALS, raw_status="SUCCESS"
    ),
    # Only the callback failed: the files are there (§5.2).
    "separation_details_callback_exception": SeparationResult(
        SeparationStatus.SUCCEEDED, INSTRUMENTAL, VOCALS, raw_status="CALLBACK_EXCEPTION"
    ),
    "separation_details_pending": SeparationResult(SeparationStatus.PENDING, raw_status="PENDING"),
    # SUCCESS without an instrumental: not usable yet, never the original audio instead.
    "separation_details_success_no_url": SeparationResult(
        SeparationStatus.PENDING, raw_status="SUCCESS"
    ),
    "separation_details_failed": SeparationResult(
        SeparationStatus.FAILED, error="Audio separation failed", raw_status="GENERATE_AUDIO_FAILED"
    ),
    "separation_details_create_failed": SeparationResult(
        SeparationStatus.FAILED, error="CREATE_TASK_FAILED", raw_status="CREATE_TASK_FAILED"
    ),
}
CREATE = {"separation_create_success": "5e72d367bdfbe44785e28d72cb1697c7"}
MALFORMED = {"separation_create_missing_id"}
# Bodies kept for the docs (what a callback looks like); the bot polls instead (§5.2).
REFERENCE = {"separation_callback_success"}
ERRORS: dict[str, dict[str, type[UpstreamError]]] = {
    "kie": {
        "separation_error_401": Unauthorized,
        "separation_error_402": InsufficientCredits,
        "separation_error_429": RateLimited,
        "separation_error_455": Maintenance,
        "separation_error_500": UpstreamUnavailable,
    },
    "sunoapi": {
        "separation_error_401": Unauthorized,
        "separation_error_405": RateLimited,
        "separation_error_429": InsufficientCredits,  # credits, not a rate limit (§7.8)
        "separation_error_455": Maintenance,
        "separation_error_500": UpstreamUnavailable,
    },
}


def answer(family: str, name: str) -> HttpResponse:
    return HttpResponse(200, (SAMPLES / family / f"{name}.json").read_bytes())


@pytest.mark.parametrize("family", FAMILIES)
def test_every_separation_sample_has_an_expectation(family: str) -> None:
    names = {path.stem for path in (SAMPLES / family).glob("separation_*.json")}
    assert names == set(DETAILS) | set(CREATE) | MALFORMED | REFERENCE | set(ERRORS[family])


@pytest.mark.parametrize("family", FAMILIES)
def test_build_separation_request(family: str) -> None:
    built = FAMILIES[family].build_separation("music-1", "audio-1", "https://bot/cb/sep")
    assert built == HttpRequest(
        "POST",
        "/api/v1/vocal-removal/generate",
        json={
            "taskId": "music-1",
            "audioId": "audio-1",
            "type": "separate_vocal",
            "callBackUrl": "https://bot/cb/sep",
        },
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_build_separation_details_request(family: str) -> None:
    assert FAMILIES[family].build_separation_details("sep-1") == HttpRequest(
        "GET", "/api/v1/vocal-removal/record-info", params={"taskId": "sep-1"}
    )


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("name", "expected"), CREATE.items())
def test_separation_answer_yields_its_task_id(family: str, name: str, expected: str) -> None:
    assert FAMILIES[family].parse_separation(answer(family, name)) == expected


@pytest.mark.parametrize("family", FAMILIES)
def test_separation_answer_without_an_id_is_malformed(family: str) -> None:
    with pytest.raises(MalformedResponse):
        FAMILIES[family].parse_separation(answer(family, "separation_create_missing_id"))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("name", "expected"), DETAILS.items())
def test_separation_details_parse(family: str, name: str, expected: SeparationResult) -> None:
    assert FAMILIES[family].parse_separation_details(answer(family, name)) == expected


@pytest.mark.parametrize(
    ("family", "name", "kind"),
    [(family, name, kind) for family, table in ERRORS.items() for name, kind in table.items()],
)
def test_separation_errors_map_through_the_family_table(
    family: str, name: str, kind: type[UpstreamError]
) -> None:
    dialect = FAMILIES[family]
    for parse in (dialect.parse_separation, dialect.parse_separation_details):
        with pytest.raises(UpstreamError) as caught:
            parse(answer(family, name))
        assert type(caught.value) is kind


def test_vidgo_has_no_separation() -> None:
    with pytest.raises(Unsupported):
        unified.build_separation("music-1", "audio-1", "https://bot/cb")
    with pytest.raises(Unsupported):
        unified.build_separation_details("sep-1")
    with pytest.raises(Unsupported):
        unified.parse_separation(HttpResponse(200, b"{}"))
    with pytest.raises(Unsupported):
        unified.parse_separation_details(HttpResponse(200, b"{}"))


def test_a_details_body_without_data_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        kie.parse_separation_details(HttpResponse(200, b'{"code":200,"msg":"ok","data":null}'))
