"""python-telegram-bot's `Application`, telling which tasks the handling of an update started
(handlers registered with `block=False`), so the inbox marks the update handled only when they
have ended and a stop bounds them by its grace (docs/architecture.md §2.1, §7.3).

Must not import storage or anything from `bot` but python-telegram-bot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Generator
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import Application

RT = TypeVar("RT")


class TrackedApplication(Application):  # type: ignore[type-arg]
    """An Application whose `handle_update` returns the tasks handling the update started."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._started: dict[int, list[asyncio.Task[Any]]] = {}  # by id() of the update

    def create_task(
        self,
        coroutine: Generator[asyncio.Future[object], None, RT] | Awaitable[RT],
        update: object | None = None,
        *,
        name: str | None = None,
    ) -> asyncio.Task[RT]:
        """python-telegram-bot's `create_task`, remembering the task under its update."""
        task: asyncio.Task[RT] = super().create_task(coroutine, update=update, name=name)
        started = self._started.get(id(update)) if update is not None else None
        if started is not None:
            started.append(task)
        return task

    async def handle_update(self, update: Update) -> list[asyncio.Task[Any]]:
        """`process_update`; returns the tasks it started that may still be running."""
        started: list[asyncio.Task[Any]] = []
        self._started[id(update)] = started
        try:
            await self.process_update(update)
        except BaseException:
            # Abandoned (its deadline, a stop): what it started goes with it, never untracked.
            for task in started:
                task.cancel()
            raise
        finally:
            del self._started[id(update)]
        return [task for task in started if not task.done()]
