"""A stop ends within its one grace even with a slow "Check status" or Cancel tap in hand and
font detection still running; a tap that could not finish stays in the inbox for the next run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import STOP_GRACE_SECONDS
from bot.domain import Provider
from storage.db import SqliteDatabase
from tests.e2e.harness import new_fakes, running_bot

USER = 4242
MARGIN_SECONDS = 2.5  # closing Telegram, HTTP clients and the database; a loaded machine


@pytest.fixture
def slow_ffmpeg(tmp_path: Path) -> Path:
    """An "ffmpeg" that takes far longer than any grace: font detection is still running."""
    script = tmp_path / "slow-ffmpeg"
    script.write_text("#!/bin/sh\nexec sleep 60\n")
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("button", ["st:1", "rc:1"], ids=["check-status", "cancel"])
async def test_a_stop_with_a_slow_tap_in_hand_ends_within_the_grace_and_keeps_the_tap(
    tmp_path: Path, slow_ffmpeg: Path, button: str
) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    fakes = (telegram, upstream)
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(STOP_GRACE_SECONDS + 20):
        async with running_bot(tmp_path, fakes=fakes, ffmpeg_binary=slow_ffmpeg) as h:
            telegram.push_update(telegram.private_message("/help", user_id=USER))
            await telegram.wait_for("sendMessage", lambda c: c.params["chat_id"] == USER)
            [message] = telegram.messages(USER)
            telegram.hang("answerCallbackQuery")  # the tap's handler never gets its answer
            tap = telegram.callback_query(button, message=message, user_id=USER)
            # Both in one batch: the slow tap does not hold up its chat, the command after it
            # is answered meanwhile.
            telegram.push_update(tap)
            telegram.push_update(telegram.private_message("/help", user_id=USER))
            await telegram.wait_for("answerCallbackQuery")
            await telegram.wait_for(
                "sendMessage", lambda c: c.params["chat_id"] == USER, count=2, timeout=3
            )
            stopping = loop.time()
        took = loop.time() - stopping
    print(f"stop with a {button} tap in hand and font detection running: {took:.2f} s")  # noqa: T201 - the figure
    assert took < STOP_GRACE_SECONDS + MARGIN_SECONDS, took

    # The tap did not finish: it is still pending, and the next run handles it.
    async with SqliteDatabase.connect(tmp_path / "bot.sqlite3") as db:
        row = await db.fetch_one(
            "SELECT handled_at FROM update_inbox WHERE update_id = ?", (tap["update_id"],)
        )
    assert row is not None
    assert row[0] is None
    telegram.release_hangs()
    answered = len(telegram.calls_to("answerCallbackQuery"))
    async with running_bot(tmp_path, fakes=fakes, ffmpeg_binary=slow_ffmpeg) as h:
        query_id = tap["callback_query"]["id"]
        await telegram.wait_for(
            "answerCallbackQuery",
            lambda c: c.params["callback_query_id"] == query_id,
            count=2,
            timeout=10,
        )
        await h.settle()
    assert len(telegram.calls_to("answerCallbackQuery")) == answered + 1
