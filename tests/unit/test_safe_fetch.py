"""SafeFetcher against a fake CDN (httpx.MockTransport) and a resolver the test controls."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from bot.upstream.safe_fetch import FetchError, SafeFetcher, TooLarge, UnsafeUrl, system_resolver

API_HOST = "api.provider.test"
API_ORIGIN = f"http://{API_HOST}/api/prefix"  # MUSIC_API_BASE_URL: a path prefix is allowed
PUBLIC_IP = "93.184.216.34"
BODY = b"\x00\x00\x00\x18ftypmp42" + bytes(1000)


class FakeDns:
    """Answers from a table; counts lookups; a name may answer differently each time."""

    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answers = self.table.get(host)
        if not answers:
            raise OSError(f"no such host {host}")
        return answers.pop(0) if len(answers) > 1 else answers[0]


class FakeCdn:
    """Serves BODY at /video.mp4 and redirects /go?to=<url>; records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/go":
            return httpx.Response(302, headers={"location": request.url.params["to"]})
        if request.url.path == "/loop":
            return httpx.Response(301, headers={"location": "/loop"})
        if request.url.path == "/video.mp4":
            return httpx.Response(200, content=BODY)
        return httpx.Response(404)


@pytest.fixture
def cdn() -> FakeCdn:
    return FakeCdn()


@pytest.fixture
async def client(cdn: FakeCdn) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as http:
        yield http


Make = Callable[..., SafeFetcher]


@pytest.fixture
def make(client: httpx.AsyncClient) -> Make:
    def build(dns: FakeDns | None = None, **kwargs: object) -> SafeFetcher:
        resolver = dns or FakeDns({"cdn.example": [[PUBLIC_IP]]})
        return SafeFetcher(client, trusted_origin=API_ORIGIN, resolver=resolver, **kwargs)  # type: ignore[arg-type]

    return build


async def fetch(fetcher: SafeFetcher, url: str, max_bytes: int = 10_000) -> bytes:
    sink = io.BytesIO()
    await fetcher.download(url, sink, max_bytes=max_bytes)
    return sink.getvalue()


async def test_a_public_host_is_fetched_at_the_checked_address(make: Make, cdn: FakeCdn) -> None:
    assert await fetch(make(), "https://cdn.example/video.mp4") == BODY
    [request] = cdn.requests
    assert request.url.host == PUBLIC_IP  # connects to what was checked
    assert request.headers["host"] == "cdn.example"
    assert request.extensions["sni_hostname"] == "cdn.example"  # TLS checks the name


async def test_dns_rebinding_never_reaches_the_second_answer(make: Make, cdn: FakeCdn) -> None:
    dns = FakeDns({"cdn.example": [[PUBLIC_IP], ["169.254.169.254"]]})
    assert await fetch(make(dns), "http://cdn.example/video.mp4") == BODY
    assert dns.lookups == ["cdn.example"]
    assert [r.url.host for r in cdn.requests] == [PUBLIC_IP]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "ff02::1",
        "::",
        "fec0::1",  # site-local (deprecated, fec0::/10)
        "feff:ffff::1",
        "2002:a00:1::1",  # 6to4 carrying 10.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 carrying 169.254.169.254
    ],
)
async def test_a_name_resolving_to_a_non_public_address_is_refused(
    make: Make, cdn: FakeCdn, address: str
) -> None:
    dns = FakeDns({"cdn.example": [[address]]})
    with pytest.raises(UnsafeUrl):
        await fetch(make(dns), "https://cdn.example/video.mp4")
    assert cdn.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/video.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/video.mp4",
        "http://[::ffff:a9fe:a9fe]/video.mp4",
        "http://0.0.0.0/video.mp4",
        "http://[fec0::1]/video.mp4",
    ],
)
async def test_an_ip_literal_that_is_not_public_is_refused(
    make: Make, cdn: FakeCdn, url: str
) -> None:
    with pytest.raises(UnsafeUrl):
        await fetch(make(), url)
    assert cdn.requests == []


async def test_one_bad_address_among_several_is_enough_to_refuse(make: Make, cdn: FakeCdn) -> None:
    dns = FakeDns({"cdn.example": [[PUBLIC_IP, "10.0.0.7"]]})
    with pytest.raises(UnsafeUrl):
        await fetch(make(dns), "https://cdn.example/video.mp4")
    assert cdn.requests == []


