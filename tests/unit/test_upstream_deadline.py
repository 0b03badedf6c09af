"""Every upstream call has a total deadline, however slowly the provider trickles its answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from bot.domain import Family
from bot.upstream.client import UpstreamClient, make_http_client
from bot.upstream.dialect import dialect_for_family
from bot.upstream.errors import UpstreamUnavailable


async def _trickle(_request: Request) -> StreamingResponse:
    """Headers at once, then one byte every 50 ms, forever: no per-phase timeout ever fires."""

    async def body() -> AsyncIterator[bytes]:
        yield b'{"code": 200, "data": '
        while True:
            await asyncio.sleep(0.05)
            yield b" "

    return StreamingResponse(body(), media_type="application/json")


async def test_a_trickling_answer_ends_at_the_call_deadline() -> None:
    app = Starlette(routes=[Route("/{path:path}", _trickle, methods=["GET", "POST"])])
    async with make_http_client(transport=httpx.ASGITransport(app=app)) as http:
        client = UpstreamClient(
            http, dialect_for_family(Family.KIE), "http://upstream.test", "key", deadline=0.3
        )
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable, match=r"no answer within 0\.3s"):
            await client.details("vt-1")
        assert time.monotonic() - started < 2.0
