"""Helpers every dialect shares: body decoding, the two error layers, timestamps, amounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bot.domain import Family, Provider
from bot.upstream import kie, sunoapi, unified
from bot.upstream.common import (
    checked_payload,
    decimal_amount,
    decode_object,
    error_for,
    int_code,
    mentions_already_exists,
    message_of,
    parse_timestamp,
    seconds_or_none,
)
from bot.upstream.dialect import dialect_for, dialect_for_family
from bot.upstream.errors import (
    AlreadyExists,
    InvalidTrack,
    MalformedResponse,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bot.upstream.http import HttpResponse

AT_0010 = datetime(2025, 1, 1, 0, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-01 00:10:00",
        "2025-01-01T00:10:00",
        "2025-01-01T00:10:00Z",
        "2025-01-01T03:10:00+03:00",
        "2025-01-01T00:10:00.000",
        1735690200000,
        "1735690200000",
        1735690200000.0,
        1735690200,  # unix seconds, as crun answers (docs/providers.md §7.2)
        " 2025-01-01 00:10:00 ",
    ],
)
def test_timestamps_in_every_form_become_aware_utc(value: object) -> None:
    parsed = parse_timestamp(value)
    assert parsed == AT_0010
    assert parsed is not None
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "yesterday", "2025-13-45 99:99:99", True, [], {}, float("nan"), "inf", 1e300],
)
def test_unparseable_timestamps_are_none(value: object) -> None:
    assert parse_timestamp(value) is None


def test_zoned_timestamp_is_converted_to_utc() -> None:
    parsed = parse_timestamp("2025-06-01T12:00:00-05:00")
    assert parsed == datetime(2025, 6, 1, 17, 0, tzinfo=UTC)
    assert parsed == datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))


@pytest.mark.parametrize("body", [b"", b"nope", b"[]", b"3", b"null", b"\xff", b"[" * 100_000])
def test_decode_object_refuses_non_objects(body: bytes) -> None:
    with pytest.raises(MalformedResponse):
        decode_object(body)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(200, 200), ("409", 409), (" 0 ", 0), (True, None), (None, None), ("x", None), (2.0, None)],
)
def test_int_code(value: object, expected: int | None) -> None:
    assert int_code(value) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Mp4 record already exists", True),
        ("Conflict - WAV RECORD ALREADY EXISTS", True),
        ("Validation error", False),
        (None, False),
    ],
)
def test_mentions_already_exists(message: str | None, expected: bool) -> None:
    assert mentions_already_exists(message) is expected


def test_message_of_reads_each_family_shape() -> None:
    assert message_of({"code": 400, "msg": "kie text"}) == "kie text"
    assert message_of({"code": 400, "error": {"message": "vidgo", "type": "t"}}) == "vidgo"
    assert message_of({"code": 400, "error": {"type": "validation_error"}}) == "validation_error"
    assert message_of({"code": 400}) is None


def test_error_for_unknown_codes() -> None:
    assert type(error_for(418, "teapot", {})) is UpstreamRejected
    assert type(error_for(599, None, {})) is UpstreamUnavailable
    assert type(error_for(200, "Mp4 record already exists", {})) is AlreadyExists


def test_rate_limit_has_no_retry_after() -> None:
    error = error_for(429, "slow down", kie.ERRORS)
    assert isinstance(error, RateLimited)
    assert error.retry_after is None


def test_body_code_wins_over_http_status() -> None:
    body = b'{"code": 422, "msg": "bad audioId"}'
    with pytest.raises(InvalidTrack):
        checked_payload(HttpResponse(500, body), kie.ERRORS)
    assert checked_payload(HttpResponse(200, b'{"code": 200, "data": 1}'), kie.ERRORS)["data"] == 1


def test_http_status_decides_without_a_body_code() -> None:
    with pytest.raises(UpstreamUnavailable):
        checked_payload(HttpResponse(502, b"<html>Bad Gateway</html>"), kie.ERRORS)
    with pytest.raises(AlreadyExists) as caught:
        checked_payload(HttpResponse(409, b'{"data": {"taskId": "v9"}}'), kie.ERRORS)
    assert caught.value.existing_task_id == "v9"


def test_http_200_that_is_not_json_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        checked_payload(HttpResponse(200, b"<html>"), kie.ERRORS)


def test_json_without_code_on_http_200_is_passed_on() -> None:
    assert checked_payload(HttpResponse(200, b'{"data": 5}'), unified.ERRORS) == {"data": 5}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(100, Decimal(100)), (123.45, Decimal("123.45")), ("17276", Decimal(17276))],
)
def test_decimal_amount(value: object, expected: Decimal) -> None:
    assert decimal_amount(value) == expected


@pytest.mark.parametrize("value", [None, True, "lots", "NaN", "Infinity", {}, []])
def test_decimal_amount_refuses_non_numbers(value: object) -> None:
    with pytest.raises(MalformedResponse):
        decimal_amount(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(198.44, 198.44), ("201.2", 201.2), (0, 0.0), (None, None), (-1, None), ("x", None)],
)
def test_seconds_or_none(value: object, expected: float | None) -> None:
    assert seconds_or_none(value) == expected


@pytest.mark.parametrize(
    ("provider", "module"),
    [
        (Provider.KIE, kie),
        (Provider.APIKLEY, kie),
        (Provider.SUNOAPI, sunoapi),
        (Provider.APIBOX, sunoapi),
        (Provider.VIDGO, unified),
    ],
)
def test_dialect_for_provider(provider: Provider, module: object) -> None:
    assert dialect_for(provider) is module


def test_every_family_has_a_dialect() -> None:
    assert {dialect_for_family(family) for family in Family} == {kie, sunoapi, unified}
