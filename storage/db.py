"""The one SQLite connection: PRAGMAs, serialised statements, transactions, migrations on open.

Must not import Telegram, httpx or anything from `bot` (storage knows nothing above it), nor
the PostgreSQL adapter. Implements `storage.interface.Database` with `SQLITE` as its engine.
Also owns the test-only fault switch (`FAULT_FILE_ENV`, docs/architecture.md §7.4).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final, Self

import aiosqlite

from storage.interface import ClosedOnExit, Engine, Params, Row
from storage.migrations import migrate

SQLITE: Final = Engine(
    name="sqlite",
    skip_locked="",
    errors=(sqlite3.Error, ValueError),
    # "database is locked" past busy_timeout, "disk I/O error", a full disk.
    transient_errors=(sqlite3.OperationalError,),
)

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)

# Test-only, never a setting: the path of a file whose presence makes every statement (BEGIN
# and COMMIT included, ROLLBACK never) fail with "disk I/O error", so a test can switch
# database faults on and off in a running `python -m bot` (docs/architecture.md §7.4).
FAULT_FILE_ENV: Final = "MUSICVIDEO_BOT_TEST_DB_FAULT_FILE"


class SqliteDatabase(ClosedOnExit):
    """Owns one aiosqlite connection in autocommit mode.

    Every statement and every transaction runs under one `asyncio.Lock`, so a statement from
    one coroutine can never land inside another coroutine's open transaction on this shared
    connection (it would be committed or rolled back with it). The task that holds a
    transaction may run statements inside it; it must not hand them to other tasks (they
    would wait for the lock the transaction holds). Other processes are kept apart by
    SQLite's own locking (`BEGIN IMMEDIATE`, `busy_timeout`).
    """

    def __init__(
        self, conn: aiosqlite.Connection, path: Path, fault_file: Path | None = None
    ) -> None:
        self._conn: aiosqlite.Connection | None = conn
        self.path = path
        self._fault_file = fault_file
        self._lock = asyncio.Lock()
        self._tx_owner: asyncio.Task[Any] | None = None

    @classmethod
    async def open(cls, path: str | Path) -> Self:
        """Open (creating if need be) the database file, set PRAGMAs and apply migrations."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            for pragma in _PRAGMAS:
                await conn.execute_fetchall(pragma)
            # Unicode-aware case folding for searches (SQLite's lower() knows only ASCII).
            await conn.create_function("py_casefold", 1, _casefold, deterministic=True)
            fault_file = os.environ.get(FAULT_FILE_ENV)
            db = cls(conn, path, Path(fault_file) if fault_file else None)
            await migrate(db)
        except BaseException:
            await conn.close()
            raise
        return db

    @classmethod
    @asynccontextmanager
    async def connect(cls, path: str | Path) -> AsyncIterator[Self]:
        """Open the database for the duration of an `async with` block."""
        db = await cls.open(path)
        try:
            yield db
        finally:
            await db.close()

    async def close(self) -> None:
        """Close the connection; a second call does nothing."""
        conn, self._conn = self._conn, None
        if conn is not None:
            async with self._lock:
                await conn.close()

    @property
    def engine(self) -> Engine:
        """SQLite's differences (`storage.interface.Engine`)."""
        return SQLITE

    @property
    def closed(self) -> bool:
        """True once `close` has been called."""
        return self._conn is None

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        async with self._serialised() as conn:
            self._inject_fault()
            async with conn.execute(sql, params) as cursor:
                return cursor.rowcount

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a query (or a statement with RETURNING) and return all its rows."""
        async with self._serialised() as conn:
            self._inject_fault()
            return list(await conn.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """Run a query and return its first row, or None."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            row = await self.fetch_one("SELECT 1")
        except (sqlite3.Error, ValueError):  # ValueError: aiosqlite's "connection closed"
            return False
        return row is not None and row[0] == 1

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK when the block raises."""
        task = asyncio.current_task()
        if task is not None and task is self._tx_owner:
            raise RuntimeError("transactions do not nest")
        async with self._lock:
            conn = self._require_conn()
            await self._begin(conn)
            self._tx_owner = task
            try:
                yield
                self._inject_fault()
                await conn.commit()
            except BaseException:
                # A no-op when SQLite has already ended the transaction. Waited for even when
                # cancelled again, so the lock is never free while a transaction is open.
                await _despite_cancel(conn.rollback())
                raise
            finally:
                self._tx_owner = None

    async def _begin(self, conn: aiosqlite.Connection) -> None:
        """BEGIN IMMEDIATE that a cancelled caller never leaves open behind it."""
        self._inject_fault()
        try:
            await conn.execute_fetchall("BEGIN IMMEDIATE")
        except asyncio.CancelledError:
            # aiosqlite runs a queued statement even when its caller was cancelled, so the
            # BEGIN may still open a transaction nobody owns. Statements run in order: a
            # ROLLBACK queued now runs after it and ends what it opened (or does nothing).
            await _despite_cancel(conn.rollback())
            raise

    def _inject_fault(self) -> None:
        """Fail like a broken disk while the test-only fault file exists (one stat when set)."""
        if self._fault_file is not None and self._fault_file.exists():
            raise sqlite3.OperationalError("disk I/O error")

    @asynccontextmanager
    async def _serialised(self) -> AsyncIterator[aiosqlite.Connection]:
        task = asyncio.current_task()
        if task is not None and task is self._tx_owner:
            yield self._require_conn()  # already holds the lock: part of its own transaction
            return
        async with self._lock:
            yield self._require_conn()

    def _require_conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise ValueError("the database is closed")
        return self._conn


async def _despite_cancel(step: Awaitable[None]) -> None:
    """Run `step` to its end even if the caller is cancelled meanwhile; a cancel that came
    while waiting is raised once the step is done."""
    task = asyncio.ensure_future(step)
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            cancelled = True  # raised below, after the step: never swallowed
    if cancelled:
        raise asyncio.CancelledError
    task.result()


def _casefold(value: object) -> str | None:
    """SQL `py_casefold(x)`: `str.casefold`, NULL stays NULL."""
    return None if value is None else str(value).casefold()
