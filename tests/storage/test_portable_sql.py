"""The repositories' SQL is the SQL both SQLite and PostgreSQL accept (docs/architecture.md
§7.5): no SQLite-only construct in their text, and the rewritten statements still mean on
SQLite what they meant before."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.domain import JobState
from storage.autopost_links import AutopostLinkRepository
from storage.chats import ChatSettingsRepository
from storage.inbox import INBOX_LOCK_KEY, InboxItem, UpdateInbox
from storage.interface import Database
from storage.jobs import Job, JobRepository, same_as
from storage.meta import MetaRepository
from tests.storage.factories import FakeClock, new_job

STORAGE = Path(__file__).resolve().parents[2] / "storage"
# The connection and the schema are each database's own (the adapters and their migrations).
NOT_REPOSITORIES = frozenset(
    {
        "db.py",
        "migrations.py",
        "__init__.py",
        "interface.py",
        "backends.py",
        "postgres_db.py",
        "postgres_migrations.py",
    }
)

# What PostgreSQL 15 refuses or reads differently; SQL keywords are upper case in storage/.
SQLITE_ONLY: dict[str, re.Pattern[str]] = {
    "INSERT/UPDATE OR ...": re.compile(r"\b(INSERT|UPDATE)\s+OR\s+[A-Z]"),
    "REPLACE INTO": re.compile(r"\bREPLACE\s+INTO\b"),
    "IS <value> (only IS [NOT] NULL)": re.compile(r"\bIS\s+(?!NULL\b|NOT\s+NULL\b)\S"),
    "CAST AS REAL (a 4-byte float on PostgreSQL)": re.compile(r"\bAS\s+REAL\b"),
    "a function SQLite alone knows": re.compile(
        r"\b(py_casefold|instr|ifnull|json_\w+|strftime|julianday|datetime|date|printf|glob"
        r"|last_insert_rowid|changes|total_changes|group_concat)\s*\(",
        re.IGNORECASE,
    ),
    "rowid": re.compile(r"\b(rowid|_rowid_|oid)\b", re.IGNORECASE),
    "LIMIT -1": re.compile(r"\bLIMIT\s+-"),
    "PRAGMA": re.compile(r"\bPRAGMA\b"),
    "BEGIN IMMEDIATE/EXCLUSIVE": re.compile(r"\bBEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\b"),
    "a LIKE (case-insensitive on SQLite only)": re.compile(r"\bLIKE\b"),
}


def _string_parts(source: str) -> list[str]:
    """Every string literal (and literal part of an f-string) but docstrings."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_the_repositories_use_no_sql_that_only_sqlite_accepts() -> None:
    modules = sorted(p for p in STORAGE.glob("*.py") if p.name not in NOT_REPOSITORIES)
    assert len(modules) >= 8, modules
    found = [
        f"{path.name}: {what}: {part!r}"
        for path in modules
        for part in _string_parts(path.read_text(encoding="utf-8"))
        for what, pattern in SQLITE_ONLY.items()
        if pattern.search(part)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("value", "expected"), [(None, ("author IS NULL", ())), ("Ann", ("author = ?", ("Ann",)))]
)
def test_a_null_safe_comparison_is_is_null_or_equals(
    value: str | None, expected: tuple[str, tuple[object, ...]]
) -> None:
    assert same_as("author", value) == expected


async def _delivered_render(repo: JobRepository, **look: object) -> Job:
    job = await repo.create(new_job(kind="render", next_poll_at=None, **look))
    await repo.transition(
        job.id, expected=JobState.SUBMITTING, to=JobState.DELIVERED, file_id=f"file-{job.id}"
    )
    found = await repo.get(job.id)
    assert found is not None
    return found


async def test_a_render_without_author_or_watermark_is_found_again_only_by_the_same_look(
    repo: JobRepository,
) -> None:
    bare = await _delivered_render(repo, author=None, domain_name=None, video_format="9:16")
    await _delivered_render(repo, author="Ann", domain_name=None, video_format="9:16")
    again = await repo.create(
        new_job(kind="render", author=None, domain_name=None, video_format="9:16")
    )
    found = await repo.find_rendered(again)
    assert found is not None
    assert found.id == bare.id
    signed = await repo.create(
        new_job(kind="render", author="Bob", domain_name=None, video_format="9:16")
    )
    assert await repo.find_rendered(signed) is None
    unshaped = await repo.create(
        new_job(kind="render", author=None, domain_name=None, video_format=None)
    )
    assert await repo.find_rendered(unshaped) is None


async def test_an_active_job_is_found_by_its_format_none_meaning_the_providers_video(
    repo: JobRepository,
) -> None:
    provider = await repo.create(new_job(chat_id=5, task_id="t", audio_id="a"))
    render = await repo.create(
        new_job(chat_id=5, task_id="t", audio_id="a", kind="render", video_format="1:1")
    )
    found = await repo.find_active_for_chat_track(5, "t", "a")
    assert found is not None
    assert found.id == provider.id
    found = await repo.find_active_for_chat_track(5, "t", "a", "1:1")
    assert found is not None
    assert found.id == render.id
    assert await repo.find_active_for_chat_track(5, "t", "a", "16:9") is None


async def test_moving_a_chat_keeps_the_new_chats_own_settings_and_moves_the_rest(
    db: Database, clock: FakeClock
) -> None:
    settings, links = ChatSettingsRepository(db, clock), AutopostLinkRepository(db, clock)
    await settings.set_author(-1, "Old")
    await settings.set_author(-1009, "New")
    await links.link(-1, -100500, title="@c", by=7, language="en")
    await settings.move_chat(-1, -1009)
    assert (await settings.get(-1009)).author == "New"  # the new chat's own row is kept
    assert (await settings.get(-1)).author == "Old"  # and the old one stays behind
    moved = await links.get(-1009)
    assert moved is not None
    assert moved.channel_id == -100500
    assert await links.get(-1) is None


async def test_linking_the_same_channel_again_keeps_the_link_time_and_another_resets_it(
    db: Database, clock: FakeClock
) -> None:
    links = AutopostLinkRepository(db, clock)
    first = await links.link(-1, -100500, title="@c", by=7, language="en")
    clock.advance(60)
    again = await links.link(-1, -100500, title="@c", by=8, language="en")
    assert again.linked_at == first.linked_at
    assert again.linked_by == 8
    clock.advance(60)
    other = await links.link(-1, -100600, title="@d", by=8, language="en")
    assert other.linked_at == clock()
    assert await links.unlink(-1)
    clock.advance(60)
    relinked = await links.link(-1, -100600, title="@d", by=8, language="en")
    assert relinked.linked_at == clock()


async def test_inbox_writes_take_the_lock_row_and_it_is_nobody_elses_meta(
    db: Database,
) -> None:
    inbox = UpdateInbox(db)
    await inbox.add([InboxItem(1, "{}", 7), InboxItem(2, "{}", 7), InboxItem(3, "{}", None)])
    assert [i.update_id for i in await inbox.pending()] == [1, 3]
    await inbox.mark_handled(1)
    assert [i.update_id for i in await inbox.pending()] == [2, 3]
    assert await MetaRepository(db).get(INBOX_LOCK_KEY) == ""


async def test_a_search_with_no_room_returns_nothing(repo: JobRepository) -> None:
    assert await repo.delivered_videos(42, ["a"], limit=0) == []
    assert await repo.delivered_videos(42, limit=-1) == []
