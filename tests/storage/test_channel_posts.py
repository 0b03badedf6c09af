"""channel_posts and autopost_links on a real SQLite file: derivation, pace, switching off."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain import JobState
from storage.autopost_links import AutopostLinkRepository
from storage.channel_posts import ChannelPostRepository, PostState
from storage.interface import Database
from storage.jobs import JobRepository
from tests.storage.factories import FakeClock, new_job

CHAT = -100123
CHANNEL = -100999


async def delivered(repo: JobRepository, clock: FakeClock, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        job = await repo.create(new_job(chat_id=CHAT))
        await repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            to=JobState.DELIVERED,
            file_id=f"file-{job.id}",
            delivered_at=clock(),
        )
        ids.append(job.id)
    return ids


async def test_rows_are_derived_once_for_videos_after_the_link(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    links, posts = AutopostLinkRepository(db, clock), ChannelPostRepository(db, clock)
    await delivered(repo, clock, 2)  # before the link: never posted
    clock.advance(1)
    await links.link(CHAT, CHANNEL, title="@c", by=1, language="en")
    clock.advance(1)
    after = await delivered(repo, clock, 3)
    assert await posts.derive() == 3
    assert await posts.derive() == 0
    assert sorted(p.job_id for p in await posts.due(clock(), 50)) == after


async def test_racing_claims_never_exceed_the_channel_window(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    links, posts = AutopostLinkRepository(db, clock), ChannelPostRepository(db, clock)
    await links.link(CHAT, CHANNEL, title="@c", by=1, language="en")
    clock.advance(1)
    await delivered(repo, clock, 30)
    await posts.derive()
    due = await posts.due(clock(), 50)
    now = clock()
    won = await asyncio.gather(
        *(
            posts.claim(
                p.id,
                now=now,
                lease_until=now + timedelta(minutes=3),
                window_start=now - timedelta(seconds=60),
                per_window=20,
            )
            for p in due
        )
    )
    assert sum(won) == 20


async def test_switching_off_wins_once_and_spares_a_newer_link(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    links, posts = AutopostLinkRepository(db, clock), ChannelPostRepository(db, clock)
    await links.link(CHAT, CHANNEL, title="@c", by=1, language="en")
    clock.advance(1)
    await delivered(repo, clock, 2)
    await posts.derive()
    first, second = await posts.due(clock(), 50)
    assert await links.switch_off_for_post(first.id)
    assert not await links.switch_off_for_post(second.id)
    clock.advance(1)
    await links.link(CHAT, CHANNEL, title="@c", by=1, language="en")  # linked again
    assert not await links.switch_off_for_post(first.id)  # an old post never turns it off
    link = await links.get(CHAT)
    assert link is not None
    assert link.active
    assert await posts.transition(first.id, to=PostState.FAILED)
    assert not await posts.transition(first.id, to=PostState.POSTED)
