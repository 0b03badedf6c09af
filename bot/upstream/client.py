"""The thin httpx wrapper: sends what a dialect builds, hands the bytes back to it.

Owns transport concerns (URL joining, headers, body cap, transport errors) and the provider's
rate: every call waits for a turn in one of two windows, creates or queries (details, tracks,
lyrics, credits), so no caller can draw 429s for the others (docs/providers.md §6.2). Knows
nothing of Telegram or SQL. The API key lives in a header: never in a URL, a log line or an
exception.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import TypeVar

import httpx

from bot.domain import (
    PROVIDER_RATES,
    Credits,
    Family,
    ProviderRates,
    SeparationResult,
    TrackList,
    VideoRequest,
    VideoResult,
)
from bot.engine.rate_limit import NoTurn, SlidingWindowLimiter
from bot.lyrics.model import AlignedLyrics
from bot.upstream.dialect import Dialect
from bot.upstream.errors import MalformedResponse, RateLimited, UpstreamUnavailable
from bot.upstream.http import HttpRequest, HttpResponse

T = TypeVar("T")

MAX_BODY_BYTES = 1024 * 1024
CALL_DEADLINE_SECONDS = 45.0  # a whole call, however slowly the bytes trickle in
# The share of the documented rate we use (docs/providers.md §6.2): 18 creates per 10 s, 9
# queries a second, so a provider that counts a little differently still sees us under it.
RATE_MARGIN = 0.9
# The longest a call waits for its turn; then it fails as RateLimited (retry later). Under the
# submit lease with a whole call on top, and short enough for a person waiting on a reply.
TURN_WAIT_SECONDS = 30.0


def user_agent() -> str:
    """`musicvideo-bot/<installed version>`."""
    try:
        return f"musicvideo-bot/{version('musicvideo-bot')}"
    except PackageNotFoundError:
        return "musicvideo-bot/0+unknown"


def make_http_client(
    *, timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """An AsyncClient for the upstream API; `transport` lets tests swap the wire."""
    return httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)


def paced(rate: tuple[int, float]) -> SlidingWindowLimiter:
    """A limiter for a documented (calls, per seconds), less the margin."""
    calls, period = rate
    return SlidingWindowLimiter(max(1, math.floor(calls * RATE_MARGIN)), period)


class UpstreamClient:
    """Calls one provider's API through its dialect, each call within the provider's rate;
    every failure is an UpstreamError."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        dialect: Dialect,
        base_url: str,
        api_key: str,
        *,
        deadline: float = CALL_DEADLINE_SECONDS,
        rates: ProviderRates | None = None,
        turn_wait: float = TURN_WAIT_SECONDS,
    ) -> None:
        """`rates` are the provider's documented ones (default: the strictest, which every
        family shares today); one client per process, so its windows cover every caller."""
        self._http = http
        self._deadline = deadline
        rates = rates or PROVIDER_RATES[Family.KIE]
        self._creates = paced(rates.creates)
        self._queries = paced(rates.details)
        self._turn_wait = turn_wait
        self._dialect = dialect
        self._base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": user_agent(),
        }

    def create_would_wait(self) -> bool:
        """Whether a create now would wait for its turn (the job then shows "queued")."""
        return self._creates.would_wait()

    async def create(self, request: VideoRequest) -> str:
        """Submit a video; returns the new video task id."""
        built = self._dialect.build_create(request)
        return await self._call(self._creates, built, self._dialect.parse_create)

    async def details(self, video_task_id: str) -> VideoResult:
        """Poll one video task."""
        built = self._dialect.build_details(video_task_id)
        return await self._call(self._queries, built, self._dialect.parse_details)

    async def tracks(self, music_task_id: str) -> TrackList:
        """The tracks of a music task."""
        built = self._dialect.build_tracks(music_task_id)
        return await self._call(self._queries, built, self._dialect.parse_tracks)

    async def timestamped_lyrics(self, task_id: str, audio_id: str) -> AlignedLyrics:
        """A track's aligned words (docs/providers.md §5.1); Unsupported on vidgo, before I/O."""
        built = self._dialect.build_timestamped_lyrics(task_id, audio_id)
        return await self._call(self._queries, built, self._dialect.parse_timestamped_lyrics)

    async def separate(self, task_id: str, audio_id: str, callback_url: str) -> str:
        """Ask for a track's vocal separation (docs/providers.md §5.2; it costs credits, so
        it waits in the creates' window); returns the separation task id. Unsupported on
        vidgo, before I/O."""
        built = self._dialect.build_separation(task_id, audio_id, callback_url)
        return await self._call(self._creates, built, self._dialect.parse_separation)

    async def separation_details(self, separation_task_id: str) -> SeparationResult:
        """Poll one separation task (docs/providers.md §5.2)."""
        built = self._dialect.build_separation_details(separation_task_id)
        return await self._call(self._queries, built, self._dialect.parse_separation_details)

    async def credits(self) -> Credits:
        """The account's remaining credits."""
        built = self._dialect.build_credits()
        return await self._call(self._queries, built, self._dialect.parse_credits)

    async def _call(
        self,
        window: SlidingWindowLimiter,
        request: HttpRequest,
        parse: Callable[[HttpResponse], T],
    ) -> T:
        """Send `request` within `window`'s rate and parse the answer; a slow-down answer with
        a Retry-After pauses that window for every caller."""
        try:
            async with window.turn(max_wait=self._turn_wait):
                response = await self._send(request)
        except NoTurn as exc:
            what = f"{request.method} {request.path}"
            raise RateLimited(f"{what}: no turn within the provider's rate", exc.wait) from exc
        try:
            return parse(response)
        except RateLimited as exc:
            if exc.retry_after:
                window.pause(exc.retry_after)
            raise

    async def _send(self, request: HttpRequest) -> HttpResponse:
        url = f"{self._base_url}/{request.path.lstrip('/')}"
        headers = dict(self._headers)
        if request.json is not None:
            headers["Content-Type"] = "application/json"
        what = f"{request.method} {request.path}"  # never the headers: they hold the key
        deadline = asyncio.timeout(self._deadline)
        try:
            async with (
                deadline,
                self._http.stream(
                    request.method, url, params=request.params, json=request.json, headers=headers
                ) as response,
            ):
                body = await _read_capped(response, what)
        except TimeoutError as exc:
            if not deadline.expired():
                raise
            raise UpstreamUnavailable(f"{what}: no answer within {self._deadline:g}s") from exc
        except httpx.TimeoutException as exc:
            raise UpstreamUnavailable(f"{what}: timed out") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(f"{what}: {type(exc).__name__}") from exc
        except httpx.DecodingError as exc:
            raise MalformedResponse(f"{what}: undecodable body") from exc
        return HttpResponse(
            response.status_code, body, retry_after_seconds(response.headers.get("retry-after"))
        )


async def _read_capped(response: httpx.Response, what: str) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise MalformedResponse(f"{what}: body of {declared} bytes is over the cap")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise MalformedResponse(f"{what}: body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (delta-seconds form; an HTTP date is ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 < seconds <= 3600 else None
