"""A network between the bot and a fake: each request is held up on its way in.

Wraps any httpx transport (an in-process ASGITransport, usually), so the fake on the other
side sees requests arrive later and in another order than they were sent — the arrival jitter
a real network adds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx


class DelayingTransport(httpx.AsyncBaseTransport):
    """Sleeps `delay(request)` seconds before handing each request to `inner`."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, delay: Callable[[httpx.Request], float]
    ) -> None:
        self._inner = inner
        self._delay = delay

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Hold the request up, then send it on."""
        await asyncio.sleep(self._delay(request))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()
