"""UpstreamClient end to end against FakeUpstream (in process), one run per dialect family."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import httpx
import pytest

from bot.domain import Credits, Family, Track, TrackListStatus, VideoRequest, VideoStatus
from bot.upstream.client import MAX_BODY_BYTES, UpstreamClient, make_http_client
from bot.upstream.dialect import dialect_for_family
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
from tests.fakes.upstream import AlreadyExistsStyle, FakeUpstream

KEY = "sk-live-0123456789abcdef"
BASE = "http://upstream.test"
CALLBACK = "https://bot.example/callbacks/tok-1"
REQUEST = VideoRequest("music-1", "audio-1", CALLBACK, author="Ann", domain_name="ex.com")


@pytest.fixture(params=list(Family))
def fake(request: pytest.FixtureRequest) -> FakeUpstream:
    upstream = FakeUpstream(request.param, api_key=KEY, public_base_url=BASE)
    upstream.add_music_task("music-1", [("audio-1", "Song A", 198.4), ("audio-2", "Song B", 201)])
    return upstream


@pytest.fixture
async def http(fake: FakeUpstream) -> AsyncIterator[httpx.AsyncClient]:
    async with make_http_client(transport=httpx.ASGITransport(app=fake.app)) as client:
        yield client


@pytest.fixture
def client(fake: FakeUpstream, http: httpx.AsyncClient) -> UpstreamClient:
    return UpstreamClient(http, dialect_for_family(fake.family), BASE, KEY)


def assert_key_hidden(error: BaseException) -> None:
    assert KEY not in str(error)
    assert KEY not in repr(error)
    assert KEY not in str(error.args)


async def test_create_returns_the_new_video_task_id(
    fake: FakeUpstream, client: UpstreamClient
) -> None:
    assert await client.create(REQUEST) == "vt-1"
    assert len(fake.creates) == 1
    sent = fake.requests[0]
    assert sent.method == "POST"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["user-agent"].startswith("musicvideo-bot/")
    assert KEY not in str(sent.params)


async def test_video_goes_from_pending_to_succeeded(
    fake: FakeUpstream, client: UpstreamClient
) -> None:
    video_id = await client.create(REQUEST)
    pending = await client.details(video_id)
    assert (pending.task_id, pending.status, pending.video_url) == (
        video_id,
        VideoStatus.PENDING,
        None,
    )
    fake.complete(video_id)
    done = await client.details(video_id)
    assert done.status is VideoStatus.SUCCEEDED
    assert done.video_url == f"{BASE}/cdn/{video_id}.mp4"
    assert fake.details_calls[video_id] == 2


async def test_failed_video_reports_the_provider_text(
    fake: FakeUpstream, client: UpstreamClient
) -> None:
    video_id = await client.create(REQUEST)
    fake.fail(video_id, "audio could not be decoded")
    result = await client.details(video_id)
    assert (result.status, result.error) == (VideoStatus.FAILED, "audio could not be decoded")


@pytest.mark.parametrize("fake", [Family.KIE, Family.SUNOAPI], indirect=True)
async def test_callback_exception_with_a_url_is_a_success(
    fake: FakeUpstream, client: UpstreamClient
) -> None:
    video_id = await client.create(REQUEST)
    fake.set_raw_status(video_id, "CALLBACK_EXCEPTION")
    assert (await client.details(video_id)).status is VideoStatus.PENDING
    fake.complete(video_id)
    fake.set_raw_status(video_id, "CALLBACK_EXCEPTION")
    assert (await client.details(video_id)).status is VideoStatus.SUCCEEDED


async def test_auto_complete_after_polls(fake: FakeUpstream, client: UpstreamClient) -> None:
    fake.auto_complete_after_polls = 2
    video_id = await client.create(REQUEST)
    statuses = [(await client.details(video_id)).status for _ in range(3)]
    assert statuses == [VideoStatus.PENDING, VideoStatus.PENDING, VideoStatus.SUCCEEDED]


async def test_second_create_says_already_exists_with_the_id(client: UpstreamClient) -> None:
    first = await client.create(REQUEST)
    with pytest.raises(AlreadyExists) as caught:
        await client.create(REQUEST)
    assert caught.value.existing_task_id == first


@pytest.mark.parametrize(
    ("style", "existing"),
    [("409_no_id", None), ("422_with_id", "vt-1"), ("422_no_id", None)],
)
async def test_already_exists_variants(
    fake: FakeUpstream, client: UpstreamClient, style: AlreadyExistsStyle, existing: str | None
) -> None:
    fake.already_exists_style = style
    await client.create(REQUEST)
    with pytest.raises(AlreadyExists) as caught:
        await client.create(REQUEST)
    assert caught.value.existing_task_id == existing


async def test_unknown_track_is_invalid(client: UpstreamClient) -> None:
    with pytest.raises(InvalidTrack):
        await client.create(VideoRequest("music-1", "audio-9", CALLBACK))
    with pytest.raises(InvalidTrack):
        await client.create(VideoRequest("music-404", "audio-1", CALLBACK))


async def test_credits(fake: FakeUpstream, client: UpstreamClient) -> None:
    assert await client.credits() == Credits(Decimal(100))
    fake.credits = 12.5
    assert await client.credits() == Credits(Decimal("12.5"))


async def test_tracks_of_a_finished_music_task(fake: FakeUpstream, client: UpstreamClient) -> None:
    tracks = await client.tracks("music-1")
    assert tracks.status is TrackListStatus.READY

    def track(audio_id: str, title: str, duration: float) -> Track:
        media = f"{fake.public_base_url}/media"
        return Track(
            audio_id,
            title,
            duration,
            audio_url=f"{media}/audio-{audio_id}.wav",
            image_url=f"{media}/cover-{audio_id}.png",
            tags=fake.track_tags.get(audio_id),
        )

    assert tracks.tracks == (track("audio-1", "Song A", 198.4), track("audio-2", "Song B", 201))


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({Family.KIE: "TEXT_SUCCESS", Family.UNIFIED: "running"}, TrackListStatus.PENDING),
        ({Family.KIE: "GENERATE_AUDIO_FAILED", Family.UNIFIED: "failed"}, TrackListStatus.FAILED),
    ],
)
async def test_tracks_of_an_unfinished_music_task(
    fake: FakeUpstream,
    client: UpstreamClient,
    statuses: dict[Family, str],
    expected: TrackListStatus,
) -> None:
    native = statuses[Family.UNIFIED if fake.family is Family.UNIFIED else Family.KIE]
    fake.add_music_task("music-2", [("audio-3", "Song C", 100.0)], status=native)
    tracks = await client.tracks("music-2")
    assert (tracks.status, tracks.tracks) == (expected, ())


async def test_tracks_of_an_unknown_task_are_invalid(client: UpstreamClient) -> None:
    with pytest.raises(InvalidTrack):
        await client.tracks("music-404")


async def test_wrong_key_is_unauthorized(fake: FakeUpstream, http: httpx.AsyncClient) -> None:
    client = UpstreamClient(http, dialect_for_family(fake.family), BASE, "wrong-key")
    with pytest.raises(Unauthorized) as caught:
        await client.credits()
    assert "wrong-key" not in str(caught.value)


@pytest.mark.parametrize(
    ("fake", "kind"),
    [
        (Family.KIE, RateLimited),
        (Family.SUNOAPI, InsufficientCredits),
        (Family.UNIFIED, RateLimited),
    ],
    indirect=["fake"],
)
async def test_injected_429_means_what_the_family_says(
    fake: FakeUpstream, client: UpstreamClient, kind: type[UpstreamError]
) -> None:
    fake.fail_next("create", 429, "slow down or pay up")
    with pytest.raises(UpstreamError) as caught:
        await client.create(REQUEST)
    assert type(caught.value) is kind
    assert_key_hidden(caught.value)
    assert await client.create(REQUEST) == "vt-1"  # the injection was used up


async def test_injected_failures_repeat_times_then_stop(
    fake: FakeUpstream, client: UpstreamClient
) -> None:
    fake.fail_next("credits", 500, "boom", times=2)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await client.credits()
    assert await client.credits() == Credits(Decimal(100))


async def test_http_level_503_is_unavailable(fake: FakeUpstream, client: UpstreamClient) -> None:
    fake.fail_next("details", 503, "maintenance window", http_status=503)
    video_id = await client.create(REQUEST)
    with pytest.raises(UpstreamUnavailable) as caught:
        await client.details(video_id)
    assert_key_hidden(caught.value)


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response], base: str = BASE
) -> tuple[UpstreamClient, httpx.AsyncClient]:
    http = make_http_client(transport=httpx.MockTransport(handler))
    return UpstreamClient(http, dialect_for_family(Family.KIE), base, KEY), http


async def test_bare_503_page_is_unavailable() -> None:
    client, http = mock_client(lambda _: httpx.Response(503, text="<h1>Service Unavailable</h1>"))
    async with http:
        with pytest.raises(UpstreamUnavailable):
            await client.credits()


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")],
)
async def test_transport_errors_are_unavailable(error: httpx.HTTPError) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise error

    client, http = mock_client(refuse)
    async with http:
        with pytest.raises(UpstreamUnavailable) as caught:
            await client.create(REQUEST)
    assert caught.value.__cause__ is error
    assert_key_hidden(caught.value)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://x.test/prefix/", "https://x.test/prefix/api/v1/mp4/record-info?taskId=v1"),
        ("https://x.test/prefix", "https://x.test/prefix/api/v1/mp4/record-info?taskId=v1"),
        ("https://x.test/", "https://x.test/api/v1/mp4/record-info?taskId=v1"),
        ("https://x.test", "https://x.test/api/v1/mp4/record-info?taskId=v1"),
    ],
)
async def test_base_url_joins_with_prefix_and_slash(base: str, expected: str) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"code": 200, "data": {"taskId": "v1"}})

    client, http = mock_client(answer, base)
    async with http:
        await client.details("v1")
    assert str(seen[0].url) == expected
    assert KEY not in str(seen[0].url)
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"
    assert "content-type" not in seen[0].headers  # GET carries no JSON body


@pytest.mark.parametrize("declared", [True, False])
async def test_body_over_one_mebibyte_is_malformed(declared: bool) -> None:
    big = b'{"code": 200, "data": "' + b"x" * MAX_BODY_BYTES + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=big if declared else chunks())

    client, http = mock_client(answer)
    async with http:
        with pytest.raises(MalformedResponse):
            await client.credits()


async def test_cdn_serves_the_finished_video(fake: FakeUpstream, client: UpstreamClient) -> None:
    video_id = await client.create(REQUEST)
    fake.complete(video_id, video_size=200_000)
    url = (await client.details(video_id)).video_url
    assert url is not None
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as cdn:
        head = await cdn.head(url)
        got = await cdn.get(url)
        missing = await cdn.get(f"{BASE}/cdn/nope.mp4")
    assert head.headers["content-length"] == "200000"
    assert len(got.content) == 200_000
    assert got.content[4:8] == b"ftyp"
    assert missing.status_code == 404
    assert fake.cdn_hits == [("HEAD", video_id), ("GET", video_id), ("GET", "nope")]


async def test_fake_callbacks_parse_with_the_dialect(
    fake: FakeUpstream, client: UpstreamClient
) -> None:
    dialect = dialect_for_family(fake.family)
    done, failed = (
        await client.create(REQUEST),
        await client.create(VideoRequest("music-1", "audio-2", CALLBACK)),
    )
    fake.complete(done)
    fake.fail(failed, "no luck")
    posted: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as bot:
        await fake.fire_callback(done, bot, headers={"X-Extra": "1"})
        await fake.fire_callback(failed, bot)
    assert [str(r.url) for r in posted] == [CALLBACK, CALLBACK]
    assert posted[0].headers["x-extra"] == "1"
    ok, bad = (dialect.parse_callback(r.content) for r in posted)
    assert (ok.task_id, ok.status, ok.video_url) == (
        done,
        VideoStatus.SUCCEEDED,
        fake.videos[done].video_url,
    )
    assert (bad.task_id, bad.status, bad.error) == (failed, VideoStatus.FAILED, "no luck")


@pytest.mark.parametrize("fake", [Family.UNIFIED], indirect=True)
async def test_fake_unwrapped_vidgo_callback_parses(
    fake: FakeUpstream, client: UpstreamClient
) -> None:
    video_id = await client.create(REQUEST)
    fake.complete(video_id)
    body = fake.callback_body(video_id, wrapped=False)
    assert "code" not in body
    result = dialect_for_family(Family.UNIFIED).parse_callback(json.dumps(body).encode())
    assert result.status is VideoStatus.SUCCEEDED


def test_fake_kie_signature_verifies() -> None:
    now = time.time()
    stamp = str(int(now))
    signature = FakeUpstream.sign_kie("hmac-key", "vt-1", stamp)
    kie = dialect_for_family(Family.KIE)
    assert kie.verify_signature("hmac-key", "vt-1", stamp, signature, now=now)
