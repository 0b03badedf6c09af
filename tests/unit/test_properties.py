"""Property-based tests: the pure parsers never fail with anything but their own errors.

Command arguments raise only CommandSyntaxError; every dialect's parsers raise only the
upstream error tree (MalformedResponse for callbacks), whatever bytes, JSON or near-miss of the
real shapes (tests/samples/) arrive.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import MAX_AUTHOR_LENGTH, Credits, TrackList, VideoResult, VideoStatus
from bot.text.commands import CommandSyntaxError, parse_video_args
from bot.upstream import kie, sunoapi, unified
from bot.upstream.common import int_code, parse_timestamp
from bot.upstream.errors import MalformedResponse, UpstreamError
from bot.upstream.http import HttpResponse

SAMPLES = Path(__file__).parents[1] / "samples"
ID = re.compile(r"\A[A-Za-z0-9_-]{1,128}\Z")
PROPERTY = settings(max_examples=200, deadline=None)
# Twelve dialect x endpoint pairs share common.checked_payload: fewer examples each, same reach.
MATRIX = settings(max_examples=100, deadline=None)
DIALECTS: dict[str, ModuleType] = {"kie": kie, "sunoapi": sunoapi, "unified": unified}

# ---- strategies ---------------------------------------------------------------------------

# Field names the dialects read, so arbitrary objects often hit a real field with a wrong value.
FIELD_NAMES = (
    "code", "msg", "message", "error", "type", "data", "task_id", "taskId", "video_url",
    "videoUrl", "successFlag", "response", "errorMessage", "error_message", "completeTime",
    "status", "files", "sunoData", "id", "audio_id", "title", "duration", "credits_amount",
)  # fmt: skip

_OFFSETS = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23))
_ZONES = st.none() | st.builds(timezone, _OFFSETS)
ISO_TIMES = st.one_of(  # the first and last days of datetime's range are drawn on purpose
    st.datetimes(timezones=_ZONES),
    st.datetimes(max_value=datetime(1, 1, 2), timezones=_ZONES),  # noqa: DTZ001 - a bound
    st.datetimes(min_value=datetime(9999, 12, 31), timezones=_ZONES),  # noqa: DTZ001 - a bound
).map(lambda moment: moment.isoformat())
NUMERIC_TEXT = st.one_of(
    st.integers().map(str),
    st.floats().map(str),
    st.sampled_from(["", " ", "-", "--5", "²", "١٢", "1_000", "Infinity", "sNaN", "200 ", " 0"]),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and ±Infinity too: json.dumps writes them and json.loads reads them back
    st.text(max_size=30),
    st.sampled_from((*FIELD_NAMES, "SUCCESS", "PENDING", "FAIL", "finished", "failed", "running")),
    NUMERIC_TEXT,
    ISO_TIMES,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), children, max_size=5),
    ),
    max_leaves=25,
)
STATUS_CODES = st.one_of(
    st.integers(min_value=100, max_value=599),
    st.sampled_from([200, 400, 401, 402, 404, 409, 422, 429, 430, 455, 500, 503]),
    st.integers(min_value=-(2**31), max_value=2**31),
)
ARBITRARY_BYTES = st.binary(max_size=300)


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path into a JSON document (keys and list indices), the root excluded."""
    children: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    paths: list[tuple[str | int, ...]] = []
    for key, child in children:
        paths.append((*prefix, key))
        paths.extend(_paths(child, (*prefix, key)))
    return paths


def _replaced(document: Any, path: tuple[str | int, ...], value: Any, *, delete: bool) -> Any:
    """A copy of `document` with the node at `path` replaced by `value` (or removed)."""
    result = copy.deepcopy(document)
    parent = result
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return result


