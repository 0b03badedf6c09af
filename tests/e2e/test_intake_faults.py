"""Update intake under faults: a failing database or Telegram never ends the poller or the inbox
worker, never makes them spin, and never runs a handler twice for one update."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

import bot.app
from bot.domain import Provider
from storage.inbox import InboxItem, UpdateInbox
from tests.e2e.harness import Harness, new_fakes, running_bot

USER = 4242


@dataclass
class Faults:
    """Which inbox steps fail (with the errors SQLite gives), and how often each was tried."""

    add: int = 0  # the next `add` calls that fail
    pending: int = 0  # the next `pending` calls that fail
    mark: bool = False  # every `mark_handled` fails while set
    add_calls: int = 0
    pending_calls: int = 0
    mark_calls: int = 0


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Faults:
    """The bot's inbox, on its real database, with injected failures."""
    faults = Faults()

    class FlakyInbox(UpdateInbox):
        async def add(self, updates: Iterable[InboxItem], *, next_offset: int | None = None) -> int:
            faults.add_calls += 1
            if faults.add > 0:
                faults.add -= 1
                raise sqlite3.OperationalError("database is locked")
            return await super().add(updates, next_offset=next_offset)

        async def pending(self, limit: int = 100) -> list[InboxItem]:
            faults.pending_calls += 1
            if faults.pending > 0:
                faults.pending -= 1
                raise sqlite3.OperationalError("disk I/O error")
            return await super().pending(limit)

        async def mark_handled(self, update_id: int) -> None:
            faults.mark_calls += 1
            if faults.mark:
                raise sqlite3.OperationalError("database or disk is full")
            await super().mark_handled(update_id)

    monkeypatch.setattr(bot.app, "UpdateInbox", FlakyInbox)
    return faults


def replies(h: Harness, chat_id: int = USER) -> int:
    return len([c for c in h.telegram.calls_to("sendMessage") if c.params["chat_id"] == chat_id])


async def pending_updates(h: Harness) -> int:
    health = await h.web.get("/healthz")
    return int(health.json()["updates_pending"])


async def test_a_failing_mark_handled_never_runs_the_handler_again(
    tmp_path: Path, faults: Faults
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        faults.mark = True
        h.telegram.push_update(h.telegram.private_message("/help", user_id=USER))
        await h.telegram.wait_for("sendMessage", lambda c: c.params["chat_id"] == USER)
        # Marking is retried with backoff (0.5 s, 1 s, …), not in a hot loop.
        await h.wait_until(lambda: faults.mark_calls >= 3, timeout=10)
        assert faults.mark_calls <= 4
        assert replies(h) == 1  # the handler ran once: the user got one answer
        worker = h.app.health.part("inbox-worker").status()
        assert not worker.healthy
        assert "database or disk is full" in (worker.reason or "")

        faults.mark = False  # the disk has room again
        async with asyncio.timeout(10):
            while await pending_updates(h):
                await asyncio.sleep(0.05)
        assert replies(h) == 1
        assert h.app.health.part("inbox-worker").status().healthy
        h.telegram.push_update(h.telegram.private_message("/help", user_id=USER))
        await h.telegram.wait_for("sendMessage", lambda c: c.params["chat_id"] == USER, count=2)


async def test_a_failing_scan_of_the_inbox_never_ends_the_worker(
    tmp_path: Path, faults: Faults
) -> None:
    faults.pending = 2
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.push_update(h.telegram.private_message("/help", user_id=USER))
        await h.telegram.wait_for("sendMessage", lambda c: c.params["chat_id"] == USER, timeout=10)
        assert faults.pending == 0
        assert faults.pending_calls <= 6  # backed off, not spinning
        assert replies(h) == 1
        assert h.app.health.part("inbox-worker").status().healthy
        assert (await h.web.get("/healthz")).status_code == 200


async def test_a_failing_store_of_a_batch_never_ends_the_poller(
    tmp_path: Path, faults: Faults
) -> None:
    faults.add = 2
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.push_update(h.telegram.private_message("/help", user_id=USER))
        await h.telegram.wait_for("sendMessage", lambda c: c.params["chat_id"] == USER, timeout=10)
        assert faults.add == 0
        assert faults.add_calls == 3  # two failures, backed off, then stored once
        assert replies(h) == 1
        poller = h.app.health.part("telegram-poller")
        assert poller.status().healthy
        assert h.app.poller is not None
        assert h.app.poller.alive


async def test_a_failing_delete_webhook_at_start_is_retried(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.fail_next("deleteWebhook", error_code=502, description="Bad Gateway", times=2)
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        h.telegram.push_update(h.telegram.private_message("/help", user_id=USER))
        await h.telegram.wait_for("sendMessage", lambda c: c.params["chat_id"] == USER, timeout=10)
        assert len(h.telegram.calls_to("deleteWebhook")) == 3
        assert h.app.health.part("telegram-poller").status().healthy
