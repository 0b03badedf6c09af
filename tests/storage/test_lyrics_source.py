"""Lyrics kept once per track (issue 11): LyricsSource over a real database and the real
UpstreamClient talking to FakeUpstream in process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.domain import Family
from bot.engine.lyrics_source import LyricsSource, chorus_start
from bot.lyrics.codec import lyrics_from_json, lyrics_to_json
from bot.lyrics.model import AlignedLyrics, AlignedWord
from bot.upstream.client import UpstreamClient, make_http_client
from bot.upstream.dialect import dialect_for_family
from storage.interface import Database
from storage.lyrics import LyricsRepository
from tests.fakes.upstream import FakeUpstream, TrackLyrics

KEY = "sk-test"
BASE = "http://upstream.test"
TRACK = ("music-1", "audio-1")
WORDS = [("[Verse]\nSing", 1.0, 1.4), ("[Chorus]\nHey", 7.6, 8.0), ("you", 8.0, 8.3, False)]


async def _source(db: Database, family: Family) -> AsyncIterator[tuple[LyricsSource, FakeUpstream]]:
    fake = FakeUpstream(family, api_key=KEY, public_base_url=BASE)
    fake.add_music_task("music-1", [("audio-1", "Song A", 30.0), ("audio-2", "Song B", 20.0)])
    async with make_http_client(transport=httpx.ASGITransport(app=fake.app)) as http:
        client = UpstreamClient(http, dialect_for_family(family), BASE, KEY)
        yield (
            LyricsSource(
                repo=LyricsRepository(db), provider=family.value, fetch=client.timestamped_lyrics
            ),
            fake,
        )


@pytest.fixture
async def kie(db: Database) -> AsyncIterator[tuple[LyricsSource, FakeUpstream]]:
    async for pair in _source(db, Family.KIE):
        yield pair


async def test_fetched_once_per_track_even_when_asked_at_once(
    kie: tuple[LyricsSource, FakeUpstream],
) -> None:
    source, fake = kie
    fake.set_lyrics(*TRACK, TrackLyrics(WORDS, hoot_cer=0.2, waveform=(0.1, 0.9)))
    assert await source.stored(*TRACK) is None  # never asks the provider
    answers = await asyncio.gather(*(source.lyrics(*TRACK) for _ in range(5)))
    assert fake.lyrics_calls[TRACK] == 1
    assert all(answer == answers[0] for answer in answers)
    lyrics = answers[0]
    assert lyrics is not None
    assert [w.text for w in lyrics.words] == ["Sing", "Hey", "you"]
    assert await source.stored(*TRACK) == lyrics
    assert await source.lyrics(*TRACK) == lyrics
    assert fake.lyrics_calls[TRACK] == 1
    assert chorus_start(lyrics) == 7  # 7.6 s less the lead-in, whole seconds


async def test_an_instrumental_is_stored_and_not_asked_again(
    kie: tuple[LyricsSource, FakeUpstream],
) -> None:
    source, fake = kie
    lyrics = await source.lyrics("music-1", "audio-2")
    assert lyrics is not None
    assert lyrics.instrumental
    assert await source.lyrics("music-1", "audio-2") == lyrics
    assert fake.lyrics_calls[("music-1", "audio-2")] == 1
    assert chorus_start(lyrics) is None


@pytest.mark.parametrize("code", [402, 401, 500, 455, 451])
async def test_failures_render_without_lyrics_and_are_not_stored(
    kie: tuple[LyricsSource, FakeUpstream], code: int
) -> None:
    source, fake = kie
    fake.set_lyrics(*TRACK, TrackLyrics(WORDS))
    fake.fail_next("lyrics", code)
    assert await source.lyrics(*TRACK) is None
    assert await source.stored(*TRACK) is None
    again = await source.lyrics(*TRACK)  # asked again next time, and kept then
    assert again is not None
    assert len(again.words) == 3
    assert fake.lyrics_calls[TRACK] == 1  # the answered request (the failed one is injected)
    assert sum(r.path.endswith("get-timestamped-lyrics") for r in fake.requests) == 2


async def test_vidgo_unified_has_no_lyrics_and_that_is_stored(db: Database) -> None:
    async for source, fake in _source(db, Family.UNIFIED):
        assert await source.lyrics(*TRACK) is None
        assert await source.lyrics(*TRACK) is None
        assert fake.lyrics_calls[TRACK] == 0  # Unsupported before any request
        stored = await LyricsRepository(db).get(Family.UNIFIED.value, *TRACK)
        assert stored is not None
        assert stored.body is None


def test_codec_round_trip() -> None:
    lyrics = AlignedLyrics(
        (
            AlignedWord("Hé{x}", 1.25, 1.5, True, 0.5, ("Chorus", "Hook"), True),
            AlignedWord("\\N", 2.0, 2.5, False),
        ),
        hoot_cer=None,
        waveform=(0.0, 0.25),
        is_streamed=True,
    )
    assert lyrics_from_json(lyrics_to_json(lyrics)) == lyrics
