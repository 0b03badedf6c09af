"""Leader election through PostgreSQL: of all processes sharing a database, one holds a
session-level advisory lock on a dedicated connection, numbers its term, and fences itself as
soon as it cannot prove it still holds the lock (docs/architecture.md §5.4).

Imported only when DATABASE_URL names PostgreSQL: psycopg 3 is imported here, so the embedded
SQLite default never loads it. No Telegram types, no storage repositories, no connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import psycopg

from bot.health import PartHealth, describe_cause

log = logging.getLogger(__name__)

_T = TypeVar("_T")
Connection = psycopg.AsyncConnection[Any]
OnElected = Callable[["Term"], Awaitable[None]]
OnDeposed = Callable[["Term", str], Awaitable[None]]

# The table moves into the migrations with the PostgreSQL adapter; until then this module
# creates it (under the lock, so contenders never race on it).
CREATE_TERMS_SQL = (
    "CREATE TABLE IF NOT EXISTS leader_terms (name TEXT PRIMARY KEY, term BIGINT NOT NULL)"
)
NEXT_TERM_SQL = (
    "INSERT INTO leader_terms (name, term) VALUES (%s, 1)"
    " ON CONFLICT (name) DO UPDATE SET term = leader_terms.term + 1 RETURNING term"
)
CURRENT_TERM_SQL = "SELECT term FROM leader_terms WHERE name = %s"
# The fence of a leader-only write: the first statement of its transaction. FOR SHARE keeps the
# term row as it is until the transaction ends, so the next term's increment waits for it: a
# guarded transaction either commits before the next term begins or sees that term and stops.
TERM_GUARD_SQL = "SELECT term FROM leader_terms WHERE name = %s FOR SHARE"
_SESSION_SETTINGS_SQL = "SELECT set_config(n, v, false) FROM unnest(%s::text[], %s::text[]) s(n, v)"
_KEY_PREFIX = "musicvideo-bot leader:"
STOPPING = "stopping"


class Fenced(Exception):
    """The term is over: a newer term exists, or nothing proves that this one goes on."""


class QueryTimeout(TimeoutError):
    """PostgreSQL did not answer the leadership connection in time."""


@dataclass(frozen=True, slots=True)
class Term:
    """One won leadership: of what (`name`) and which (`number`, higher for every new term)."""

    name: str
    number: int


@dataclass(frozen=True, slots=True)
class LeaderTimings:
    """How often the lock is tried and checked, and how long anything may take (seconds)."""

    retry_interval: float = 1.0  # a follower tries the lock this often
    check_interval: float = 1.0  # the leader proves its session alive this often
    query_timeout: float = 2.0  # an answer slower than this fences the leader
    session_timeout: float = 6.0  # the server ends a silent or unreachable session after this
    connect_timeout: float = 5.0
    depose_grace: float = 2.0  # on_deposed's bound: leader-only work stops within it
    max_backoff: float = 5.0  # after failures; short, so that a takeover stays within 10 s

    def __post_init__(self) -> None:
        if self.lease + self.depose_grace >= self.session_timeout:
            raise ValueError("lease + depose_grace must end before the server ends the session")
        if max(self.retry_interval, self.check_interval) >= self.session_timeout:
            raise ValueError("a session must never sit idle until the server ends it")

    @property
    def lease(self) -> float:
        """How long one successful check keeps us leader, counted from when it started."""
        return self.check_interval + self.query_timeout


def advisory_key(name: str) -> int:
    """The fixed signed 64-bit advisory lock key of the leadership called `name`."""
    digest = hashlib.sha256((_KEY_PREFIX + name).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _milliseconds(seconds: float) -> str:
    return str(round(seconds * 1000))


async def hold_term(conn: Connection, term: Term) -> None:
    """Inside the caller's open transaction: check that `term` is still current and keep it so
    until the transaction ends; raise Fenced if it is not (docs/architecture.md §5.4)."""
    cursor = await conn.execute(TERM_GUARD_SQL, (term.name,))
    row = await cursor.fetchone()
    if row is None or row[0] != term.number:
        raise Fenced(f"term {term.number} of {term.name!r} is over (now {row and row[0]})")


class Leadership:
    """This process's part in the election called `name`: `async with` takes part, leaving
    hands leadership over (after `on_deposed`) within one retry interval."""

    def __init__(
        self,
        dsn: str,
        *,
        name: str = "bot",
        on_elected: OnElected | None = None,
        on_deposed: OnDeposed | None = None,
        health: PartHealth | None = None,
        timings: LeaderTimings | None = None,
    ) -> None:
        self.name = name
        self._dsn = dsn
        self._key = advisory_key(name)
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self.health = health or PartHealth("leadership")
        self._timings = timings or LeaderTimings()
        self._term: Term | None = None
        self._in_office = False  # from election until on_deposed has returned
        self._lease_until = 0.0
        self._elected = asyncio.Event()
        self._deposed = asyncio.Event()
        self._deposed.set()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: Connection | None = None
        self._stuck: set[asyncio.Task[Any]] = set()  # queries given up on, ended at disconnect

    @property
    def is_leader(self) -> bool:
        """Whether we lead now: elected, and the last check is recent enough to vouch for it."""
        return self._term is not None and time.monotonic() < self._lease_until

    @property
    def term(self) -> Term | None:
        """The current term while we lead (to guard leader-only writes), else None."""
        return self._term if self.is_leader else None

    @property
    def backend_pid(self) -> int | None:
        """The server process of our dedicated connection (to find it in pg_stat_activity)."""
        conn = self._conn
        return None if conn is None or conn.closed else conn.info.backend_pid

    async def wait_elected(self) -> Term:
        """Return once we lead: the term won."""
        await self._elected.wait()
        assert self._term is not None
        return self._term

    async def wait_deposed(self) -> None:
        """Return once we do not lead (at once if we do not)."""
        await self._deposed.wait()

    async def terms(self) -> AsyncIterator[Term]:
        """Every term we win, as it begins; the next one only after this one has ended."""
        while True:
            yield await self.wait_elected()
            await self.wait_deposed()

    async def __aenter__(self) -> Leadership:
        self._task = asyncio.create_task(self._run(), name=self.health.name)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Step down if we lead (`on_deposed` first, then the lock goes) and stop taking part."""
        self._stopping.set()
        task, timings = self._task, self._timings
        if task is None:
            return
        if not self._in_office:
            task.cancel()  # nothing to hand over: a follower just leaves
        # A leader's check in flight, on_deposed and the close fit in this; then it is cancelled.
        await asyncio.wait({task}, timeout=timings.query_timeout + timings.depose_grace + 1.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        """Connect, campaign, lead; after any failure disconnect, back off and start over."""
        while not self._stopping.is_set():
            backoff = 0.0
            try:
                conn = self._conn = await self._connect()
            except Exception as exc:  # noqa: BLE001 - any failure: reported, retried (§5.3)
                backoff = self._failed(exc)
            else:
                try:
                    backoff = await self._campaign(conn)
                except Exception as exc:  # noqa: BLE001 - any failure: reported, retried (§5.3)
                    backoff = self._failed(exc)
                finally:
                    await self._disconnect(conn)
            if backoff:
                await self._pause(backoff)

    def _failed(self, exc: Exception) -> float:
        """Report a failure (logged once per cause) and return how long to back off."""
        expected = isinstance(exc, psycopg.OperationalError | OSError | Fenced)
        return min(self.health.failed(exc, expected=expected), self._timings.max_backoff)

    async def _connect(self) -> Connection:
        """A dedicated connection whose session the server ends soon after it goes silent or
        unreachable, so that a half-dead leader cannot keep the lock for long."""
        t = self._timings
        settings = {
            "statement_timeout": _milliseconds(t.query_timeout),
            "lock_timeout": _milliseconds(t.query_timeout),
            "idle_session_timeout": _milliseconds(t.session_timeout),
            "idle_in_transaction_session_timeout": _milliseconds(t.session_timeout),
            "tcp_user_timeout": _milliseconds(t.session_timeout),
            "tcp_keepalives_idle": "1",
            "tcp_keepalives_interval": "1",
            "tcp_keepalives_count": str(max(1, int(t.session_timeout) - 2)),
        }
        async with asyncio.timeout(t.connect_timeout + 1.0):
            conn = await psycopg.AsyncConnection.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=max(2, round(t.connect_timeout)),
                application_name=f"musicvideo-bot leader {self.name}"[:63],
                keepalives=1,
                keepalives_idle=1,
                keepalives_interval=1,
                keepalives_count=max(1, int(t.session_timeout) - 2),
                tcp_user_timeout=int(_milliseconds(t.session_timeout)),
            )
        try:
            await self._bounded(
                conn.execute(_SESSION_SETTINGS_SQL, (list(settings), [*settings.values()]))
            )
        except BaseException:
            await self._disconnect(conn)
            raise
        return conn

    async def _disconnect(self, conn: Connection) -> None:
        """Close the connection (the server then ends the session and frees the lock), then
        end the queries we gave up on."""
        await conn.close()
        if self._conn is conn:
            self._conn = None
        stuck, self._stuck = self._stuck, set()
        for task in stuck:
            task.cancel()
        await asyncio.gather(*stuck, return_exceptions=True)

    async def _campaign(self, conn: Connection) -> float:
        """Try the lock every retry interval; once won, lead until fenced or stopped.
        Returns the backoff before the next connection."""
        while not self._stopping.is_set():
            started = time.monotonic()
            term = await self._bounded(self._try_to_win(conn))
            self.health.succeeded()
            if term is not None:
                return await self._lead(conn, term, started)
            await self._pause(self._timings.retry_interval)
        return 0.0

    async def _try_to_win(self, conn: Connection) -> Term | None:
        """Take the lock if it is free and begin the next term; None if another holds it."""
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))
        row = await cursor.fetchone()
        if row is None or not row[0]:
            return None
        async with conn.transaction():
            await conn.execute(CREATE_TERMS_SQL)
            cursor = await conn.execute(NEXT_TERM_SQL, (self.name,))
            row = await cursor.fetchone()
        assert row is not None
        return Term(self.name, int(row[0]))

    async def _lead(self, conn: Connection, term: Term, started: float) -> float:
        """Lead `term` and check it every interval; any failure to prove the session alive
        within the timeout deposes us before the server can give the lock to another.
        Returns the backoff before campaigning again."""
        self._take_office(term, started)
        elected = asyncio.create_task(self._call_on_elected(term), name=f"{self.name} elected")
        try:
            watch: Connection | None = conn
            while not self._stopping.is_set():
                heard = await self._idle(self._timings.check_interval, watching=watch)
                if self._stopping.is_set():
                    break
                await self._check(conn, term, elected)
                watch = None if heard else conn  # the check read what it was: no busy loop
        except Exception as exc:  # noqa: BLE001 - whatever fails, the term cannot go on (§5.3)
            backoff = self._failed(exc)  # the cause is logged before the deposition
            await self._leave_office(term, describe_cause(exc), elected)
            return backoff
        except BaseException:
            await self._leave_office(term, "cancelled", elected)
            raise
        await self._leave_office(term, STOPPING, elected)
        return 0.0

    async def _check(self, conn: Connection, term: Term, elected: asyncio.Task[None]) -> None:
        """Prove that `term` goes on and extend the lease; raise if it may not."""
        if elected.done() and (error := elected.exception()) is not None:
            raise error  # leading without the leader-only work started is pointless
        started = time.monotonic()
        current = await self._bounded(self._current_term(conn))
        if current != term.number:
            raise Fenced(f"term {term.number} superseded by {current}")
        self._lease_until = started + self._timings.lease
        self.health.succeeded()

    async def _current_term(self, conn: Connection) -> int | None:
        cursor = await conn.execute(CURRENT_TERM_SQL, (self.name,))
        row = await cursor.fetchone()
        return None if row is None else int(row[0])

    def _take_office(self, term: Term, started: float) -> None:
        self._in_office = True
        self._term = term
        self._lease_until = started + self._timings.lease
        self._deposed.clear()
        self._elected.set()
        log.info("leader of %r: term %d (backend pid %s)", self.name, term.number, self.backend_pid)

    async def _call_on_elected(self, term: Term) -> None:
        if self._on_elected is not None:
            await self._on_elected(term)

    async def _leave_office(self, term: Term, reason: str, elected: asyncio.Task[None]) -> None:
        """Stop leading at once, then let on_deposed stop the leader-only work (bounded)."""
        self._term = None
        self._lease_until = 0.0
        self._elected.clear()
        self._deposed.set()
        level = logging.INFO if reason == STOPPING else logging.WARNING
        log.log(level, "no longer leader of %r (term %d): %s", self.name, term.number, reason)
        grace = self._timings.depose_grace  # one bound for both steps below
        deadline = asyncio.get_running_loop().time() + grace
        elected.cancel()  # on_elected may still be starting the leader-only work
        await asyncio.wait({elected}, timeout=grace)
        if elected.done() and not elected.cancelled():
            elected.exception()  # raised from _lead already when there was one: mark it seen
        try:
            await self._call_on_deposed(term, reason, deadline)
        finally:
            self._in_office = False

    async def _call_on_deposed(self, term: Term, reason: str, deadline: float) -> None:
        if self._on_deposed is None:
            return
        try:
            async with asyncio.timeout_at(deadline):
                await self._on_deposed(term, reason)
        except TimeoutError:
            log.warning("on_deposed of %r overran %.1f s", self.name, self._timings.depose_grace)
        except Exception:  # a bug in the callback must not stop the election
            log.exception("on_deposed of %r failed", self.name)

    async def _bounded(self, work: Coroutine[Any, Any, _T]) -> _T:
        """`work` on the leadership connection, or QueryTimeout after `query_timeout`. The
        query is not cancelled here (psycopg would wait for the server to confirm): it is
        abandoned, and ends when the connection is closed."""
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=self._timings.query_timeout)
        finally:
            if not task.done():
                self._stuck.add(task)
        if not done:
            raise QueryTimeout(
                f"PostgreSQL did not answer within {self._timings.query_timeout:g} s"
            )
        return task.result()

    async def _pause(self, seconds: float) -> bool:
        """Wait `seconds` or until stopped; whether we are stopping."""
        await self._idle(seconds, watching=None)
        return self._stopping.is_set()

    async def _idle(self, seconds: float, *, watching: Connection | None) -> bool:
        """Wait `seconds` or until stopped. While `watching` an idle connection, anything the
        server sends on it ends the wait early: it does so just before it ends our session
        (pg_terminate_backend, idle timeout, shutdown), and the check that follows finds out
        at once. Whether the server spoke."""
        loop = asyncio.get_running_loop()
        heard: asyncio.Future[None] = loop.create_future()
        if watching is not None:
            loop.add_reader(watching.fileno(), _resolve, heard)
        stopping: asyncio.Future[Any] = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait(
                {heard, stopping}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            if watching is not None:
                loop.remove_reader(watching.fileno())
            stopping.cancel()
        return heard.done()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
