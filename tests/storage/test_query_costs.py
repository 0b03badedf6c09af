"""Queries that run often read an index of the rows they need, never the whole history:
the /healthz counts, the channel poster's derive step and inline sharing (the timings are
printed by `python3 dev.py bench`, section "history")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import JobState
from storage.autopost_links import AutopostLinkRepository
from storage.channel_posts import SQL_DERIVE, ChannelPostRepository
from storage.interface import Database, Params
from storage.jobs import (
    SHARE_SEARCH_DEPTH,
    SQL_COUNT_DUE_DELIVERIES,
    SQL_COUNT_DUE_POLLS,
    SQL_DELIVERED_VIDEO,
    SQL_NEWEST_DELIVERED,
    JobRepository,
)
from tests.storage.factories import FakeClock, new_job

CHAT = -100123
CHANNEL = -100999
USER = 42


async def plan(db: Database, sql: str, params: Params) -> str:
    """SQLite's plan for `sql`, one step per `|`."""
    rows = await db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params)
    return " | ".join(row["detail"] for row in rows)


def assert_no_full_scan(steps: str, table: str) -> None:
    """Every step over `table` searches an index (a scan of a partial covering index of the
    planned rows only is fine)."""
    for step in steps.split(" | "):
        if step.startswith(f"SCAN {table}"):
            assert "USING COVERING INDEX" in step, steps


async def deliver(
    repo: JobRepository, clock: FakeClock, *, title: str, chat_id: int = CHAT, file_id: str = ""
) -> int:
    job = await repo.create(new_job(chat_id=chat_id, user_id=USER, title=title))
    await repo.transition(
        job.id,
        expected=JobState.SUBMITTING,
        to=JobState.DELIVERED,
        file_id=file_id or f"file-{job.id}",
        delivered_at=clock(),
        next_poll_at=None,
    )
    return job.id


@pytest.mark.sqlite_only(reason="reads SQLite's query plan")
async def test_healthz_counts_read_only_the_planned_rows(db: Database) -> None:
    for sql in (SQL_COUNT_DUE_POLLS, SQL_COUNT_DUE_DELIVERIES):
        steps = await plan(db, sql, ())
        assert "USING COVERING INDEX" in steps, steps
        assert_no_full_scan(steps, "jobs")


async def test_healthz_counts_count_planned_polls_and_deliveries(
    repo: JobRepository, clock: FakeClock
) -> None:
    planned = await repo.create(new_job())  # next_poll_at set
    await repo.create(new_job(next_poll_at=None))
    await deliver(repo, clock, title="done")
    await repo.transition(planned.id, expected=JobState.SUBMITTING, next_delivery_at=clock())
    assert await repo.count_due_polls() == 1
    assert await repo.count_due_deliveries() == 1


@pytest.mark.sqlite_only(reason="reads SQLite's query plan")
async def test_derive_reads_only_videos_delivered_since_the_last_look(db: Database) -> None:
    steps = await plan(db, SQL_DERIVE, (0.0, 0.0, 0.0, "key", 300.0))
    assert "SEARCH j USING INDEX jobs_delivered_at (delivered_at>?)" in steps, steps
    assert_no_full_scan(steps, "j")
    assert_no_full_scan(steps, "l")


async def test_derive_still_finds_a_delivery_stamped_before_the_last_look(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    links, posts = AutopostLinkRepository(db, clock), ChannelPostRepository(db, clock)
    await links.link(CHAT, CHANNEL, title="@c", by=1, language="en")
    clock.advance(100)
    first = await deliver(repo, clock, title="one")
    assert await posts.derive() == 1
    clock.advance(60)
    assert await posts.derive() == 0
    # Stamped 10 s before the look just made, written after it (it waited for the lock).
    late = await deliver(repo, FakeClock(clock() - timedelta(seconds=10)), title="late")
    clock.advance(60)
    assert await ChannelPostRepository(db, clock).derive() == 1  # a new process finds it too
    assert sorted(p.job_id for p in await posts.due(clock(), 50)) == [first, late]


@pytest.mark.sqlite_only(reason="reads SQLite's query plan")
async def test_inline_search_reads_the_users_newest_videos_through_an_index(
    db: Database,
) -> None:
    steps = await plan(db, SQL_NEWEST_DELIVERED, (USER, SHARE_SEARCH_DEPTH))
    assert "SEARCH jobs USING INDEX jobs_user_delivered (user_id=?)" in steps, steps
    assert_no_full_scan(steps, "jobs")
    steps = await plan(db, SQL_DELIVERED_VIDEO, (1, USER))
    assert "USING INTEGER PRIMARY KEY" in steps, steps


async def test_inline_search_is_bounded_and_matches_words_case_insensitively(
    repo: JobRepository, clock: FakeClock
) -> None:
    oldest = await deliver(repo, clock, title="Straße der Nacht")
    for n in range(SHARE_SEARCH_DEPTH):
        await deliver(repo, clock, title=f"Song {n}")
    await deliver(repo, clock, title="ÄRGER im Paradies")
    newest = await repo.delivered_videos(USER, limit=50)
    assert len(newest) == 50
    assert [v.title for v in newest[:2]] == ["ÄRGER im Paradies", f"Song {SHARE_SEARCH_DEPTH - 1}"]
    assert [v.title for v in await repo.delivered_videos(USER, ["song", "2"], limit=3)] == [
        f"Song {n}" for n in (299, 298, 297)
    ]
    assert [v.title for v in await repo.delivered_videos(USER, ["ärger"], limit=50)] == [
        "ÄRGER im Paradies"
    ]
    # Only the newest SHARE_SEARCH_DEPTH videos are searched; the oldest is still shared by id.
    titles = [v.title for v in await repo.delivered_videos(USER, limit=SHARE_SEARCH_DEPTH + 9)]
    assert len(titles) == SHARE_SEARCH_DEPTH
    assert ("Song 1" in titles, "Song 0" in titles) == (True, False)
    assert await repo.delivered_videos(USER, ["strasse"], limit=50) == []
    video = await repo.delivered_video(oldest, user_id=USER)
    assert video is not None
    assert video.title == "Straße der Nacht"
    assert await repo.delivered_video(oldest, user_id=USER + 1) is None


async def test_inline_search_folds_case_beyond_ascii(repo: JobRepository, clock: FakeClock) -> None:
    await deliver(repo, clock, title="Straße der Nacht")
    [found] = await repo.delivered_videos(USER, ["strasse", "NACHT".casefold()], limit=50)
    assert found.title == "Straße der Nacht"
