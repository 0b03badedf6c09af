"""Start-up against a Telegram that is not there yet: retry a first call until the Bot API
answers, and turn a refused token into a configuration error (docs/architecture.md §13.8).

Must not import storage or anything from `bot` but `bot.health`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import InvalidToken, NetworkError, RetryAfter

from bot.health import describe_cause

log = logging.getLogger(__name__)

FIRST_WAIT_SECONDS = 1.0
MAX_WAIT_SECONDS = 60.0

T = TypeVar("T")


class TelegramTokenRefused(Exception):
    """Telegram answered 401/404 to the bot's token: a configuration error, not an outage."""


async def wait_for_telegram(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    base_url: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    first_wait: float = FIRST_WAIT_SECONDS,
    max_wait: float = MAX_WAIT_SECONDS,
) -> T:
    """Run `call` until Telegram answers it: unreachable (DNS, refused, timeout, 5xx) or
    flood-limited, one line per attempt naming `base_url` (never the token) and the cause,
    then a wait doubling from `first_wait` to `max_wait`. A refused token raises
    TelegramTokenRefused; any other refusal propagates."""
    wait, attempt = first_wait, 1
    while True:
        try:
            return await call()
        except InvalidToken:
            raise TelegramTokenRefused(
                f"Telegram at {base_url} refused TELEGRAM_BOT_TOKEN ({what} answered 401/404):"
                " check the token @BotFather gave you"
            ) from None
        except RetryAfter as exc:
            delay = max(wait, _seconds(exc.retry_after))
            cause = describe_cause(exc)
        except NetworkError as exc:  # TimedOut too; python-telegram-bot wraps httpx's errors
            delay, cause = wait, describe_cause(exc)
        log.warning(
            "Telegram Bot API at %s not reachable for %s (attempt %d: %s); retrying in %.0f s",
            base_url,
            what,
            attempt,
            cause,
            delay,
        )
        await sleep(delay)
        wait, attempt = min(max_wait, wait * 2), attempt + 1


def _seconds(retry_after: object) -> float:
    seconds = getattr(retry_after, "total_seconds", None)
    if callable(seconds):
        return float(seconds())
    return float(retry_after) if isinstance(retry_after, int | float) else 0.0
