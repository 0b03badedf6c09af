"""The PostgreSQL adapter: a psycopg 3 connection pool behind `storage.interface.Database`.

The only module that imports psycopg; imported only when DATABASE_URL is set (through
`storage.backends`). Must not import Telegram, httpx or anything from `bot`. Owns what differs
from SQLite (docs/architecture.md §14): `?` placeholders become `%s`, Python booleans are sent as
integers (the schema keeps SQLite's 0/1 columns), `FOR UPDATE SKIP LOCKED`, which errors mean
"try again later".
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final, Self, overload

import psycopg
import psycopg.errors
import psycopg_pool
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.rows import RowMaker

from storage.errors import DatabaseRefused
from storage.interface import ClosedOnExit, Engine, Params, Row
from storage.postgres_migrations import migrate_postgres

log = logging.getLogger(__name__)

POSTGRES: Final = Engine(
    name="postgresql",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    errors=(psycopg.Error, ValueError),
    # OperationalError: the server went away, a pool timeout, an admin shutdown;
    # the others: a concurrent transaction won, try the whole transaction again.
    transient_errors=(
        psycopg.OperationalError,
        psycopg.errors.SerializationFailure,
        psycopg.errors.DeadlockDetected,
        psycopg.errors.LockNotAvailable,
    ),
)

POOL_MIN_SIZE: Final = 1
POOL_MAX_SIZE: Final = 10
CONNECT_TIMEOUT_SECONDS: Final = 10.0


class PostgresRow(Sequence[Any]):
    """A result row like `sqlite3.Row`: `row[0]`, `row["name"]`, iteration, `keys()`."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: tuple[Any, ...]) -> None:
        self._index = index
        self._values = values

    @overload
    def __getitem__(self, key: int | str, /) -> Any: ...

    @overload
    def __getitem__(self, key: slice, /) -> tuple[Any, ...]: ...

    def __getitem__(self, key: int | str | slice, /) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._index)

    def __repr__(self) -> str:
        return f"PostgresRow({dict(zip(self._index, self._values, strict=True))!r})"


def _row_factory(cursor: psycopg.AsyncCursor[Any]) -> RowMaker[PostgresRow]:
    """psycopg row factory making `PostgresRow`s (first column of a name wins, as in SQLite)."""
    names = [column.name for column in cursor.description or ()]
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(name, position)

    def make(values: Sequence[Any]) -> PostgresRow:
        return PostgresRow(index, tuple(values))

    return make


