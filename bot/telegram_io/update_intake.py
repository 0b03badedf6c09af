"""Exactly-once update intake: Telegram updates go into the SQLite inbox before Telegram is told
they arrived, and are handled from there, concurrently across chats and in order within one.

Polling (bot/telegram_io/update_poller.py) stores the next getUpdates offset with the updates
it confirms; the webhook stores the update before the 200. An update is marked handled only
when its handler (and any task it started) ended; a restart handles whatever is still pending
(docs/architecture.md §2.1). An update that cannot be parsed is logged and retired, never
retried, and never stops intake. The worker survives any error: each failure is reported to
its PartHealth and backed off (docs/architecture.md §2.2). Must not import the poller.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from functools import partial
from typing import Any

from telegram import Bot, Update

from bot.health import PartHealth
from storage.inbox import MAX_UPDATE_ID, InboxItem, UpdateInbox

log = logging.getLogger(__name__)

# Handles one update; returns the tasks the handling started and left running (handlers
# registered with block=False): the update is finished only when they end.
HandleUpdate = Callable[[Update], Awaitable[Collection["asyncio.Task[Any]"]]]
Sleep = Callable[[float], Awaitable[None]]


def inbox_item(data: object) -> InboxItem | None:
    """The inbox row for one update as Telegram sent it; None when it has no usable id."""
    if not isinstance(data, dict):
        return None
    update_id = data.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        return None
    if not 0 <= update_id <= MAX_UPDATE_ID:
        return None
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return InboxItem(update_id, body, update_lane(data))


# Where an update names the chat (else the user) it belongs to, in its payload (the first
# object in the update). The lane migration in storage/migrations.py computes the same in SQL.
_LANE_PATHS = (("chat", "id"), ("message", "chat", "id"), ("from", "id"), ("user", "id"))


def update_lane(data: Mapping[str, object]) -> int | None:
    """The lane of an update as Telegram sent it: its chat's id, else its user's; None when
    it names neither (or names them with ids that are not integers)."""
    payload = next(
        (value for key, value in data.items() if key != "update_id" and isinstance(value, dict)),
        None,
    )
    for path in _LANE_PATHS:
        value: object = payload
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_UPDATE_ID:
            return value
    return None


class InboxWorker:
    """Handles stored updates: concurrently across chats, one at a time within a chat (so a
    chat's admission stays ordered and a busy chat never delays anyone else).

    Only the head of each lane is listed (storage/inbox.py), so a chat with thousands of
    waiting updates costs one row per scan. An update whose handler returned is never handled
    again by this process: if marking it fails, only the marking is retried, with backoff."""

    def __init__(
        self,
        *,
        inbox: UpdateInbox,
        bot: Bot,
        handle: HandleUpdate,
        concurrency: int = 32,
        window: int = 256,
        step_timeout: float = 120.0,
        sleep: Sleep = asyncio.sleep,
        health: PartHealth | None = None,
    ) -> None:
        self._inbox = inbox
        self._bot = bot
        self._handle = handle
        self._slots = asyncio.Semaphore(concurrency)
        self._window = window
        self._step_timeout = step_timeout
        self._sleep = sleep
        self._health = health or PartHealth("inbox-worker")
        self._wakeup = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._unmarked: set[int] = set()  # handled, but marking them failed so far
        self.alive = False

    def wake(self) -> None:
        """New updates were stored."""
        self._wakeup.set()

    @property
    def busy(self) -> int:
        """Updates being handled right now (or waiting to be marked handled)."""
        return len(self._in_flight)

    async def run(self) -> None:
        """Dispatch pending updates until cancelled; cancelling abandons in-flight handlers
        (their updates stay pending and are handled after the next start)."""
        self.alive = True
        try:
            await self._retrying(self._inbox.restore_released)
            while True:
                self._wakeup.clear()
                try:
                    heads = await self._inbox.pending(limit=self._window + len(self._in_flight))
                except Exception as exc:  # noqa: BLE001 - the worker must survive anything (§2.2)
                    await self._sleep(self._health.failed(exc))
                    continue
                self._succeeded()
                for item in heads:
                    if len(self._in_flight) >= self._window:
                        break
                    if item.update_id not in self._in_flight:
                        self._dispatch(item)
                await self._wakeup.wait()
        finally:
            self.alive = False
            for task in self._in_flight.values():
                task.cancel()
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def drain(self, grace_seconds: float) -> None:
        """Wait up to `grace_seconds` for the updates in hand to be handled."""
        tasks = list(self._in_flight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=grace_seconds)

    def _dispatch(self, item: InboxItem) -> None:
        task = asyncio.create_task(self._process(item), name=f"update-{item.update_id}")
        self._in_flight[item.update_id] = task

    async def _process(self, item: InboxItem) -> None:
        try:
            update = self._decode(item)
            if update is not None:
                async with self._slots:
                    started = await self._handle_guarded(item.update_id, update)
                if started:
                    await self._finish_started(item.update_id, started)
            await self._retrying(partial(self._inbox.mark_handled, item.update_id), item.update_id)
        finally:
            del self._in_flight[item.update_id]
            self._wakeup.set()  # its lane has a new head, or a window slot is free

    def _decode(self, item: InboxItem) -> Update | None:
        try:
            return Update.de_json(json.loads(item.body), self._bot)
        except Exception:
            log.warning("update %s cannot be parsed; ignored", item.update_id, exc_info=True)
            return None

    async def _handle_guarded(
        self, update_id: int, update: Update
    ) -> Collection[asyncio.Task[Any]]:
        """Handle one update under a deadline; a failure is logged and the update retired.
        Returns the tasks the handling started and left running."""
        try:
            async with asyncio.timeout(self._step_timeout):
                return await self._handle(update)
        except TimeoutError:
            log.exception(
                "update %s: handling took over %.0fs; abandoned", update_id, self._step_timeout
            )
        except Exception:
            log.exception("update %s: handling failed", update_id)
        return ()

    async def _finish_started(self, update_id: int, started: Collection[asyncio.Task[Any]]) -> None:
        """Let the chat's next update go on while the tasks a handler started run (the update
        stays pending until they end); wait for them under the same deadline. Cancelled (at
        stop), they are cancelled too: the update stays pending for the next start."""
        try:
            await self._retrying(partial(self._inbox.release_lane, update_id), update_id)
            self._wakeup.set()  # the lane has a new head
            _done, late = await asyncio.wait(started, timeout=self._step_timeout)
        except asyncio.CancelledError:
            for task in started:
                task.cancel()
            await asyncio.gather(*started, return_exceptions=True)
            raise
        if late:
            log.error(
                "update %s: handling took over %.0fs; abandoned", update_id, self._step_timeout
            )
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _retrying(
        self, step: Callable[[], Awaitable[object]], update_id: int | None = None
    ) -> None:
        """Run one inbox step until it succeeds, backing off (capped) after each failure; only
        the step is retried, never the handler that ran before it."""
        while True:
            try:
                await step()
            except Exception as exc:  # noqa: BLE001 - the worker must survive anything (§2.2)
                if update_id is not None:
                    self._unmarked.add(update_id)
                await self._sleep(self._health.failed(exc))
            else:
                if update_id is not None:
                    self._unmarked.discard(update_id)
                self._succeeded()
                return

    def _succeeded(self) -> None:
        if not self._unmarked:
            self._health.succeeded()


def webhook_sink(
    inbox: UpdateInbox, on_stored: Callable[[], Awaitable[None]]
) -> Callable[[object], Awaitable[bool]]:
    """Store a webhook update (once per update_id) before Telegram gets its 200, then call
    `on_stored` (it wakes the inbox worker, in this process or the leader); False when the
    body is not an update (acknowledged anyway, so Telegram never redelivers it)."""

    async def put(data: object) -> bool:
        item = inbox_item(data)
        if item is None:
            log.warning("webhook body without a usable update_id; ignored")
            return False
        if await inbox.add([item]):
            await on_stored()
        else:
            log.info("update %s was already taken in; ignoring the redelivery", item.update_id)
        return True

    return put
