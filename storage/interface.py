"""The storage interface both databases implement: `Database`, its `Row`, its `Engine`.

Imports no database driver (docs/architecture.md §14): the repositories are written against this
module and never ask which database they run on; every difference between SQLite and PostgreSQL
lives in one `Engine` per database (placeholders, locking clauses, types, error classes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

Params = Sequence[Any]


class Row(Protocol):
    """One result row: by position (`row[0]`), by column name (`row["id"]`), iterable."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def keys(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Engine:
    """What differs between the databases; the adapters hold one, repositories may read it."""

    name: str
    # Appended to a `SELECT … FOR UPDATE`-style claim: rows another transaction holds are
    # skipped. Empty on SQLite, where a write transaction already excludes every other writer.
    skip_locked: str
    # Every exception the driver raises for a failed statement (for /healthz and loops), plus
    # ValueError, which both adapters raise for a statement on a closed database.
    errors: tuple[type[Exception], ...]
    # The subset that says "try again later" (lost connection, lock timeout, deadlock,
    # serialisation failure, disk I/O) rather than "this statement is wrong".
    transient_errors: tuple[type[Exception], ...]

    def is_transient(self, error: BaseException) -> bool:
        """True when `error` is a condition of the database server or disk, not a bug."""
        return isinstance(error, self.transient_errors)


class ClosedOnExit:
    """`async with db:` closes the database at the end of the block (both adapters)."""

    async def close(self) -> None:
        """Close the database; a second call does nothing."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class Database(Protocol):
    """An open database: statements, queries, transactions; SQLite or PostgreSQL alike.

    `?` is the placeholder on both. A transaction belongs to the task that opened it: that
    task's statements inside the block run in it; other tasks' statements do not.
    """

    @property
    def engine(self) -> Engine: ...

    @property
    def closed(self) -> bool: ...

    async def execute(self, sql: str, params: Params = ()) -> int: ...

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...

    def transaction(self) -> AbstractAsyncContextManager[None]: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
