"""The inbox's lanes: one head per chat is listed, in order; a busy chat costs one row per scan;
the migration gives updates pending across the upgrade the lane the intake computes."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from bot.telegram_io.update_intake import inbox_item, update_lane
from storage.db import SqliteDatabase
from storage.inbox import InboxItem, UpdateInbox
from storage.interface import Database
from storage.migrations import MIGRATIONS

GROUP, USER, OTHER = -100_555, 4242, 77


def message(update_id: int, chat_id: Any, user_id: Any = USER) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat_id, "type": "supergroup"},
            "from": {"id": user_id, "is_bot": False, "first_name": "A"},
            "text": "/help",
        },
    }


def item(data: dict[str, Any]) -> InboxItem:
    found = inbox_item(data)
    assert found is not None
    return found


async def heads(inbox: UpdateInbox) -> list[int]:
    return [found.update_id for found in await inbox.pending(limit=100)]


async def test_only_the_oldest_update_of_each_chat_is_listed_until_it_is_handled(
    db: Database,
) -> None:
    inbox = UpdateInbox(db)
    poll = {"update_id": 6, "poll": {"id": "p", "question": "?", "options": []}}
    updates = [message(1, GROUP), message(2, GROUP), message(3, USER), message(4, GROUP), poll]
    await inbox.add([item(data) for data in updates])
    assert await heads(inbox) == [1, 3, 6]  # a poll names no chat: it has no lane
    await inbox.mark_handled(1)
    assert await heads(inbox) == [2, 3, 6]
    await inbox.mark_handled(3)
    await inbox.add([item(message(5, USER))])  # the user's chat is free: 5 is its head at once
    assert await heads(inbox) == [2, 5, 6]


async def test_a_released_update_stays_pending_and_its_chat_goes_on(db: Database) -> None:
    inbox = UpdateInbox(db)
    await inbox.add([item(message(n, GROUP)) for n in (1, 2, 3)])
    await inbox.release_lane(1)  # its handler started a task that still runs
    assert await heads(inbox) == [2]
    assert await inbox.count_pending() == 3
    await inbox.mark_handled(2)
    assert await heads(inbox) == [3]
    # After a restart the released update is handled again (the previous run never ended it).
    assert await inbox.restore_released() == 1
    assert await heads(inbox) == [1, 3]
    await inbox.mark_handled(1)
    assert await heads(inbox) == [3]


@pytest.mark.sqlite_only(reason="reads SQLite's query plan; repository SQL not portable yet")
async def test_ten_thousand_waiting_updates_in_one_chat_keep_a_scan_fast(
    db: Database,
) -> None:
    inbox = UpdateInbox(db)
    await inbox.add([item(message(n, GROUP)) for n in range(1, 10_001)])
    await inbox.add([item(message(20_000, OTHER, OTHER))])
    started = time.perf_counter()
    for _ in range(100):
        assert await heads(inbox) == [1, 20_000]
    per_scan = (time.perf_counter() - started) / 100
    print(f"scan with 10,000 pending in one chat: {per_scan * 1000:.2f} ms")  # noqa: T201 - the figure
    plan = await db.fetch_all(
        "EXPLAIN QUERY PLAN SELECT update_id, body, lane FROM update_inbox"
        " WHERE handled_at IS NULL AND lane_head = 1 ORDER BY update_id LIMIT 100"
    )
    assert "update_inbox_heads" in " ".join(str(row[3]) for row in plan)
    assert per_scan < 0.02  # generous: a loaded machine; it reads two rows


def test_lane_is_the_chat_else_the_user() -> None:
    callback = {
        "update_id": 1,
        "callback_query": {"id": "q", "from": {"id": USER}, "message": {"chat": {"id": GROUP}}},
    }
    inline = {"update_id": 2, "inline_query": {"id": "q", "from": {"id": USER}, "query": ""}}
    assert update_lane(message(1, GROUP)) == GROUP
    assert update_lane(callback) == GROUP
    assert update_lane(inline) == USER
    assert update_lane(message(1, "x")) == USER  # a malformed chat id: the sender's lane
    assert update_lane(message(1, True, [1])) is None
    assert update_lane({"update_id": 1, "message": "text"}) is None


async def test_updates_pending_across_the_upgrade_get_their_lanes(db_path: Path) -> None:
    bodies = [
        message(1, GROUP),
        message(2, GROUP),
        message(3, "x"),
        message(4, True, [1]),
        {"update_id": 5, "callback_query": {"from": {"id": USER}, "message": {"chat": {"id": 9}}}},
        {"update_id": 6, "inline_query": {"id": "q", "from": {"id": OTHER}, "query": ""}},
        {"update_id": 7, "poll_answer": {"poll_id": "p", "user": {"id": USER}}},
        {"update_id": 8, "message": "text"},
    ]
    # The database as it was just before the migration that added the lanes.
    before = next(
        n
        for n, statements in enumerate(MIGRATIONS)
        if any(" lane INTEGER" in s for s in statements)
    )
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        for statements in MIGRATIONS[:before]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {before}")
        for body in bodies:
            conn.execute(
                "INSERT INTO update_inbox (update_id, body, received_at) VALUES (?, ?, 0)",
                (body["update_id"], json.dumps(body)),
            )
    conn.close()
    async with SqliteDatabase.connect(db_path) as db:
        rows = await db.fetch_all("SELECT update_id, lane FROM update_inbox ORDER BY update_id")
        assert [row[1] for row in rows] == [update_lane(body) for body in bodies]
        assert await heads(UpdateInbox(db)) == [1, 3, 4, 5, 6, 8]