def near_misses(*sample_names: str) -> st.SearchStrategy[Any]:
    """Real sample bodies with one field (at any depth) given a wrong value or removed."""
    documents = [json.loads((SAMPLES / name).read_text()) for name in sample_names]
    edits = [(doc, path) for doc in documents for path in _paths(doc)]
    return st.builds(
        lambda edit, value, delete: _replaced(*edit, value, delete=delete),
        st.sampled_from(edits),
        JSON_VALUES,
        st.booleans(),
    )


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def json_bodies(near: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """Bodies as they could arrive: raw bytes, any JSON, or a near-miss of a real shape."""
    return st.one_of(ARBITRARY_BYTES, JSON_VALUES.map(_dumps), near.map(_dumps))


CALLBACK_SAMPLES = {
    "kie": ("kie/callback_success.json", "kie/callback_failed_500.json"),
    "sunoapi": ("sunoapi/callback_success.json", "sunoapi/callback_failed_400.json"),
    "unified": ("unified/callback_finished.json", "unified/callback_finished_unwrapped.json"),
}
RESPONSE_SAMPLES = {  # endpoint -> dialect -> sample bodies of a successful answer
    "create": {
        "kie": ("kie/create_success.json", "kie/create_error_409_with_id.json"),
        "sunoapi": ("sunoapi/create_success.json",),
        "unified": ("unified/create_success.json", "unified/create_error_409_with_id.json"),
    },
    "details": {
        "kie": ("kie/details_success.json", "kie/details_generate_mp4_failed.json"),
        "sunoapi": ("sunoapi/details_success_variant_b.json",),
        "unified": ("unified/details_finished.json", "unified/details_failed.json"),
    },
    "tracks": {
        "kie": ("kie/tracks_success.json", "kie/tracks_failed.json"),
        "sunoapi": ("sunoapi/tracks_success.json",),
        "unified": ("unified/tracks_finished.json", "unified/tracks_failed.json"),
    },
    "credits": {
        "kie": ("kie/credits.json",),
        "sunoapi": ("sunoapi/credits.json",),
        "unified": ("unified/credits.json",),
    },
}


def _check_create(task_id: object) -> None:
    assert isinstance(task_id, str)
    assert task_id
    assert task_id == task_id.strip()


def _check_video(result: object) -> None:
    assert isinstance(result, VideoResult)
    assert bool(result.video_url) is (result.status is VideoStatus.SUCCEEDED)


def _check_tracks(tracks: object) -> None:
    assert isinstance(tracks, TrackList)
    for track in tracks.tracks:
        assert track.audio_id
        assert track.duration_seconds is None or (
            math.isfinite(track.duration_seconds) and track.duration_seconds >= 0
        )


def _check_credits(credits: object) -> None:
    assert isinstance(credits, Credits)
    assert credits.remaining.is_finite()


CHECKS: dict[str, Callable[[object], None]] = {
    "create": _check_create,
    "details": _check_video,
    "tracks": _check_tracks,
    "credits": _check_credits,
}

# ---- /video arguments ---------------------------------------------------------------------

ID_LIKE = st.from_regex(ID, fullmatch=True)
SPACES = st.text(alphabet=" \t\u00a0\u2003\u3000", min_size=1, max_size=3)
QUOTED_AUTHOR = st.tuples(
    st.sampled_from(['"', "'", "“", "«", "„", "\u2018", ""]),
    st.text(max_size=60).filter(lambda text: "\n" not in text),
    st.sampled_from(['"', "'", "”", "»", "“", "\u2019", ""]),
).map("".join)
WELL_FORMED_ARGS = st.builds(
    lambda task, sep1, audio, sep2, author, tail: f"{task}{sep1}{audio}{sep2}{author}{tail}",
    ID_LIKE,
    SPACES,
    ID_LIKE | st.text(max_size=5),
    SPACES,
    QUOTED_AUTHOR,
    st.sampled_from(["", "\n", "\nsecond line", "\r\n", "  "]),
)


@PROPERTY
@given(st.one_of(st.text(), WELL_FORMED_ARGS))
def test_video_args_raise_only_syntax_errors_and_yield_clean_values(text: str) -> None:
    try:
        args = parse_video_args(text)
    except CommandSyntaxError:
        return
    assert ID.match(args.task_id)
    assert args.audio_id is None or ID.match(args.audio_id)
    if args.author is not None:
        assert 1 <= len(args.author) <= MAX_AUTHOR_LENGTH
        assert args.author == args.author.strip()


def test_well_formed_arguments_are_accepted() -> None:
    """The property above is not vacuous: typical input parses."""
    args = parse_video_args('5c79be8e e231cadc7dc "DJ Ann"')
    assert (args.task_id, args.audio_id, args.author) == ("5c79be8e", "e231cadc7dc", "DJ Ann")


# ---- shared field decoders ---------------------------------------------------------------


@PROPERTY
@given(SCALARS)
def test_timestamps_are_aware_utc_or_none(value: object) -> None:
    moment = parse_timestamp(value)
    assert moment is None or moment.utcoffset() == timedelta(0)


@PROPERTY
@given(SCALARS)
def test_codes_are_ints_or_none(value: object) -> None:
    code = int_code(value)
    assert code is None or type(code) is int


# ---- callbacks ----------------------------------------------------------------------------


def _parse_callback_or_malformed(dialect: ModuleType, body: bytes) -> None:
    try:
        result = dialect.parse_callback(body)
    except MalformedResponse:
        return
    _check_video(result)
    assert result.task_id


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_callback_parsers_raise_only_malformed(name: str) -> None:
    dialect = DIALECTS[name]

    @PROPERTY
    @given(json_bodies(near_misses(*CALLBACK_SAMPLES[name])))
    def check(body: bytes) -> None:
        _parse_callback_or_malformed(dialect, body)

    check()


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_callback_samples_still_parse(name: str) -> None:
    """The near-miss strategy starts from bodies that really are callbacks."""
    for sample in CALLBACK_SAMPLES[name]:
        assert isinstance(
            DIALECTS[name].parse_callback((SAMPLES / sample).read_bytes()), VideoResult
        )


# ---- answers to requests ------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", sorted(RESPONSE_SAMPLES))
@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_response_parsers_raise_only_upstream_errors(name: str, endpoint: str) -> None:
    parse = getattr(DIALECTS[name], f"parse_{endpoint}")
    valid = CHECKS[endpoint]

    @MATRIX
    @given(STATUS_CODES, json_bodies(near_misses(*RESPONSE_SAMPLES[endpoint][name])))
    def check(status: int, body: bytes) -> None:
        try:
            result = parse(HttpResponse(status, body))
        except UpstreamError:
            return
        valid(result)

    check()
