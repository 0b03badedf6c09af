"""kill -9 at any moment loses no job and posts a video twice only when the kill hit that very
send (at most one extra copy per kill); updates are confirmed to Telegram only once stored."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest

from bot.domain import Family
from tests.e2e.chaos import API_KEY, BOT_TOKEN, TASK_ID, bot_environment, run_chaos
from tests.e2e.processes import BotProcess, serve
from tests.fakes.telegram import Call, FakeTelegram
from tests.fakes.upstream import FakeUpstream


@pytest.mark.parametrize("callbacks", [True, False], ids=["callbacks", "poll-only"])
async def test_random_kill9_loses_no_job(tmp_path: Path, callbacks: bool) -> None:
    report = await run_chaos(tmp_path, jobs=30, kills=6, callbacks=callbacks, seed=7)
    print(report.line())  # noqa: T201 - the figure, for the log
    assert report.lost == 0, report.line()
    assert report.duplicates <= report.kills, report.line()


async def _all_handled(telegram: FakeTelegram, upstream: FakeUpstream, chats: set[int]) -> None:
    async with asyncio.timeout(20):
        while len(upstream.creates) < len(chats):
            await asyncio.sleep(0.05)
    answered = {int(c.params["chat_id"]) for c in telegram.calls_to("sendMessage")}
    assert chats <= answered
    assert len(upstream.creates) == len(chats)


async def test_updates_confirmed_to_telegram_survive_a_kill(tmp_path: Path) -> None:
    """30 queued commands; kill -9 the moment getUpdates confirms them; all are handled."""
    telegram = FakeTelegram(token=BOT_TOKEN)
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY)
    upstream.add_music_task(TASK_ID, tracks=[(f"audio-{n}", f"Song {n}", 60.0) for n in range(30)])
    chats = {80_000 + n for n in range(30)}
    updates = [
        telegram.private_message(f"/video {TASK_ID} audio-{n}", user_id=80_000 + n)
        for n in range(30)
    ]
    last_id = max(int(u["update_id"]) for u in updates)
    async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
        upstream.public_base_url = upstream_url
        env, base = bot_environment(tmp_path, telegram_url, upstream_url, callbacks=False)
        bot = BotProcess(env, tmp_path)
        await bot.start(f"{base}/healthz")
        killed = asyncio.Event()

        def kill_on_confirmation(call: Call) -> None:
            offset = int(call.params.get("offset") or 0)
            if call.method == "getUpdates" and offset > last_id and not killed.is_set():
                assert bot.process is not None
                bot.process.send_signal(signal.SIGKILL)  # before Telegram even answers
                killed.set()

        telegram.on_call = kill_on_confirmation
        for update in updates:
            telegram.push_update(update)
        await asyncio.wait_for(killed.wait(), 10)
        assert bot.process is not None
        await bot.process.wait()
        telegram.on_call = None
        await bot.start(f"{base}/healthz")
        await _all_handled(telegram, upstream, chats)
        await bot.stop(signal.SIGTERM)


async def test_webhook_updates_answered_200_survive_a_kill(tmp_path: Path) -> None:
    """30 webhook updates, each answered 200; kill -9 right after the last; all are handled."""
    telegram = FakeTelegram(token=BOT_TOKEN)
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY)
    upstream.add_music_task(TASK_ID, tracks=[(f"audio-{n}", f"Song {n}", 60.0) for n in range(30)])
    chats = {90_000 + n for n in range(30)}
    async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
        upstream.public_base_url = upstream_url
        env, base = bot_environment(tmp_path, telegram_url, upstream_url, callbacks=False)
        env |= {"BOT_MODE": "webhook", "WEBHOOK_SECRET": "s3cret", "PUBLIC_BASE_URL": base}
        bot = BotProcess(env, tmp_path)
        await bot.start(f"{base}/healthz")
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        async with httpx.AsyncClient(base_url=base, headers=headers) as client:
            for chat in sorted(chats):
                update = telegram.private_message(
                    f"/video {TASK_ID} audio-{chat - 90_000}", user_id=chat
                )
                assert (await client.post("/telegram", json=update)).status_code == 200
        await bot.kill()
        await bot.start(f"{base}/healthz")
        await _all_handled(telegram, upstream, chats)
        await bot.stop(signal.SIGTERM)
