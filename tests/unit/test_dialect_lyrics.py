"""Timestamped lyrics (docs/providers.md §5.1) in the KIE and SUNOAPI dialects; vidgo has none."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.lyrics.model import AlignedLyrics, AlignedWord
from bot.upstream import kie, sunoapi, unified
from bot.upstream.errors import (
    InsufficientCredits,
    InvalidTrack,
    Maintenance,
    MalformedResponse,
    RateLimited,
    Unauthorized,
    Unsupported,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bot.upstream.http import HttpRequest, HttpResponse

SAMPLES = Path(__file__).parents[1] / "samples"
FAMILIES = {"kie": kie, "sunoapi": sunoapi}

SUCCESS = AlignedLyrics(
    words=(
        AlignedWord("Waggin'", 1.36, 1.79, tags=("Verse",), break_before=True),
        AlignedWord("my", 1.79, 2.05),
        AlignedWord("tail", 2.05, 2.6),
        AlignedWord("in", 3.4, 3.5, success=False, palign=0.12, break_before=True),
        AlignedWord("the", 3.5, 3.62),
        AlignedWord("sun", 3.62, 4.4),
        AlignedWord("Woof", 12.1, 12.5, tags=("Chorus",), break_before=True),
        AlignedWord("woof!", 12.5, 13.2),
    ),
    hoot_cer=0.3803191489361702,
    waveform=(0.0, 1.0, 0.5, 0.75),
    is_streamed=False,
)
SNAKE_CASE = AlignedLyrics(
    words=(
        AlignedWord("Night", 10.0, 10.4, tags=("Chorus",), break_before=True),
        AlignedWord("city", 10.4, 10.9),
        AlignedWord("lights", 11.0, 11.8, success=False, palign=0.5),
    ),
    hoot_cer=0.72,
    waveform=(0.1, 0.9),
    is_streamed=True,
)
PARSED = {
    "lyrics_success": SUCCESS,
    "lyrics_snake_case": SNAKE_CASE,
    "lyrics_instrumental": AlignedLyrics(hoot_cer=0.0),
}
ERRORS: dict[str, dict[str, type[UpstreamError]]] = {
    "kie": {
        "lyrics_error_401": Unauthorized,
        "lyrics_error_404": InvalidTrack,
        "lyrics_error_422": InvalidTrack,
        "lyrics_error_429": RateLimited,
        "lyrics_error_451": UpstreamRejected,
        "lyrics_error_455": Maintenance,
        "lyrics_error_500": UpstreamUnavailable,
    },
    "sunoapi": {
        "lyrics_error_401": Unauthorized,
        "lyrics_error_405": RateLimited,
        "lyrics_error_413": InvalidTrack,
        "lyrics_error_429": InsufficientCredits,  # credits, not a rate limit (§7.8)
        "lyrics_error_430": RateLimited,
        "lyrics_error_455": Maintenance,
        "lyrics_error_500": UpstreamUnavailable,
    },
}


def answer(family: str, name: str) -> HttpResponse:
    return HttpResponse(200, (SAMPLES / family / f"{name}.json").read_bytes())


@pytest.mark.parametrize("family", FAMILIES)
def test_every_lyrics_sample_has_an_expectation(family: str) -> None:
    names = {path.stem for path in (SAMPLES / family).glob("lyrics_*.json")}
    assert names == set(PARSED) | set(ERRORS[family])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("name", "expected"), PARSED.items())
def test_lyrics_sample_parses(family: str, name: str, expected: AlignedLyrics) -> None:
    assert FAMILIES[family].parse_timestamped_lyrics(answer(family, name)) == expected


@pytest.mark.parametrize(
    ("family", "name", "kind"),
    [(family, name, kind) for family, table in ERRORS.items() for name, kind in table.items()],
)
def test_lyrics_error_maps_through_the_family_table(
    family: str, name: str, kind: type[UpstreamError]
) -> None:
    with pytest.raises(UpstreamError) as caught:
        FAMILIES[family].parse_timestamped_lyrics(answer(family, name))
    assert type(caught.value) is kind


@pytest.mark.parametrize("family", FAMILIES)
def test_build_lyrics_request(family: str) -> None:
    assert FAMILIES[family].build_timestamped_lyrics("music-1", "audio-1") == HttpRequest(
        "POST",
        "/api/v1/generate/get-timestamped-lyrics",
        json={"taskId": "music-1", "audioId": "audio-1"},
    )


def test_vidgo_has_no_lyrics_endpoint() -> None:
    with pytest.raises(Unsupported):
        unified.build_timestamped_lyrics("music-1", "audio-1")
    with pytest.raises(Unsupported):
        unified.parse_timestamped_lyrics(HttpResponse(200, b"{}"))


def _body(data: str) -> HttpResponse:
    return HttpResponse(200, f'{{"code":200,"msg":"success","data":{data}}}'.encode())


@pytest.mark.parametrize("data", ["null", '"x"', '{"alignedWords": "nope"}', "[]"])
def test_lyrics_not_in_the_dialect_shape_are_malformed(data: str) -> None:
    with pytest.raises(MalformedResponse):
        kie.parse_timestamped_lyrics(_body(data))


def test_missing_arrays_read_as_instrumental() -> None:
    assert kie.parse_timestamped_lyrics(_body("{}")) == AlignedLyrics()


def test_odd_words_are_skipped_but_their_tags_carry_over() -> None:
    words = (
        '[1, {"word": "[Chorus]\\n", "startS": "x"}, {"word": 5, "startS": 1, "endS": 2},'
        ' {"word": "la", "start_s": "2.5", "end_s": 3}, {"word": "na", "startS": 4, "endS": 3.5}]'
    )
    lyrics = kie.parse_timestamped_lyrics(
        _body(f'{{"alignedWords": {words}, "waveformData": [1, "bad", null, 0.5]}}')
    )
    assert lyrics.words == (
        AlignedWord("la", 2.5, 3.0, tags=("Chorus",), break_before=True),
        AlignedWord("na", 4.0, 4.0),  # an end before its start is pulled up to the start
    )
    assert lyrics.waveform == (1.0, 0.0, 0.0, 0.5)  # one level per sample keeps the time scale
    assert lyrics.hoot_cer is None
    assert not lyrics.is_streamed
