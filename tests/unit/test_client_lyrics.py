"""UpstreamClient.timestamped_lyrics against FakeUpstream (in process), per dialect family."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.domain import Family
from bot.lyrics.model import AlignedLyrics, AlignedWord
from bot.upstream.client import UpstreamClient, make_http_client
from bot.upstream.dialect import dialect_for_family
from bot.upstream.errors import (
    InsufficientCredits,
    InvalidTrack,
    RateLimited,
    Unsupported,
    UpstreamError,
)
from tests.fakes.upstream import FakeUpstream, TrackLyrics

KEY = "sk-live-0123456789abcdef"
BASE = "http://upstream.test"
LYRIC_FAMILIES = [Family.KIE, Family.SUNOAPI]


@pytest.fixture(params=list(Family))
def fake(request: pytest.FixtureRequest) -> FakeUpstream:
    upstream = FakeUpstream(request.param, api_key=KEY, public_base_url=BASE)
    upstream.add_music_task("music-1", [("audio-1", "Song A", 198.4), ("audio-2", "Song B", 201)])
    return upstream


@pytest.fixture
async def client(fake: FakeUpstream) -> AsyncIterator[UpstreamClient]:
    async with make_http_client(transport=httpx.ASGITransport(app=fake.app)) as http:
        yield UpstreamClient(http, dialect_for_family(fake.family), BASE, KEY)


@pytest.mark.parametrize("fake", LYRIC_FAMILIES, indirect=True)
@pytest.mark.parametrize("snake_case", [False, True])
async def test_lyrics_of_a_vocal_track(
    fake: FakeUpstream, client: UpstreamClient, snake_case: bool
) -> None:
    words = [("[Chorus]\nHey ", 1.5, 1.9), ("you", 2.0, 2.4, False)]
    fake.set_lyrics("music-1", "audio-1", TrackLyrics(words, 0.25, (0.5, 1), True, snake_case))
    lyrics = await client.timestamped_lyrics("music-1", "audio-1")
    assert lyrics == AlignedLyrics(
        (
            AlignedWord("Hey", 1.5, 1.9, tags=("Chorus",), break_before=True),
            AlignedWord("you", 2.0, 2.4, success=False),
        ),
        hoot_cer=0.25,
        waveform=(0.5, 1.0),
        is_streamed=True,
    )
    sent = fake.requests[-1]
    assert (sent.method, sent.json) == ("POST", {"taskId": "music-1", "audioId": "audio-1"})
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert fake.lyrics_calls[("music-1", "audio-1")] == 1


@pytest.mark.parametrize("fake", LYRIC_FAMILIES, indirect=True)
async def test_an_instrumental_has_no_words(client: UpstreamClient) -> None:
    lyrics = await client.timestamped_lyrics("music-1", "audio-2")
    assert lyrics.instrumental


@pytest.mark.parametrize("fake", LYRIC_FAMILIES, indirect=True)
async def test_lyrics_of_an_unknown_track_are_invalid(client: UpstreamClient) -> None:
    with pytest.raises(InvalidTrack):
        await client.timestamped_lyrics("music-1", "audio-9")


@pytest.mark.parametrize(
    ("fake", "kind"),
    [(Family.KIE, RateLimited), (Family.SUNOAPI, InsufficientCredits)],
    indirect=["fake"],
)
async def test_lyrics_429_means_what_the_family_says(
    fake: FakeUpstream, client: UpstreamClient, kind: type[UpstreamError]
) -> None:
    fake.set_lyrics("music-1", "audio-1", TrackLyrics(error=(429, "no")))
    with pytest.raises(kind):
        await client.timestamped_lyrics("music-1", "audio-1")
    fake.fail_next("lyrics", 429)
    with pytest.raises(kind):
        await client.timestamped_lyrics("music-1", "audio-2")


@pytest.mark.parametrize("fake", [Family.UNIFIED], indirect=True)
async def test_vidgo_answers_unsupported_without_a_request(
    fake: FakeUpstream, client: UpstreamClient
) -> None:
    with pytest.raises(Unsupported):
        await client.timestamped_lyrics("music-1", "audio-1")
    assert fake.requests == []
