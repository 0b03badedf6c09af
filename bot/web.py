"""The bot's own HTTP endpoint (docs/architecture.md §11): provider callbacks and /healthz.

Thin on purpose: no storage, no Telegram types.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.engine.job_model import CallbackVerdict
from bot.health import PartStatus

MAX_CALLBACK_BYTES = 64 * 1024
MAX_UPDATE_BYTES = 1024 * 1024
# A callback body (at most 64 KiB) that takes longer than this is a stalled or hostile client;
# without a deadline one half-sent request would also hold up shutdown forever.
BODY_READ_SECONDS = 5.0
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name

CallbackSink = Callable[[str, bytes, Mapping[str, str]], Awaitable[CallbackVerdict]]
UpdateSink = Callable[[object], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class HealthReport:
    """What `/healthz` answers: every part's status and the job counts (None: unreadable)."""

    parts: Mapping[str, PartStatus]
    counts: Mapping[str, int | None]
    # "leader" or "follower" with PostgreSQL (docs/architecture.md §5.4); SQLite: none
    role: str | None = None

    @property
    def healthy(self) -> bool:
        """Whether every part is healthy."""
        return all(status.healthy for status in self.parts.values())

    def body(self) -> dict[str, object]:
        """The JSON body: status, the unhealthy parts with why, every part, the counts."""
        unhealthy = {
            name: status.reason or "failing"
            for name, status in self.parts.items()
            if not status.healthy
        }
        parts = {
            name: {
                "healthy": status.healthy,
                "reason": status.reason,
                "failing_for_seconds": round(status.failing_for_seconds, 1),
            }
            for name, status in self.parts.items()
        }
        status = "ok" if self.healthy else "unhealthy"
        body: dict[str, object] = {"status": status}
        if self.role is not None:
            body["role"] = self.role
        return {**body, "unhealthy": unhealthy, "parts": parts, **self.counts}


HealthProbe = Callable[[], Awaitable[HealthReport]]

_VERDICT_STATUS = {
    CallbackVerdict.ACCEPTED: 200,
    CallbackVerdict.UNKNOWN_TOKEN: 404,
    CallbackVerdict.MALFORMED: 400,
    CallbackVerdict.BAD_SIGNATURE: 401,
}


class BodyTooLarge(Exception):
    """More than the route accepts; counted as it streams, so chunked bodies are caught too."""


class BodyTooSlow(Exception):
    """The whole body did not arrive within the route's deadline."""


async def read_body(request: Request, limit: int, deadline: float | None = None) -> bytes:
    """The request body, refusing early once it passes `limit` bytes or `deadline` seconds."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTooSlow from None
    return b"".join(chunks)


def telegram_webhook_route(secret: str, on_update: UpdateSink) -> Route:
    """`POST /telegram`: Telegram updates in webhook mode, only with the right secret header."""

    async def telegram(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            data = json.loads(await read_body(request, MAX_UPDATE_BYTES, BODY_READ_SECONDS))
        except BodyTooLarge:
            return JSONResponse({"error": "body too large"}, status_code=413)
        except BodyTooSlow:
            return JSONResponse({"error": "body not received in time"}, status_code=408)
        except ValueError:
            data = None
        # Anything that is not an update is logged and acknowledged: a non-2xx answer would
        # make Telegram redeliver it and hold back every update behind it.
        stored = await on_update(data)
        return JSONResponse({"ok": True, "stored": stored})

    return Route("/telegram", telegram, methods=["POST"])


# Where the provider may POST a separation's outcome (docs/providers.md §5.2); matched before
# the video callbacks' `/callbacks/{token}`.
SEPARATION_CALLBACK_PATH = "/callbacks/separations"


def build_web_app(
    *,
    on_callback: CallbackSink,
    health: HealthProbe,
    extra_routes: list[BaseRoute] | None = None,
    body_read_seconds: float = BODY_READ_SECONDS,
) -> Starlette:
    """The starlette application; `extra_routes` carries the Telegram webhook in webhook mode."""

    async def callback(request: Request) -> Response:
        try:
            body = await read_body(request, MAX_CALLBACK_BYTES, body_read_seconds)
        except BodyTooLarge:
            return JSONResponse({"error": "body too large"}, status_code=413)
        except BodyTooSlow:
            return JSONResponse({"error": "body not received in time"}, status_code=408)
        verdict = await on_callback(request.path_params["token"], body, request.headers)
        status = _VERDICT_STATUS[verdict]
        return JSONResponse({"status": verdict.value}, status_code=status)

    async def separation_callback(_: Request) -> Response:
        # A separation's callback is only a hint: the karaoke render polls the separation's
        # details, which are authoritative (docs/architecture.md §9.7), so it is acknowledged
        # unread.
        return JSONResponse({"status": "noted"}, status_code=200)

    async def healthz(_: Request) -> Response:
        report = await health()
        return JSONResponse(report.body(), status_code=200 if report.healthy else 503)

    routes: list[BaseRoute] = [
        Route(SEPARATION_CALLBACK_PATH, separation_callback, methods=["POST"]),
        Route("/callbacks/{token}", callback, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        *(extra_routes or []),
    ]
    return Starlette(routes=routes)
