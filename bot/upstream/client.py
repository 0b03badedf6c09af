"""The thin httpx wrapper: sends what a dialect builds, hands the bytes back to it.

Owns transport concerns only (URL joining, headers, body cap, transport errors); knows nothing
of Telegram or SQL. The API key lives in a header: never in a URL, a log line or an exception.
"""

from __future__ import annotations

import asyncio
from importlib.metadata import PackageNotFoundError, version

import httpx

from bot.domain import Credits, TrackList, VideoRequest, VideoResult
from bot.lyrics.model import AlignedLyrics
from bot.upstream.dialect import Dialect
from bot.upstream.errors import MalformedResponse, UpstreamUnavailable
from bot.upstream.http import HttpRequest, HttpResponse

MAX_BODY_BYTES = 1024 * 1024
CALL_DEADLINE_SECONDS = 45.0  # a whole call, however slowly the bytes trickle in


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


class UpstreamClient:
    """Calls one provider's API through its dialect; every failure is an UpstreamError."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        dialect: Dialect,
        base_url: str,
        api_key: str,
        *,
        deadline: float = CALL_DEADLINE_SECONDS,
    ) -> None:
        self._http = http
        self._deadline = deadline
        self._dialect = dialect
        self._base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": user_agent(),
        }

    async def create(self, request: VideoRequest) -> str:
        """Submit a video; returns the new video task id."""
        return self._dialect.parse_create(await self._send(self._dialect.build_create(request)))

    async def details(self, video_task_id: str) -> VideoResult:
        """Poll one video task."""
        response = await self._send(self._dialect.build_details(video_task_id))
        return self._dialect.parse_details(response)

    async def tracks(self, music_task_id: str) -> TrackList:
        """The tracks of a music task."""
        response = await self._send(self._dialect.build_tracks(music_task_id))
        return self._dialect.parse_tracks(response)

    async def timestamped_lyrics(self, task_id: str, audio_id: str) -> AlignedLyrics:
        """A track's aligned words (docs/providers.md §5.1); Unsupported on vidgo, before I/O."""
        request = self._dialect.build_timestamped_lyrics(task_id, audio_id)
        return self._dialect.parse_timestamped_lyrics(await self._send(request))

    async def credits(self) -> Credits:
        """The account's remaining credits."""
        return self._dialect.parse_credits(await self._send(self._dialect.build_credits()))

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
