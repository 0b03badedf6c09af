"""The fair due queries on a real SQLite file: chats take turns, at most `per_chat` rows each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import JobState
from storage import jobs as jobs_module
from storage.interface import Database
from storage.jobs import JobRepository
from tests.storage.factories import START, new_job

GROUP, OTHER_GROUP, PRIVATE = -100, -200, 7


async def due_delivery(repo: JobRepository, chat_id: int, seconds: float) -> int:
    job = await repo.create(new_job(chat_id=chat_id, next_poll_at=None))
    at = START + timedelta(seconds=seconds)
    await repo.transition(job.id, expected=job.state, next_delivery_at=at)
    return job.id


async def test_deliveries_take_turns_between_chats(repo: JobRepository) -> None:
    group = [await due_delivery(repo, GROUP, n) for n in range(30)]  # due first
    other = [await due_delivery(repo, OTHER_GROUP, 30 + n) for n in range(3)]
    private = await due_delivery(repo, PRIVATE, 40)
    now = START + timedelta(minutes=1)
    due = await repo.due_for_delivery(now, 50, per_chat=2)
    # Every chat's first row, then every chat's second; never more than two per chat.
    assert [j.id for j in due] == [group[0], other[0], private, group[1], other[1]]
    assert [j.id for j in await repo.due_for_delivery(now, 2, per_chat=2)] == [group[0], other[0]]
    # Without a share: earliest first, as before.
    assert [j.id for j in await repo.due_for_delivery(now, 3)] == group[:3]


async def test_renders_take_turns_between_chats(repo: JobRepository) -> None:
    ids = {}
    for chat_id, seconds in ((GROUP, 1), (GROUP, 2), (GROUP, 3), (PRIVATE, 4)):
        job = await repo.create(new_job(chat_id=chat_id, next_poll_at=None))
        await repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            kind="render",
            next_poll_at=START + timedelta(seconds=seconds),
        )
        ids.setdefault(chat_id, []).append(job.id)
    due = await repo.due_for_render(START + timedelta(seconds=10), 50, per_chat=1)
    assert [j.id for j in due] == [ids[GROUP][0], ids[PRIVATE][0]]


async def test_submissions_take_turns_between_chats(repo: JobRepository) -> None:
    group = [
        await repo.create(new_job(chat_id=GROUP, next_poll_at=START + timedelta(seconds=n)))
        for n in range(6)
    ]
    private = await repo.create(new_job(chat_id=PRIVATE, next_poll_at=START + timedelta(hours=1)))
    due = await repo.due_for_submit(START + timedelta(hours=2), 50, per_chat=4)
    assert [j.id for j in due] == [group[0].id, private.id, *(j.id for j in group[1:4])]


@pytest.mark.parametrize(
    "query", ["SQL_FAIR_DUE_FOR_SUBMIT", "SQL_FAIR_DUE_FOR_DELIVERY", "SQL_FAIR_DUE_FOR_RENDER"]
)
@pytest.mark.sqlite_only(reason="reads SQLite's query plan")
async def test_fair_due_queries_find_due_rows_through_the_partial_indexes(
    db: Database, repo: JobRepository, query: str
) -> None:
    for _ in range(20):
        await repo.create(new_job())
    sql: str = getattr(jobs_module, query)
    plan = " | ".join(
        row["detail"]
        for row in await db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", (START.timestamp(), 2, 50))
    )
    # Only the due rows are read (the partial index); ranking them sorts just those.
    assert "USING INDEX jobs_due_" in plan or "USING COVERING INDEX jobs_due_" in plan, plan
    assert "SCAN jobs" not in plan, plan
