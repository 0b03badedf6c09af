"""Long polling: getUpdates as raw JSON, each batch stored in the inbox together with the offset
that confirms it to Telegram, so a kill between fetch and handling loses nothing
(docs/architecture.md §2.1). Survives any error (docs/architecture.md §2.2).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx
from telegram import Bot, Update
from telegram.error import TelegramError

from bot.health import PartHealth
from bot.telegram_io.update_intake import Sleep, inbox_item
from storage.inbox import UpdateInbox

log = logging.getLogger(__name__)


class IntakeUnavailable(Exception):
    """getUpdates failed for a reason that passes (network, 5xx, 429, a conflicting poller)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class UpdateFetcher:
    """A thin getUpdates client that returns the raw JSON (python-telegram-bot's `get_updates`
    parses the whole batch at once, so one malformed update would block every later one)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str) -> None:
        self._http = http
        self._url = f"{base_url}{token}/getUpdates"  # never logged: it holds the token

    async def fetch(self, offset: int | None, long_poll_seconds: float) -> list[object]:
        """One long poll; raises IntakeUnavailable when it should be retried later."""
        body: dict[str, object] = {
            "timeout": int(long_poll_seconds),
            "allowed_updates": Update.ALL_TYPES,
        }
        if offset is not None:
            body["offset"] = offset
        try:
            response = await self._http.post(
                self._url, json=body, timeout=httpx.Timeout(10.0, read=long_poll_seconds + 15.0)
            )
            answer = response.json()
        except httpx.HTTPError as exc:
            raise IntakeUnavailable(f"getUpdates: {type(exc).__name__}") from exc
        except ValueError as exc:
            raise IntakeUnavailable(f"getUpdates: HTTP {response.status_code}, not JSON") from exc
        if isinstance(answer, dict) and answer.get("ok") is True:
            result = answer.get("result")
            return list(result) if isinstance(result, list) else []
        raise _refusal(response.status_code, answer)


def _refusal(status: int, answer: object) -> IntakeUnavailable:
    description = answer.get("description") if isinstance(answer, dict) else None
    parameters = answer.get("parameters") if isinstance(answer, dict) else None
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    wait = float(retry_after) if isinstance(retry_after, int | float) else None
    return IntakeUnavailable(f"getUpdates: HTTP {status}: {description}", wait)


class TelegramPoller:
    """Long-polls Telegram and stores each batch (and the offset confirming it) in the inbox.

    Survives any error: each failed step (deleteWebhook at start, a poll, storing a batch) is
    reported to its PartHealth (logged once per cause) and retried after a capped backoff."""

    def __init__(
        self,
        *,
        fetcher: UpdateFetcher,
        inbox: UpdateInbox,
        on_stored: Callable[[], None],
        bot: Bot,
        long_poll_seconds: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        health: PartHealth | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._inbox = inbox
        self._on_stored = on_stored
        self._bot = bot
        self._long_poll = long_poll_seconds
        self._sleep = sleep
        self._health = health or PartHealth("telegram-poller")
        self.alive = False

    async def run(self) -> None:
        """Poll until cancelled."""
        self.alive = True
        webhook_deleted = False
        try:
            while True:
                try:
                    if not webhook_deleted:
                        # Polling and a webhook exclude each other; queued updates are kept.
                        await self._bot.delete_webhook(drop_pending_updates=False)
                        webhook_deleted = True
                    await self.poll_once()
                except Exception as exc:  # noqa: BLE001 - intake must survive anything (§2.2)
                    expected = isinstance(exc, IntakeUnavailable | TelegramError)
                    delay = self._health.failed(exc, expected=expected)
                    if isinstance(exc, IntakeUnavailable) and exc.retry_after:
                        delay = max(delay, exc.retry_after)
                    await self._sleep(delay)
                else:
                    self._health.succeeded()
        finally:
            self.alive = False

    async def poll_once(self) -> int:
        """Fetch one batch, store it with its confirming offset; return how many were new."""
        offset = await self._inbox.next_offset()
        raw = await self._fetcher.fetch(offset, self._long_poll)
        if not raw:
            return 0
        items = [item for data in raw if (item := inbox_item(data)) is not None]
        if len(items) != len(raw):
            log.warning(
                "update intake: %d updates without a usable id ignored", len(raw) - len(items)
            )
        if not items:
            return 0
        # The last update in Telegram's order, not the largest id: ids restart at random
        # after a week without updates.
        added = await self._inbox.add(items, next_offset=items[-1].update_id + 1)
        if added:
            self._on_stored()
        return added
