"""SQLite and PostgreSQL migrated to the latest version have the same tables, columns (in order,
with the same nullability, defaults and type family), keys and indexes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.db import SqliteDatabase
from storage.interface import Database
from storage.migrations import SCHEMA_VERSION
from storage.postgres_db import PostgresDatabase
from storage.postgres_migrations import POSTGRES_SCHEMA_VERSION
from tests.postgres_server import throwaway_database

# SQLite's declared type → the PostgreSQL types that hold the same values.
TYPE_FAMILIES = {
    "INTEGER": {"bigint", "integer"},
    "REAL": {"double precision"},
    "TEXT": {"text"},
}
# 32-bit integers on PostgreSQL: attempt counters, 0/1 flags and the one-row table's key.
SMALL_INTEGERS = {
    "jobs.submit_attempts",
    "jobs.poll_attempts",
    "jobs.delivery_attempts",
    "jobs.lyrics",
    "jobs.teaser",
    "jobs.karaoke",
    "jobs.render_fence",
    "channel_posts.attempts",
    "chat_settings.lyrics",
    "autopost_links.live",
    "track_picks.lyrics",
    "track_analysis.version",
    "update_inbox.lane_head",
    "intake_state.id",
}
# Ours, not the application's: where PostgreSQL keeps what SQLite keeps in PRAGMA user_version.
# `leader_terms`: the leader election's fencing numbers; with SQLite one process runs and
# nothing is elected (docs/architecture.md §5.4).
POSTGRES_ONLY_TABLES = {"schema_version", "leader_terms"}
# The task engine's tables, indexes and keys (procrastinate's schema, applied by our migration
# 11): render dispatch exists only with PostgreSQL, so SQLite has no twin of them.
ENGINE_PREFIX = "procrastinate_"


def _ours(name: str) -> bool:
    return name not in POSTGRES_ONLY_TABLES and not name.startswith(ENGINE_PREFIX)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None


@dataclass(frozen=True)
class Index:
    unique: bool
    columns: tuple[str, ...]  # with " DESC" where descending
    where: str | None  # normalised predicate of a partial index


def _predicate(text: str | None) -> str | None:
    """A partial index's WHERE clause in one spelling: no parentheses, casts or case."""
    if text is None:
        return None
    text = re.sub(r"::[a-z ]+", "", text)
    text = text.replace("(", "").replace(")", "")
    return " ".join(text.split()).lower()


def _default(text: str | None) -> str | None:
    return None if text is None else re.sub(r"::[a-z ]+$", "", text)


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Database]:
    async with SqliteDatabase.connect(tmp_path / "bot.sqlite3") as db:
        yield db


@pytest.fixture
async def postgres() -> AsyncIterator[Database]:
    with throwaway_database() as url:
        async with PostgresDatabase.connect(url) as db:
            yield db


async def _sqlite_tables(db: Database) -> dict[str, list[Column]]:
    names = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    tables = {}
    for (name,) in names:
        rows = await db.fetch_all(f"PRAGMA table_info({name})")
        tables[name] = [
            Column(r["name"], r["type"], bool(r["notnull"] or r["pk"]), _default(r["dflt_value"]))
            for r in rows
        ]
    return tables


async def _postgres_tables(db: Database) -> dict[str, list[Column]]:
    rows = await db.fetch_all(
        "SELECT table_name, column_name, data_type, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_schema = current_schema()"
        " ORDER BY table_name, ordinal_position"
    )
    tables: dict[str, list[Column]] = {}
    for table, name, data_type, nullable, default in rows:
        if not _ours(table):
            continue
        tables.setdefault(table, []).append(
            Column(name, data_type, nullable == "NO", _default(default))
        )
    return tables


async def _sqlite_indexes(db: Database) -> dict[str, Index]:
    indexes = {}
    for table in await _sqlite_tables(db):
        for entry in await db.fetch_all(f"PRAGMA index_list({table})"):
            if entry["origin"] != "c":  # keys and UNIQUE constraints: compared as keys
                continue
            name = entry["name"]
            parts = await db.fetch_all(f"PRAGMA index_xinfo({name})")
            columns = tuple(p["name"] + (" DESC" if p["desc"] else "") for p in parts if p["key"])
            sql = await db.fetch_one("SELECT sql FROM sqlite_master WHERE name = ?", (name,))
            assert sql is not None
            where = sql[0].split(" WHERE ", 1)[1] if " WHERE " in sql[0] else None
            indexes[name] = Index(bool(entry["unique"]), columns, _predicate(where))
    return indexes


