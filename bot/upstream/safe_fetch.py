"""Downloads of provider/CDN URLs that can never reach into the bot's own network (SSRF guard).

Every download the bot makes of a URL it was given goes through `SafeFetcher`:

* http and https only;
* the destination host is resolved without blocking the event loop (`loop.getaddrinfo`) and
  refused when ANY of its addresses is loopback, private, link-local, site-local (fec0::/10),
  multicast, reserved, unspecified or otherwise not globally routable (`ipaddress`), or an
  IPv6 address that carries such an IPv4 address (IPv4-mapped, 6to4);
* redirects are followed by hand, at most `max_redirects`, and every hop is checked the same way;
* the origin of MUSIC_API_BASE_URL (`trusted_origin`: scheme, host and port, all three) is
  trusted as configured: an operator may run the provider behind a self-hosted proxy on a private
  address (and the tests' fakes live there). Another scheme or port on that host is not trusted:
  it is checked like any other URL.

DNS rebinding: a name could resolve to a public address when checked and to 169.254.169.254 a
moment later, when the HTTP library resolves it again to connect. So the request is sent to the
very address that was checked: the URL's host is replaced by that IP, the `Host` header keeps the
name, and TLS uses the name for SNI and for the certificate check (httpx's `sni_hostname` request
extension). The name is resolved once per hop and nothing else resolves it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import BinaryIO

import httpx

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Resolves (host, port) to IP address strings."""

Origin = tuple[str, str, int]
"""(scheme, host, port) of a URL, lower-case, the port filled in from the scheme."""

MAX_REDIRECTS = 5
_CHUNK = 256 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class FetchError(Exception):
    """The URL could not be downloaded (refused, unreachable, bad answer, too large)."""


class UnsafeUrl(FetchError):
    """The URL (or a redirect) leads somewhere the bot must not go."""


class TooLarge(FetchError):
    """The body is larger than allowed."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The system's addresses for `host`, looked up off the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether `address` is a globally routable unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public(embedded)
        if address.is_site_local:  # fec0::/10: deprecated, yet routed inside some networks
            return False
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def origin_of(url: str | httpx.URL) -> Origin:
    """The (scheme, host, port) a URL connects to; UnsafeUrl for a scheme other than http(s)."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    scheme = parsed.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UnsafeUrl(f"scheme {parsed.scheme!r} is not http or https")
    host = parsed.raw_host.decode("ascii").lower().rstrip(".")
    return scheme, host, parsed.port or _DEFAULT_PORTS[scheme]


class SafeFetcher:
    """Downloads a URL into a file, refusing destinations inside private networks."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        trusted_origin: str | None,
        resolver: Resolver = system_resolver,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        """`trusted_origin` is a URL (MUSIC_API_BASE_URL): its scheme, host and port together
        are the one origin fetched without the address check."""
        self._client = client
        self._trusted = origin_of(trusted_origin) if trusted_origin else None
        self._resolve = resolver
        self._max_redirects = max_redirects

    async def download(self, url: str, sink: BinaryIO, *, max_bytes: int) -> int:
        """Copy the body at `url` into `sink`; returns its size. Raises FetchError."""
        try:
            response = await self._open(url)
            try:
                return await _copy(response, sink, max_bytes)
            finally:
                await response.aclose()
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, UnicodeError) as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}") from exc

    async def _open(self, url: str) -> httpx.Response:
        """GET `url`, following up to `max_redirects` checked redirects; a streaming response."""
        target = httpx.URL(url)
        for _ in range(self._max_redirects + 1):
            response = await self._client.send(
                await self._request(target), stream=True, follow_redirects=False
            )
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            await response.aclose()
            target = target.join(location)
        raise FetchError(f"more than {self._max_redirects} redirects")

    async def _request(self, url: httpx.URL) -> httpx.Request:
        """A request for `url` that connects only to an address checked to be public."""
        origin = origin_of(url)
        _, host, port = origin
        if not host:
            raise UnsafeUrl("no host")
        if origin == self._trusted:
            return self._client.build_request("GET", url)
        address = await self._checked_address(host, port)
        return self._client.build_request(
            "GET",
            url.copy_with(host=address),
            headers={"Host": url.netloc.decode("ascii")},
            extensions={"sni_hostname": host},
        )

    async def _checked_address(self, host: str, port: int) -> str:
        """The address to connect to, after every address of `host` was found public."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            candidates = [literal]
        else:
            try:
                found = await self._resolve(host, port)
            except (OSError, UnicodeError) as exc:
                raise FetchError(f"cannot resolve {host}: {exc}") from exc
            candidates = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        if not candidates:
            raise FetchError(f"{host} has no address")
        refused = [str(a) for a in candidates if not is_public(a)]
        if refused:
            raise UnsafeUrl(f"{host} resolves to a non-public address {', '.join(refused)}")
        return str(candidates[0])


async def _copy(response: httpx.Response, sink: BinaryIO, max_bytes: int) -> int:
    """Stream an answered GET into `sink`, refusing more than `max_bytes` (declared or sent)."""
    if response.status_code != httpx.codes.OK:
        raise FetchError(f"HTTP {response.status_code}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"{declared} bytes declared, over {max_bytes}")
    size = 0
    async for chunk in response.aiter_bytes(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"over {max_bytes} bytes")
        await asyncio.to_thread(sink.write, chunk)
    return size
