"""Several `python -m bot` processes in webhook mode on one PostgreSQL database: every one takes
updates in, the leader handles them (docs/architecture.md §5.4); and a run that kill -9s the
leader while commands arrive at both processes.

Used by tests/e2e/test_followers.py (short) and bench/leader_kill.py (long). The fakes run in
this process on loopback; the bots are real processes. A command is `/help` in a group: its
answer replies to the command's message, so every answer names the update it answers.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.domain import Family
from tests.e2e.chaos import API_KEY, BOT_TOKEN, bot_environment
from tests.e2e.processes import BotProcess, serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream
from tests.postgres_server import throwaway_database

WEBHOOK_SECRET = "s3cret-webhook"
SECRET_HEADER = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
FIRST_GROUP = -100_700_000


def webhook_bot(
    workdir: Path, telegram_url: str, upstream_url: str, database_url: str, **extra: str
) -> tuple[BotProcess, str]:
    """A `python -m bot` in webhook mode on `database_url` (callbacks on), and its base URL."""
    workdir.mkdir()
    env, base = bot_environment(workdir, telegram_url, upstream_url, callbacks=True)
    env |= {
        "BOT_MODE": "webhook",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PUBLIC_BASE_URL": base,
        "DATABASE_URL": database_url,
        **extra,
    }
    return BotProcess(env, workdir), base


async def health(base: str) -> dict[str, Any] | None:
    """The bot's /healthz body, or None while it does not answer."""
    async with httpx.AsyncClient(timeout=1.0) as client:
        try:
            answer = await client.get(f"{base}/healthz")
        except httpx.TransportError:
            return None
    body: dict[str, Any] = answer.json()
    return body


async def wait_for_role(bot: BotProcess, base: str, role: str, timeout: float = 15.0) -> None:
    """Return once the bot's /healthz names `role` ("leader" or "follower")."""
    async with asyncio.timeout(timeout):
        while (body := await health(base)) is None or body.get("role") != role:
            assert bot.running, bot.log.read_text()
            await asyncio.sleep(0.02)


def answers(telegram: FakeTelegram, chat: int) -> list[int]:
    """The message ids the bot's messages in `chat` reply to, in the order they were sent."""
    return [
        int(message["reply_to_message"]["message_id"])
        for message in telegram.messages(chat)
        if "reply_to_message" in message
    ]


async def post_update(bases: list[str], update: dict[str, Any], first: int) -> int:
    """POST a webhook update to `bases[first]`, else to the next that answers (as a load
    balancer, or Telegram's redelivery, would); return the index of the one that took it."""
    async with httpx.AsyncClient(timeout=5.0, headers=SECRET_HEADER) as client:
        for step in range(len(bases)):
            index = (first + step) % len(bases)
            try:
                answer = await client.post(f"{bases[index]}/telegram", json=update)
            except httpx.TransportError:
                continue
            assert answer.status_code == 200, answer.text
            return index
    raise AssertionError("no bot took the update")


@dataclass(frozen=True)
class LeaderKillReport:
    """What a leader-kill run saw."""

    updates: int
    chats: int
    takeover_seconds: float  # kill -9 of the leader → the survivor's /healthz says "leader"
    lost: int  # updates never answered
    twice: int  # answers beyond the first, over all updates
    out_of_order: int  # chats whose first answers are not in the order of their commands
    seconds: float


async def run_leader_kill(
    tmp: Path, *, updates: int, chats: int, gap: float = 0.03
) -> LeaderKillReport:
    """Two bots; `updates` group commands over `chats` chats, posted to the two bots in turn
    `gap` seconds apart; the leader is killed (-9) a third of the way through; the rest go to
    whichever bot answers. Returns once every command is answered and the survivor is idle."""
    telegram = FakeTelegram(token=BOT_TOKEN)
    upstream = FakeUpstream(Family.KIE, api_key=API_KEY)
    started = time.monotonic()
    with throwaway_database() as url:
        async with serve(telegram.app) as telegram_url, serve(upstream.app) as upstream_url:
            leader, leader_base = webhook_bot(tmp / "a", telegram_url, upstream_url, url)
            survivor, survivor_base = webhook_bot(tmp / "b", telegram_url, upstream_url, url)
            await leader.start(f"{leader_base}/healthz")
            await wait_for_role(leader, leader_base, "leader")
            await survivor.start(f"{survivor_base}/healthz")
            await wait_for_role(survivor, survivor_base, "follower")
            groups = [FIRST_GROUP - n for n in range(chats)]
            commands = [
                telegram.group_message("/help", chat_id=groups[n % chats], user_id=5_000 + n)
                for n in range(updates)
            ]
            bases = [leader_base, survivor_base]
            takeover: asyncio.Task[float] | None = None
            for n, update in enumerate(commands):
                if n == updates // 3:
                    await leader.kill()
                    takeover = asyncio.create_task(_takeover(survivor, survivor_base))
                await post_update(bases, update, first=n % 2)
                await asyncio.sleep(gap)
            assert takeover is not None
            takeover_seconds = await takeover
            expected = {
                chat: [int(u["message"]["message_id"]) for u in commands if _chat(u) == chat]
                for chat in groups
            }
            async with asyncio.timeout(30):
                while any(set(answers(telegram, c)) < set(ids) for c, ids in expected.items()):
                    assert survivor.running, survivor.log.read_text()
                    await asyncio.sleep(0.05)
            await _settle(survivor_base)
            assert await survivor.stop(signal.SIGTERM) == 0, survivor.log.read_text()
    lost = twice = out_of_order = 0
    for chat, ids in expected.items():
        seen = answers(telegram, chat)
        counts = Counter(seen)
        lost += sum(1 for message_id in ids if counts[message_id] == 0)
        twice += sum(count - 1 for count in counts.values() if count > 1)
        first_seen = list(dict.fromkeys(seen))
        out_of_order += first_seen != sorted(first_seen)
    return LeaderKillReport(
        updates, chats, takeover_seconds, lost, twice, out_of_order, time.monotonic() - started
    )


def _chat(update: dict[str, Any]) -> int:
    return int(update["message"]["chat"]["id"])


async def _takeover(bot: BotProcess, base: str) -> float:
    """Seconds from now until `bot` leads."""
    killed = time.monotonic()
    await wait_for_role(bot, base, "leader", timeout=30.0)
    return time.monotonic() - killed


async def _settle(base: str) -> None:
    """Wait until the bot has no update pending, then a moment for late repeats to show."""
    async with asyncio.timeout(10):
        while (body := await health(base)) is None or body.get("updates_pending") != 0:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # nothing to wait on: a repeat would be a send we did not expect
