"""The provider's create rate as the provider counts it, with a network between it and the bot
(docs/providers.md §6.2): a backlog of submissions never puts more than 18 creates (the
documented 20 less the margin) into any 10 s window of the provider's, whatever the jitter."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from bot.app import BotApp
from bot.domain import PROVIDER_RATES, Family, Provider
from tests.e2e.harness import (
    PUBLIC_BASE_URL,
    Harness,
    direct_job,
    make_settings,
    new_fakes,
)
from tests.fakes.network import DelayingTransport

USER = 4242
BACKLOG = 24  # more than a window holds; the user's job waits among the rest
CREATES, CREATE_PERIOD = PROVIDER_RATES[Family.KIE].creates


@asynccontextmanager
async def bot_behind_a_network(
    tmp_path: Path, delay: Callable[[httpx.Request], float]
) -> AsyncIterator[Harness]:
    """The whole bot, its requests to the provider held up by `delay(request)` on the way."""
    telegram, upstream = new_fakes(Provider.KIE)
    settings = make_settings(tmp_path, Provider.KIE)
    direct = httpx.ASGITransport(app=upstream.app)
    app = BotApp(
        settings,
        telegram_transport=httpx.ASGITransport(app=telegram.app),
        upstream_transport=DelayingTransport(direct, delay),
        cdn_transport=direct,
    )
    async with app:
        assert app.web is not None
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app.web), base_url=PUBLIC_BASE_URL
        ) as web:
            yield Harness(app=app, telegram=telegram, upstream=upstream, web=web, settings=settings)


def first_creates_held_up(count: int, seconds: float) -> Callable[[httpx.Request], float]:
    """The worst network for a window: the first `count` creates arrive late, later ones at
    once, so the next burst lands right behind the delayed one."""
    creates = itertools.count()

    def delay(request: httpx.Request) -> float:
        if request.method != "POST" or not request.url.path.endswith("/mp4/generate"):
            return 0.0
        return seconds if next(creates) < count else 0.0

    return delay


async def test_a_backlog_of_creates_keeps_the_margin_at_the_provider(tmp_path: Path) -> None:
    async with bot_behind_a_network(tmp_path, first_creates_held_up(20, 0.5)) as h:
        for n in range(BACKLOG):
            due = h.app.clock()
            await h.repo.create(
                direct_job(10_000 + n, f"backlog-{n}", audio_id="audio-2", next_poll_at=due)
            )
        h.app.wake_reconciler()
        await h.wait_until(lambda: len(h.upstream.creates) >= 18, timeout=10)

        # A person's /video now waits for a turn, and its status message says so.
        await h.submit(user_id=USER)
        await h.wait_until(lambda: "Queued" in h.status_text(USER), timeout=10)

        await h.wait_until(lambda: len(h.upstream.creates) >= BACKLOG + 1, timeout=40)
    busiest = h.upstream.busiest_window(("create",), CREATE_PERIOD)
    assert busiest <= CREATES  # the provider's documented 20 per 10 s
    assert busiest <= 18  # and the margin held, with the network's jitter