@pytest.mark.parametrize(
    "url", ["ftp://cdn.example/video.mp4", "file:///etc/passwd", "gopher://cdn.example/"]
)
async def test_only_http_and_https(make: Make, cdn: FakeCdn, url: str) -> None:
    with pytest.raises(UnsafeUrl):
        await fetch(make(), url)
    assert cdn.requests == []


async def test_every_redirect_hop_is_checked(make: Make, cdn: FakeCdn) -> None:
    dns = FakeDns({"cdn.example": [[PUBLIC_IP]], "inside.example": [["10.0.0.7"]]})
    with pytest.raises(UnsafeUrl):
        await fetch(make(dns), "https://cdn.example/go?to=http://inside.example/video.mp4")
    assert len(cdn.requests) == 1  # the redirect itself, never its target


async def test_the_api_host_is_trusted_but_its_redirects_are_not(make: Make, cdn: FakeCdn) -> None:
    dns = FakeDns({})  # the API host is never looked up
    fetcher = make(dns)
    assert await fetch(fetcher, f"http://{API_HOST}/video.mp4") == BODY
    assert cdn.requests[0].url.host == API_HOST
    with pytest.raises(UnsafeUrl):
        await fetch(fetcher, f"http://{API_HOST}/go?to=http://169.254.169.254/latest/")
    assert len(cdn.requests) == 2
    assert dns.lookups == []


@pytest.mark.parametrize(
    "url",
    [
        f"https://{API_HOST}/video.mp4",  # another scheme
        f"http://{API_HOST}:8080/video.mp4",  # another port
        f"https://{API_HOST}:80/video.mp4",
    ],
)
async def test_only_the_api_origin_is_trusted_not_its_host_on_other_schemes_or_ports(
    make: Make, cdn: FakeCdn, url: str
) -> None:
    dns = FakeDns({API_HOST: [["10.0.0.5"]]})  # the provider behind a private proxy
    fetcher = make(dns)
    assert await fetch(fetcher, f"http://{API_HOST}:80/video.mp4") == BODY  # the origin itself
    with pytest.raises(UnsafeUrl):
        await fetch(fetcher, url)
    assert len(cdn.requests) == 1
    assert dns.lookups == [API_HOST]  # checked like any other host, never trusted


async def test_a_public_host_on_another_origin_of_the_api_host_is_fetched_checked(
    make: Make, cdn: FakeCdn
) -> None:
    dns = FakeDns({API_HOST: [[PUBLIC_IP]]})
    assert await fetch(make(dns), f"https://{API_HOST}/video.mp4") == BODY
    assert [r.url.host for r in cdn.requests] == [PUBLIC_IP]


async def test_a_safe_redirect_is_followed(make: Make, cdn: FakeCdn) -> None:
    url = f"http://{API_HOST}/go?to=https://cdn.example/video.mp4"
    assert await fetch(make(), url) == BODY
    assert [r.url.host for r in cdn.requests] == [API_HOST, PUBLIC_IP]


async def test_redirects_are_bounded(make: Make, cdn: FakeCdn) -> None:
    with pytest.raises(FetchError, match="redirects"):
        await fetch(make(max_redirects=3), "https://cdn.example/loop")
    assert len(cdn.requests) == 4


@pytest.mark.parametrize("url", ["http://exa mple.com/x", "http://[::1/x", "http:///x", "::"])
async def test_a_malformed_url_is_a_fetch_error(make: Make, url: str) -> None:
    with pytest.raises(FetchError):
        await fetch(make(), url)


async def test_an_unknown_name_is_a_fetch_error(make: Make) -> None:
    with pytest.raises(FetchError, match="cannot resolve"):
        await fetch(make(), "https://nowhere.example/video.mp4")


async def test_too_large_and_error_answers(make: Make) -> None:
    with pytest.raises(TooLarge):
        await fetch(make(), "https://cdn.example/video.mp4", max_bytes=100)
    with pytest.raises(FetchError, match="HTTP 404"):
        await fetch(make(), "https://cdn.example/missing.mp4")


async def test_the_system_resolver_does_not_block_and_localhost_is_refused(
    client: httpx.AsyncClient, cdn: FakeCdn
) -> None:
    assert "127.0.0.1" in await system_resolver("localhost", 80)
    fetcher = SafeFetcher(client, trusted_origin=None)
    with pytest.raises(UnsafeUrl):
        await fetch(fetcher, "http://localhost/video.mp4")
    assert cdn.requests == []
