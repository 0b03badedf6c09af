"""The leader's inbox writes are guarded by its term: once a newer term exists, a deposed
leader's late getUpdates batch (with its offset) and its "handled" marks write nothing
(docs/architecture.md §5.4, "Fencing numbers"). PostgreSQL only: with SQLite one process runs
and nothing is elected."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.inbox import InboxItem, UpdateInbox
from storage.interface import Database
from storage.postgres_db import PostgresDatabase
from storage.terms import LeaderTerm, StaleTerm
from tests.postgres_server import throwaway_database

# What the election runs to begin a term (bot/leadership.py NEXT_TERM_SQL).
NEXT_TERM = (
    "INSERT INTO leader_terms (name, term) VALUES ('bot', 1)"
    " ON CONFLICT (name) DO UPDATE SET term = leader_terms.term + 1 RETURNING term"
)


@pytest.fixture
async def postgres() -> AsyncIterator[Database]:
    with throwaway_database() as url:
        async with PostgresDatabase.connect(url) as db:
            yield db


async def _next_term(db: Database) -> LeaderTerm:
    row = await db.fetch_one(NEXT_TERM)
    assert row is not None
    return LeaderTerm("bot", int(row[0]))


def _item(update_id: int, chat: int = 7) -> InboxItem:
    return InboxItem(update_id, f'{{"update_id":{update_id}}}', chat)


async def test_a_deposed_leaders_batch_and_offset_are_not_stored(postgres: Database) -> None:
    old = UpdateInbox(postgres, term=await _next_term(postgres))
    assert await old.add([_item(1)], next_offset=2) == 1
    new = UpdateInbox(postgres, term=await _next_term(postgres))

    with pytest.raises(StaleTerm):
        await old.add([_item(2), _item(3)], next_offset=4)

    assert await new.next_offset() == 2
    assert [item.update_id for item in await new.pending()] == [1]
    assert await new.add([_item(2)], next_offset=3) == 1
    assert await new.next_offset() == 3


async def test_a_deposed_leaders_handled_marks_write_nothing(postgres: Database) -> None:
    webhook = UpdateInbox(postgres)  # any process stores webhook updates, unguarded
    assert await webhook.add([_item(1), _item(2)]) == 2
    old = UpdateInbox(postgres, term=await _next_term(postgres))
    await old.mark_handled(1)
    new = UpdateInbox(postgres, term=await _next_term(postgres))

    with pytest.raises(StaleTerm):
        await old.mark_handled(2)
    with pytest.raises(StaleTerm):
        await old.release_lane(2)
    with pytest.raises(StaleTerm):
        await old.restore_released()

    assert [item.update_id for item in await new.pending()] == [2]  # still its lane's head
    await new.mark_handled(2)
    assert await new.count_pending() == 0


async def test_without_any_term_row_a_guarded_write_is_refused(postgres: Database) -> None:
    never_elected = UpdateInbox(postgres, term=LeaderTerm("bot", 1))
    with pytest.raises(StaleTerm):
        await never_elected.add([_item(1)], next_offset=2)
    assert await UpdateInbox(postgres).count_pending() == 0
