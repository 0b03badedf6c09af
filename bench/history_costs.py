"""Benchmark: the queries that run often, at 100,000 jobs of history (docs/architecture.md §11).

Fills a database with N jobs — most delivered over half a year in 1,000 chats, one heavy user
and one linked chat with a fifth of them, a few hundred in progress — then times, through the
real repositories, each of: the two /healthz counts, the channel poster's look (`derive`, with a
few videos delivered in the last minutes) and an inline query of the heavy user (no words, and
words that match nothing, which searches deepest). Each figure is the median of many runs; the
same queries as they were before (full scans, 1,000 full rows) are timed for comparison.
Usage: .venv/bin/python -m bench.history_costs [N]   (default 100000)
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from handlers.inline_share import InlineShareHandlers
from storage.autopost_links import AutopostLinkRepository
from storage.channel_posts import ChannelPostRepository
from storage.db import SqliteDatabase
from storage.jobs import JobRepository

CHATS = 1_000
HEAVY_USER = 1_000_000  # a fifth of all jobs are this user's, in this (linked) chat
LINKED_CHATS = 50
DAY = 86_400.0
# The derive step as it was: every delivered video of every linked chat, at each look.
OLD_DERIVE = (
    "INSERT INTO channel_posts (job_id, chat_id, channel_id, linked_at, file_id, state,"
    " next_attempt_at, created_at, updated_at)"
    " SELECT j.id, l.chat_id, l.channel_id, l.linked_at, j.file_id, 'pending', ?, ?, ?"
    " FROM autopost_links AS l JOIN jobs AS j ON j.chat_id = l.chat_id"
    " AND j.state = 'delivered' AND j.file_id IS NOT NULL AND j.delivered_at >= l.linked_at"
    " WHERE l.channel_id IS NOT NULL AND l.linked_at IS NOT NULL"
    " ON CONFLICT (job_id, channel_id) DO NOTHING"
)


def _rows(jobs: int, now: float) -> list[tuple[object, ...]]:
    """The job rows: (chat, user, state, file_id, poll at, delivery at, created, delivered)."""
    rng = random.Random(1)
    rows: list[tuple[object, ...]] = []
    for n in range(jobs):
        heavy = n % 5 == 0
        chat = HEAVY_USER if heavy else 2_000_000 + n % CHATS
        created = now - 180 * DAY + 180 * DAY * n / jobs
        state, file_id, poll_at, delivery_at, delivered = "delivered", f"file-{n}", None, None, None
        if n >= jobs - 300:
            state, file_id, poll_at = "pending", None, now + rng.uniform(0, 300)
        elif n >= jobs - 320:
            state, file_id, delivery_at = "succeeded", None, now + rng.uniform(0, 60)
        elif rng.random() < 0.05:
            state, file_id = "failed", None
        if state == "delivered":
            # The last few videos were delivered minutes ago (the look re-reads those).
            delivered = created + 60 if n < jobs - 340 else now - rng.uniform(0, 240)
        title = f"Song {n} of chat {chat}"
        rows.append(
            (chat, chat, "en", "kie", "task", f"audio-{n}", title, state, file_id, f"h{n}",
             poll_at, delivery_at, created, created, delivered)
        )  # fmt: skip
    return rows


def _fill(path: Path, jobs: int, now: float) -> None:
    """Write the jobs, links and already-made channel posts straight into the file."""
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO jobs (chat_id, user_id, language, provider, task_id, audio_id, title,"
            " state, file_id, callback_token_hash, next_poll_at, next_delivery_at, created_at,"
            " updated_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _rows(jobs, now),
        )
        linked = [HEAVY_USER, *(2_000_000 + n for n in range(LINKED_CHATS - 1))]
        conn.executemany(
            "INSERT INTO autopost_links (chat_id, channel_id, linked_at, updated_at)"
            " VALUES (?, ?, ?, ?)",
            [(chat, -100_000 - chat, now - 200 * DAY, now) for chat in linked],
        )
        conn.execute(OLD_DERIVE, (None, now, now))  # every video so far has its post
    conn.close()


async def _median_ms(step: Callable[[], Awaitable[object]], runs: int = 200) -> float:
    for _ in range(5):
        await step()  # warm the page cache and the statement cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await step()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def main(jobs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bot.sqlite3"
        async with SqliteDatabase.connect(path):
            pass  # the schema
        now = time.time()
        started = time.monotonic()
        await asyncio.to_thread(_fill, path, jobs, now)
        print(f"filled {jobs:,} jobs in {time.monotonic() - started:.1f} s")
        async with SqliteDatabase.connect(path) as db:
            repo = JobRepository(db)
            posts = ChannelPostRepository(db)
            inline = InlineShareHandlers(repo=repo)
            await posts.derive()  # the first look after the upgrade reads everything, once
            assert await AutopostLinkRepository(db).get(HEAVY_USER) is not None
            figures = {
                "/healthz count_due_polls": await _median_ms(repo.count_due_polls),
                "/healthz count_due_deliveries": await _median_ms(repo.count_due_deliveries),
                "channel poster look (derive)": await _median_ms(posts.derive),
                "inline query, no words": await _median_ms(
                    lambda: inline.videos_for(HEAVY_USER, "")
                ),
                "inline query, words matching nothing": await _median_ms(
                    lambda: inline.videos_for(HEAVY_USER, "night drive")
                ),
            }
            before = {
                "/healthz count_due_polls": await _median_ms(
                    lambda: db.fetch_all(
                        "SELECT COUNT(*) FROM jobs NOT INDEXED WHERE next_poll_at IS NOT NULL"
                    ),
                    runs=10,
                ),
                "channel poster look (derive)": await _median_ms(
                    lambda: db.execute(OLD_DERIVE, (now, now, now)), runs=10
                ),
                "inline query, no words": await _median_ms(
                    lambda: repo._all(  # the old query, for comparison only
                        "SELECT * FROM jobs WHERE user_id = ? AND state = 'delivered'"
                        " AND file_id IS NOT NULL ORDER BY id DESC LIMIT 1000",
                        (HEAVY_USER,),
                    ),
                    runs=10,
                ),
            }
    for name, ms in figures.items():
        was = f"; was {before[name]:.1f} ms" if name in before else ""
        print(f"{name} at {jobs:,} jobs: {ms:.2f} ms median{was} (goal: ≤ 2 ms)")


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(int(args[0]) if args else 100_000))
