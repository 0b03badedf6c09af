"""Every UpstreamClient call keeps to the provider's rate, as measured at the fake provider's
side (docs/providers.md §6.2): whichever part of the bot asks, however the network delays it."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from bot.domain import PROVIDER_RATES, Family, ProviderRates, VideoRequest
from bot.upstream.client import UpstreamClient, make_http_client
from bot.upstream.dialect import dialect_for_family
from bot.upstream.errors import RateLimited
from tests.fakes.network import DelayingTransport
from tests.fakes.upstream import Endpoint, FakeUpstream, TrackLyrics

KEY = "test-key"
BASE = "http://upstream.test"
CALLBACK = "https://bot.example/callbacks/tok-1"
QUERIES: tuple[Endpoint, ...] = ("details", "tracks", "lyrics", "credits")
TRACKS = 40
DOCUMENTED = PROVIDER_RATES[Family.KIE]


@pytest.fixture
def fake() -> FakeUpstream:
    upstream = FakeUpstream(Family.KIE, api_key=KEY, public_base_url=BASE)
    tracks = [(f"audio-{n}", f"Song {n}", 120.0) for n in range(1, TRACKS + 1)]
    upstream.add_music_task("music-1", tracks)
    upstream.set_lyrics("music-1", "audio-1", TrackLyrics(words=[("la", 1.0, 1.5)]))
    return upstream


ClientFor = Callable[..., AbstractAsyncContextManager[UpstreamClient]]


@pytest.fixture
def client_for(fake: FakeUpstream) -> ClientFor:
    """A client whose requests cross a network that holds each up `delay(request)` seconds."""

    @asynccontextmanager
    async def build(
        delay: Callable[[httpx.Request], float], **kwargs: Any
    ) -> AsyncIterator[UpstreamClient]:
        transport = DelayingTransport(httpx.ASGITransport(app=fake.app), delay)
        async with make_http_client(transport=transport) as http:
            yield UpstreamClient(http, dialect_for_family(Family.KIE), BASE, KEY, **kwargs)

    return build


def jitter(seed: int, most: float) -> Callable[[httpx.Request], float]:
    """Each request held up a random 0..`most` seconds."""
    rng = random.Random(seed)
    return lambda _request: rng.uniform(0.0, most)


async def test_queries_of_every_kind_at_once_stay_within_the_documented_rate(
    fake: FakeUpstream, client_for: ClientFor
) -> None:
    """Picker track lists, lyrics, polls and a credits check, all at once and all through
    one client: the provider never counts more than its 10 queries in a second."""
    video_ids = [fake.create_video("music-1", f"audio-{n}") for n in range(1, 11)]
    async with client_for(jitter(1, 0.15)) as client:
        calls = [
            *(client.details(video) for video in video_ids),
            *(client.tracks("music-1") for _ in range(12)),
            *(client.timestamped_lyrics("music-1", "audio-1") for _ in range(12)),
            *(client.credits() for _ in range(4)),
        ]
        await asyncio.gather(*calls)

    calls_made, period = DOCUMENTED.details
    assert len(fake.arrivals) == 38
    assert fake.busiest_window(QUERIES, period) <= calls_made
    assert fake.busiest_window(QUERIES, period) <= 9  # the margin: 9 of the documented 10


async def test_a_burst_of_creates_keeps_the_margin_whatever_the_network_does(
    fake: FakeUpstream, client_for: ClientFor
) -> None:
    """The worst jitter for a window: the first burst is held up in the network, the next
    one is not. Counting each create until a period after its answer keeps the provider's
    count at 18 (the documented 20 less the margin) in any window. (Creates are allowed 20
    a second here, not per 10 s, to keep the test short: the windows work the same.)"""
    sent = itertools.count()
    rates = ProviderRates(creates=(20, 1.0), details=DOCUMENTED.details)
    async with client_for(lambda _r: 0.4 if next(sent) < 18 else 0.0, rates=rates) as client:
        requests = [VideoRequest("music-1", f"audio-{n}", CALLBACK) for n in range(1, TRACKS + 1)]
        await asyncio.gather(*(client.create(request) for request in requests))

    assert len(fake.creates) == TRACKS
    assert fake.busiest_window(("create",), 1.0) <= 18


async def test_creates_and_queries_have_windows_of_their_own(
    fake: FakeUpstream, client_for: ClientFor
) -> None:
    """A backlog of creates waiting for their window never holds a poll back."""
    rates = ProviderRates(creates=(2, 60.0), details=DOCUMENTED.details)
    async with client_for(lambda _r: 0.0, rates=rates) as client:
        first = await client.create(VideoRequest("music-1", "audio-1", CALLBACK))
        assert client.create_would_wait()  # 2 less the margin is 1: the next one waits
        waiting = asyncio.create_task(client.create(VideoRequest("music-1", "audio-2", CALLBACK)))
        started = time.monotonic()
        await client.details(first)
        assert time.monotonic() - started < 2.0
        assert not waiting.done()
        waiting.cancel()


async def test_a_call_that_cannot_get_a_turn_in_time_is_rate_limited(
    fake: FakeUpstream, client_for: ClientFor
) -> None:
    rates = ProviderRates(creates=DOCUMENTED.creates, details=(1, 60.0))
    async with client_for(lambda _r: 0.0, rates=rates, turn_wait=0.2) as client:
        await client.tracks("music-1")
        with pytest.raises(RateLimited) as caught:
            await client.tracks("music-1")
        assert caught.value.retry_after is not None
        assert caught.value.retry_after > 0
    assert len(fake.arrivals) == 1  # the refused call never reached the provider


async def test_a_retry_after_pauses_that_window_for_every_caller(
    fake: FakeUpstream, client_for: ClientFor
) -> None:
    fake.fail_next("tracks", 429, "slow down", http_status=429, retry_after=30)
    async with client_for(lambda _r: 0.0, turn_wait=1.0) as client:
        with pytest.raises(RateLimited):
            await client.tracks("music-1")
        started = time.monotonic()
        with pytest.raises(RateLimited):  # paused for 30 s: refused at once, not after 1 s
            await client.timestamped_lyrics("music-1", "audio-1")
        assert time.monotonic() - started < 0.5
        await client.create(VideoRequest("music-1", "audio-1", CALLBACK))  # its own window
    assert [endpoint for endpoint, _ in fake.arrivals] == ["tracks", "create"]