class _BoolAsIntDumper(Dumper):
    """Sends a Python bool as the integer 0/1: the schema's flags are integers, as in SQLite."""

    format = Format.TEXT
    oid = psycopg.postgres.types["int4"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


@functools.lru_cache(maxsize=1024)
def convert_placeholders(sql: str) -> str:
    """`?` → `%s` outside string literals, quoted names and comments; `%` → `%%` everywhere
    (psycopg reads `%` as the start of a placeholder)."""
    out: list[str] = []
    quote: str | None = None  # the quote character of the literal or name we are inside
    in_comment = False
    i = 0
    while i < len(sql):
        char = sql[i]
        if char == "%":
            out.append("%%")
        elif in_comment:
            out.append(char)
            in_comment = char != "\n"
        elif quote is not None:
            out.append(char)
            if char == quote:  # a doubled quote re-enters at once: '' or ""
                quote = None
        elif char in "'\"":
            out.append(char)
            quote = char
        elif char == "-" and sql.startswith("--", i):
            out.append(char)
            in_comment = True
        elif char == "?":
            out.append("%s")
        else:
            out.append(char)
        i += 1
    return "".join(out)


class PostgresDatabase(ClosedOnExit):
    """A pool of autocommit psycopg connections; a transaction takes one for its duration.

    Statements outside a transaction each take a pooled connection and commit on their own.
    `transaction()` holds one connection in `BEGIN … COMMIT` (READ COMMITTED, PostgreSQL's
    default) for the task that opened it; that task's statements run on it, other tasks' do not.
    """

    def __init__(self, pool: psycopg_pool.AsyncConnectionPool[Any]) -> None:
        self._pool: psycopg_pool.AsyncConnectionPool[Any] | None = pool
        # The open transaction of the current context: its owner task and connection.
        self._tx: contextvars.ContextVar[
            tuple[asyncio.Task[Any] | None, psycopg.AsyncConnection[Any]] | None
        ] = contextvars.ContextVar(f"postgres_tx_{id(self)}", default=None)

    @classmethod
    async def open(
        cls, url: str, *, min_size: int = POOL_MIN_SIZE, max_size: int = POOL_MAX_SIZE
    ) -> Self:
        """Open the pool (waiting for a first connection) and apply migrations."""
        pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            kwargs={"autocommit": True},
            configure=_configure,
            check=psycopg_pool.AsyncConnectionPool.check_connection,
            timeout=CONNECT_TIMEOUT_SECONDS * 3,
            name="storage",
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
            db = cls(pool)
            await migrate_postgres(db)
        except BaseException:
            await pool.close()
            raise
        return db

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str) -> AsyncIterator[Self]:
        """Open the database for the duration of an `async with` block."""
        db = await cls.open(url)
        try:
            yield db
        finally:
            await db.close()

    async def close(self) -> None:
        """Close the pool; a second call does nothing."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @property
    def engine(self) -> Engine:
        """PostgreSQL's differences (`storage.interface.Engine`)."""
        return POSTGRES

    @property
    def closed(self) -> bool:
        """True once `close` has been called."""
        return self._pool is None

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        async with self._connection() as conn, conn.cursor() as cursor:
            await cursor.execute(convert_placeholders(sql), tuple(params))
            return cursor.rowcount

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a query (or a statement with RETURNING) and return all its rows."""
        async with self._connection() as conn, conn.cursor(row_factory=_row_factory) as cursor:
            await cursor.execute(convert_placeholders(sql), tuple(params))
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """Run a query and return its first row, or None."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            row = await self.fetch_one("SELECT 1")
        except (psycopg.Error, ValueError):  # ValueError: closed
            return False
        return row is not None and row[0] == 1

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN … COMMIT on one pooled connection, or ROLLBACK when the block raises."""
        task = asyncio.current_task()
        if self._owned_connection(task) is not None:
            raise RuntimeError("transactions do not nest")
        async with self._require_pool().connection() as conn, conn.transaction():
            token = self._tx.set((task, conn))
            try:
                yield
            finally:
                self._tx.reset(token)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """The current task's transaction connection, else a pooled one for one statement."""
        conn = self._owned_connection(asyncio.current_task())
        if conn is not None:
            yield conn
            return
        async with self._require_pool().connection() as pooled:
            yield pooled

    def _owned_connection(
        self, task: asyncio.Task[Any] | None
    ) -> psycopg.AsyncConnection[Any] | None:
        # A task started inside a transaction inherits the context variable, not the
        # transaction: only the owner's statements run in it (as with SQLite).
        current = self._tx.get()
        if current is None or current[0] is not task:
            return None
        return current[1]

    def _require_pool(self) -> psycopg_pool.AsyncConnectionPool[Any]:
        if self._pool is None:
            raise ValueError("the database is closed")
        return self._pool


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """Set up each new pooled connection: booleans as integers."""
    conn.adapters.register_dumper(bool, _BoolAsIntDumper)


FIRST_WAIT_SECONDS = 1.0
MAX_WAIT_SECONDS = 60.0
# What libpq says when the server answered but will not have us: the URL is wrong, waiting
# cannot help.
_REFUSALS: Final = (
    "password authentication failed",
    "does not exist",  # role or database
    "no pg_hba.conf entry",
    "permission denied",
)


async def wait_for_postgres(
    url: str,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    first_wait: float = FIRST_WAIT_SECONDS,
    max_wait: float = MAX_WAIT_SECONDS,
) -> None:
    """Return once PostgreSQL at `url` accepts a connection: while it is not up (refused,
    timeout, starting up, DNS), one WARNING line per attempt naming the server (never the
    password) and the cause, then a wait doubling from `first_wait` to `max_wait`. A server
    that refuses the login or the database raises DatabaseRefused."""
    where = _server_of(url)
    wait, attempt = first_wait, 1
    while True:
        try:
            conn = await psycopg.AsyncConnection.connect(
                url, connect_timeout=int(CONNECT_TIMEOUT_SECONDS)
            )
        except psycopg.OperationalError as exc:
            cause = _first_line(exc)
            if any(refusal in cause for refusal in _REFUSALS):
                raise DatabaseRefused(
                    f"PostgreSQL at {where} refused DATABASE_URL: {cause}"
                ) from None
        else:
            await conn.close()
            return
        log.warning(
            "PostgreSQL at %s not reachable (attempt %d: %s); retrying in %.0f s",
            where,
            attempt,
            cause,
            wait,
        )
        await sleep(wait)
        wait, attempt = min(max_wait, wait * 2), attempt + 1


def _server_of(url: str) -> str:
    """`host:port/dbname` of a connection URL: what a log line may name."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
