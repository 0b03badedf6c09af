"""`track_separations` (docs/architecture.md §9.7): the row is the lock of the one separation
request per track, and a separation the bot asked for counts against the sender's quota."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.engine.admission import AccessPolicy, Admission, QuotaExceeded
from storage.interface import Database
from storage.jobs import KIND_RENDER, JobRepository
from storage.separations import FAILED, REQUESTED, SUCCEEDED, SeparationRepository
from tests.storage.factories import FakeClock, new_job

KEY = ("kie", "music-1", "audio-1")
_HOUR = timedelta(hours=1)


async def test_one_claim_wins_among_many(db: Database, clock: FakeClock) -> None:
    repo = SeparationRepository(db, clock)
    won = await asyncio.gather(
        *(repo.claim(*KEY, replacing=None, user_id=7, chat_id=7) for _ in range(5))
    )
    claimed = [row for row in won if row is not None]
    assert len(claimed) == 1
    assert claimed[0].state == REQUESTED
    assert claimed[0].separation_task_id is None


async def test_sent_then_succeeded_keeps_the_instrumental(db: Database, clock: FakeClock) -> None:
    repo = SeparationRepository(db, clock)
    claimed = await repo.claim(*KEY, replacing=None, user_id=7, chat_id=7)
    assert claimed is not None
    assert await repo.record_sent(claimed, "sep-1")
    clock.advance(30)
    assert await repo.succeed(claimed, "https://cdn/instrumental.mp3")
    row = await repo.get(*KEY)
    assert row is not None
    assert (row.state, row.separation_task_id) == (SUCCEEDED, "sep-1")
    assert row.instrumental_url == "https://cdn/instrumental.mp3"
    assert row.completed_at is not None
    assert row.completed_at > row.requested_at
    assert not await repo.fail(claimed, "karaoke_failed", "too late")  # finished once


async def test_a_spent_row_is_replaced_by_exactly_one_new_claim(
    db: Database, clock: FakeClock
) -> None:
    repo = SeparationRepository(db, clock)
    claimed = await repo.claim(*KEY, replacing=None, user_id=7, chat_id=7)
    assert claimed is not None
    assert await repo.fail(claimed, "karaoke_failed", "GENERATE_AUDIO_FAILED")
    failed = await repo.get(*KEY)
    assert failed is not None
    assert failed.state == FAILED
    clock.advance(60)
    again = await asyncio.gather(
        *(repo.claim(*KEY, replacing=failed, user_id=8, chat_id=8) for _ in range(3))
    )
    fresh = [row for row in again if row is not None]
    assert len(fresh) == 1
    assert (fresh[0].state, fresh[0].error, fresh[0].user_id) == (REQUESTED, None, 8)
    assert fresh[0].error_kind is None


async def test_a_released_claim_leaves_no_row(db: Database, clock: FakeClock) -> None:
    repo = SeparationRepository(db, clock)
    claimed = await repo.claim(*KEY, replacing=None, user_id=7, chat_id=7)
    assert claimed is not None
    await repo.release(claimed)
    assert await repo.get(*KEY) is None


async def test_a_separation_counts_against_the_quota(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    separations = SeparationRepository(db, clock)
    admission = Admission(repo, AccessPolicy(), 2, clock)
    await repo.create(new_job(chat_id=7, user_id=7, kind=KIND_RENDER, video_format="9:16"))
    assert await repo.count_created_by_user_since(7, clock() - _HOUR) == 1
    clock.advance(60)
    await separations.claim(*KEY, replacing=None, user_id=7, chat_id=7)
    assert await repo.count_created_by_user_since(7, clock() - _HOUR) == 2
    verdict = await admission.check(user_id=7, chat_id=7, task_id="music-2", audio_id="a-2")
    assert isinstance(verdict, QuotaExceeded)
    # Anonymous senders share their chat's count, separations included.
    await separations.claim("kie", "music-3", "audio-3", replacing=None, user_id=None, chat_id=-5)
    assert await repo.count_created_anonymously_since(-5, clock() - _HOUR) == 1
    assert await repo.oldest_created_anonymously_since(-5, clock() - _HOUR) == clock()