async def _postgres_indexes(db: Database) -> dict[str, Index]:
    rows = await db.fetch_all(
        "SELECT i.relname, x.indisunique, pg_get_indexdef(x.indexrelid),"
        " pg_get_expr(x.indpred, x.indrelid), t.relname"
        " FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid"
        " JOIN pg_class AS t ON t.oid = x.indrelid"
        " JOIN pg_namespace AS n ON n.oid = i.relnamespace"
        " WHERE n.nspname = current_schema()"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = x.indexrelid)"
    )
    indexes = {}
    for name, unique, definition, where, table in rows:
        if not _ours(table):
            continue
        column_list = re.search(r"USING btree \((.*?)\)(?: WHERE|$)", definition)
        assert column_list is not None, definition
        columns = tuple(part.strip() for part in column_list.group(1).split(","))
        indexes[name] = Index(bool(unique), columns, _predicate(where))
    return indexes


async def _sqlite_keys(db: Database) -> set[tuple[str, str, tuple[str, ...]]]:
    keys = set()
    for table, columns in (await _sqlite_tables(db)).items():
        info = await db.fetch_all(f"PRAGMA table_info({table})")
        primary = tuple(r["name"] for r in sorted(info, key=lambda r: r["pk"]) if r["pk"])
        if primary:
            keys.add((table, "primary", primary))
        for entry in await db.fetch_all(f"PRAGMA index_list({table})"):
            if entry["origin"] == "u":
                parts = await db.fetch_all(f"PRAGMA index_info({entry['name']})")
                keys.add((table, "unique", tuple(p["name"] for p in parts)))
        assert columns
    return keys


async def _postgres_keys(db: Database) -> set[tuple[str, str, tuple[str, ...]]]:
    rows = await db.fetch_all(
        "SELECT t.relname, c.contype, array_agg(a.attname::text ORDER BY k.ord)"
        " FROM pg_constraint AS c JOIN pg_class AS t ON t.oid = c.conrelid"
        " JOIN pg_namespace AS n ON n.oid = t.relnamespace"
        " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)"
        " JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = k.attnum"
        " WHERE n.nspname = current_schema() AND c.contype IN ('p', 'u')"
        " GROUP BY t.relname, c.conname, c.contype"
    )
    kinds = {"p": "primary", "u": "unique"}
    return {(table, kinds[kind], tuple(columns)) for table, kind, columns in rows if _ours(table)}


def test_both_backends_have_a_migration_for_every_schema_version() -> None:
    assert POSTGRES_SCHEMA_VERSION == SCHEMA_VERSION


async def test_the_same_tables_and_columns_in_the_same_order(
    sqlite: Database, postgres: Database
) -> None:
    lite, pg = await _sqlite_tables(sqlite), await _postgres_tables(postgres)
    assert sorted(pg) == sorted(lite)
    for table, columns in lite.items():
        assert [c.name for c in pg[table]] == [c.name for c in columns], table
        for ours, theirs in zip(columns, pg[table], strict=True):
            where = f"{table}.{ours.name}"
            assert theirs.type in TYPE_FAMILIES[ours.type], (where, ours.type, theirs.type)
            assert theirs.not_null == ours.not_null, where
            if ours.default is not None:  # identity columns have no SQLite default
                assert theirs.default == ours.default, where


async def test_only_counters_and_flags_are_32_bit_on_postgres(postgres: Database) -> None:
    """Telegram ids (chats, users, messages, updates), row ids and offsets need 64 bits."""
    narrow = {
        f"{table}.{c.name}"
        for table, columns in (await _postgres_tables(postgres)).items()
        for c in columns
        if c.type == "integer"
    }
    assert narrow == SMALL_INTEGERS


async def test_the_same_keys_and_indexes(sqlite: Database, postgres: Database) -> None:
    assert await _postgres_keys(postgres) == await _sqlite_keys(sqlite)
    lite, pg = await _sqlite_indexes(sqlite), await _postgres_indexes(postgres)
    assert sorted(pg) == sorted(lite)
    for name, index in lite.items():
        assert pg[name] == index, name
