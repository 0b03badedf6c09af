"""Leader election on a real PostgreSQL: one leader among contenders, takeover after the
leader's connection is terminated, its process killed or its network cut, self-fencing when its
queries hang, and the term guard of leader-only writes (docs/architecture.md §5.4)."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bot.health import PartHealth
from bot.leadership import (
    Fenced,
    Leadership,
    LeaderTimings,
    Term,
    advisory_key,
    hold_term,
)
from tests.leadership.tcp_relay import TcpRelay

ROOT = Path(__file__).resolve().parents[2]
NAME = "bot"
TIMINGS = LeaderTimings()
TAKEOVER_LIMIT = 10.0  # the contract: another leads within 10 s of the leader's death
# A contender that once deposed stays out for the rest of the test, so the next leader is another.
STAYS_OUT = LeaderTimings(max_backoff=60.0)


class Contender:
    """A Leadership whose callbacks note when they ran (monotonic seconds)."""

    def __init__(self, dsn: str, label: str, timings: LeaderTimings = TIMINGS) -> None:
        self.label = label
        self.look_when_deposed: Callable[[], Awaitable[object]] | None = None
        self.elected: list[tuple[float, Term]] = []
        self.deposed: list[tuple[float, Term, str]] = []  # noted when on_deposed returns
        first_backoff = 60.0 if timings is STAYS_OUT else 0.5
        self.leadership = Leadership(
            dsn,
            name=NAME,
            on_elected=self._on_elected,
            on_deposed=self._on_deposed,
            health=PartHealth(label, first_backoff=first_backoff),
            timings=timings,
        )

    async def _on_elected(self, term: Term) -> None:
        self.elected.append((time.monotonic(), term))

    async def _on_deposed(self, term: Term, reason: str) -> None:
        if self.look_when_deposed is not None:
            await self.look_when_deposed()
        self.deposed.append((time.monotonic(), term, reason))


async def take_part(stack: AsyncExitStack, contenders: Iterable[Contender]) -> list[Contender]:
    """Start every contender's Leadership; each is closed when the stack closes."""
    started = list(contenders)
    for contender in started:
        await stack.enter_async_context(contender.leadership)
    return started


async def first_elected(contenders: list[Contender], timeout: float) -> tuple[Contender, Term]:
    """The first of `contenders` to lead, and its term."""
    waits = {asyncio.ensure_future(c.leadership.wait_elected()): c for c in contenders}
    try:
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
    assert done, f"nobody was elected within {timeout} s"
    winner = next(iter(done))
    return waits[winner], winner.result()


async def connected(contenders: Iterable[Contender], timeout: float = 10.0) -> None:
    """Wait until every contender has its dedicated connection (so it is campaigning)."""
    async with asyncio.timeout(timeout):
        while any(c.leadership.backend_pid is None for c in contenders):
            await asyncio.sleep(0.05)


async def lock_holders(conn: Any) -> list[int]:
    """The server pids holding the election's advisory lock (in this test's database: each
    database has its own advisory locks)."""
    key = advisory_key(NAME) & 0xFFFF_FFFF_FFFF_FFFF
    cursor = await conn.execute(
        "SELECT pid, classid::bigint, objid::bigint FROM pg_locks"
        " WHERE locktype = 'advisory' AND objsubid = 1 AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    return [pid for pid, high, low in await cursor.fetchall() if (high << 32) | low == key]


async def test_exactly_one_of_three_contenders_leads(pg_dsn: str, pg_admin: Any) -> None:
    async with AsyncExitStack() as stack:
        contenders = await take_part(stack, (Contender(pg_dsn, f"c{i}") for i in range(3)))
        leader, term = await first_elected(contenders, TAKEOVER_LIMIT)
        assert term == Term(NAME, 1)
        await connected(contenders)
        # Over several check and retry intervals, always exactly one leader: the same one.
        until = time.monotonic() + 3 * TIMINGS.check_interval
        while time.monotonic() < until:
            assert [c for c in contenders if c.leadership.is_leader] == [leader]
            await asyncio.sleep(0.05)
        assert await lock_holders(pg_admin) == [leader.leadership.backend_pid]
        assert [len(c.elected) for c in contenders].count(1) == 1
        assert sum(len(c.elected) for c in contenders) == 1
        assert leader.leadership.term == term


async def test_terminated_leader_connection_deposes_it_and_another_leads_with_next_term(
    pg_dsn: str, pg_admin: Any
) -> None:
    async with AsyncExitStack() as stack:
        (first,) = await take_part(stack, [Contender(pg_dsn, "first", STAYS_OUT)])
        _, term = await first_elected([first], TAKEOVER_LIMIT)
        others = await take_part(stack, (Contender(pg_dsn, f"other{i}") for i in range(2)))
        await connected(others)

        terminated_at = time.monotonic()
        await pg_admin.execute("SELECT pg_terminate_backend(%s)", (first.leadership.backend_pid,))
        async with asyncio.timeout(TIMINGS.lease + 2.0):
            await first.leadership.wait_deposed()
        successor, next_term = await first_elected(others, TAKEOVER_LIMIT)

        assert time.monotonic() - terminated_at < TAKEOVER_LIMIT
        assert next_term == Term(NAME, term.number + 1)
        assert not first.leadership.is_leader
        assert [t for _, t, _ in first.deposed] == [term]
        assert first.leadership.health.cause is not None  # the lost connection was reported
        assert await lock_holders(pg_admin) == [successor.leadership.backend_pid]


async def test_terminated_leader_knows_at_once_not_at_its_next_check(
    pg_dsn: str, pg_admin: Any
) -> None:
    rare_checks = LeaderTimings(check_interval=12.0, query_timeout=1.0, session_timeout=16.0)
    async with AsyncExitStack() as stack:
        (leader,) = await take_part(stack, [Contender(pg_dsn, "leader", rare_checks)])
        await first_elected([leader], TAKEOVER_LIMIT)
        terminated_at = time.monotonic()
        await pg_admin.execute("SELECT pg_terminate_backend(%s)", (leader.leadership.backend_pid,))
        async with asyncio.timeout(2.0):  # the next check would come only after ~12 s
            await leader.leadership.wait_deposed()
        assert time.monotonic() - terminated_at < 2.0
        assert not leader.leadership.is_leader


async def test_killed_leader_process_is_replaced_within_10_s(pg_dsn: str, pg_admin: Any) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.leadership.leader_process",
        pg_dsn,
        NAME,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            line = (await process.stdout.readline()).decode()
        word, number, pid = line.split()
        assert (word, number) == ("elected", "1")
        assert await lock_holders(pg_admin) == [int(pid)]
        async with AsyncExitStack() as stack:
            followers = await take_part(stack, (Contender(pg_dsn, f"f{i}") for i in range(2)))
            await connected(followers)
            assert not any(f.leadership.is_leader for f in followers)

            killed_at = time.monotonic()
            process.kill()
            await process.wait()
            successor, term = await first_elected(followers, TAKEOVER_LIMIT)

            assert time.monotonic() - killed_at < TAKEOVER_LIMIT
            assert term == Term(NAME, 2)
            assert await lock_holders(pg_admin) == [successor.leadership.backend_pid]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_leader_whose_queries_hang_fences_itself_within_its_lease(
    pg_dsn: str, pg_admin: Any
) -> None:
    async with AsyncExitStack() as stack:
        (leader,) = await take_part(stack, [Contender(pg_dsn, "leader")])
        _, term = await first_elected([leader], TAKEOVER_LIMIT)
        observer = await psycopg.AsyncConnection.connect(pg_dsn, autocommit=True)
        stack.push_async_callback(observer.close)
        holders_when_deposed: list[int] = []

        async def look() -> None:
            holders_when_deposed.extend(await lock_holders(observer))

        leader.look_when_deposed = look
        pid = leader.leadership.backend_pid
        # The leader's next check waits behind this lock, never answered within its timeout.
        async with pg_admin.transaction():
            await pg_admin.execute("LOCK TABLE leader_terms IN ACCESS EXCLUSIVE MODE")
            hung_at = time.monotonic()
            async with asyncio.timeout(TIMINGS.lease + 5.0):
                await leader.leadership.wait_deposed()
            fenced_after = time.monotonic() - hung_at
            async with asyncio.timeout(TIMINGS.depose_grace + 1.0):
                while not leader.deposed:  # on_deposed has begun: wait for it to return
                    await asyncio.sleep(0.01)
            assert not leader.leadership.is_leader
            assert leader.leadership.term is None
        # Deposed within the check interval and the query timeout (plus a loaded machine's
        # slack), and while its own session still held the lock: nobody could lead yet.
        assert fenced_after < TIMINGS.lease + 1.5
        assert holders_when_deposed == [pid]
        cause = leader.leadership.health.cause or ""
        assert "statement timeout" in cause or "did not answer" in cause  # whichever came first
        # Once the database answers again, leadership resumes with a new term.
        async with asyncio.timeout(TAKEOVER_LIMIT):
            assert await leader.leadership.wait_elected() == Term(NAME, term.number + 1)


async def test_leader_frozen_past_its_lease_does_not_believe_it_leads(pg_dsn: str) -> None:
    async with AsyncExitStack() as stack:
        (leader,) = await take_part(stack, [Contender(pg_dsn, "leader")])
        term = await asyncio.wait_for(leader.leadership.wait_elected(), TAKEOVER_LIMIT)
        assert leader.leadership.term == term
        # The whole process stops (a swap storm, SIGSTOP): no check runs meanwhile.
        time.sleep(TIMINGS.lease + 0.2)  # noqa: ASYNC251 - freezing the event loop is the point
        assert not leader.leadership.is_leader  # before any of its tasks has run again
        assert leader.leadership.term is None


async def test_partitioned_leader_fences_itself_before_another_takes_over(pg_dsn: str) -> None:
    server = conninfo_to_dict(pg_dsn)
    async with AsyncExitStack() as stack:
        relay = await stack.enter_async_context(
            TcpRelay(str(server.get("host", "127.0.0.1")), int(server.get("port", 5432)))
        )
        through_relay = make_conninfo(pg_dsn, host="127.0.0.1", port=relay.port)
        (leader,) = await take_part(stack, [Contender(through_relay, "leader")])
        _, term = await first_elected([leader], TAKEOVER_LIMIT)
        (follower,) = await take_part(stack, [Contender(pg_dsn, "follower")])
        await connected([follower])

        cut_at = time.monotonic()
        relay.partition()
        _, next_term = await first_elected([follower], 2 * TAKEOVER_LIMIT)
        taken_over_at = time.monotonic()

        assert next_term == Term(NAME, term.number + 1)
        assert taken_over_at - cut_at < TAKEOVER_LIMIT
        [(deposed_at, deposed_term, _)] = leader.deposed
        assert deposed_term == term
        # The old leader had stopped (on_deposed returned) before the new one was elected.
        assert deposed_at < follower.elected[0][0]
        assert deposed_at - cut_at < TIMINGS.lease + 1.5


async def test_stale_term_cannot_write_and_next_term_waits_for_a_guarded_write(
    pg_dsn: str, pg_admin: Any
) -> None:
    await pg_admin.execute("CREATE TABLE effects (term BIGINT NOT NULL)")
    writer = await psycopg.AsyncConnection.connect(pg_dsn, autocommit=True)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(writer.close)
        (first,) = await take_part(stack, [Contender(pg_dsn, "first", STAYS_OUT)])
        _, term = await first_elected([first], TAKEOVER_LIMIT)
        (second,) = await take_part(stack, [Contender(pg_dsn, "second")])
        await connected([second])

        async with writer.transaction():  # a leader-only write of the first term, in flight
            await hold_term(writer, term)
            await writer.execute("INSERT INTO effects VALUES (%s)", (term.number,))
            await pg_admin.execute(
                "SELECT pg_terminate_backend(%s)", (first.leadership.backend_pid,)
            )
            # The second takes the lock, but its term waits for the guarded write to end.
            async with asyncio.timeout(TAKEOVER_LIMIT):
                while not await waits_for_a_lock(pg_admin, second.leadership.backend_pid):
                    await asyncio.sleep(0.05)
            assert not second.leadership.is_leader
        _, next_term = await first_elected([second], TAKEOVER_LIMIT)
        assert next_term == Term(NAME, term.number + 1)

        with pytest.raises(Fenced):
            await guarded_write(writer, term)  # the old term's next write is refused
        await guarded_write(writer, next_term)
        # The same guard inside one statement: the old term's write changes nothing.
        single = (
            "UPDATE effects SET term = 0 WHERE term = %s"
            " AND (SELECT term FROM leader_terms WHERE name = %s FOR SHARE) = %s"
        )
        cursor = await writer.execute(single, (term.number, NAME, term.number))
        assert cursor.rowcount == 0
        cursor = await pg_admin.execute("SELECT term FROM effects ORDER BY term")
        assert await cursor.fetchall() == [(term.number,), (next_term.number,)]


async def guarded_write(writer: Any, term: Term) -> None:
    """A leader-only write of `term`, in the pattern of docs/architecture.md §5.4."""
    async with writer.transaction():
        await hold_term(writer, term)
        await writer.execute("INSERT INTO effects VALUES (%s)", (term.number,))


async def waits_for_a_lock(conn: Any, pid: int | None) -> bool:
    """Whether the server process `pid` is waiting for a lock now."""
    cursor = await conn.execute(
        "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)
    )
    row = await cursor.fetchone()
    return bool(row and row[0])


async def test_leader_that_stops_hands_over_after_on_deposed(pg_dsn: str) -> None:
    async with AsyncExitStack() as stack:
        leader = Contender(pg_dsn, "leader")
        async with leader.leadership:
            _, term = await first_elected([leader], TAKEOVER_LIMIT)
            (follower,) = await take_part(stack, [Contender(pg_dsn, "follower")])
            await connected([follower])
        stopped_at = time.monotonic()
        [(deposed_at, deposed_term, reason)] = leader.deposed
        assert (deposed_term, reason) == (term, "stopping")
        _, next_term = await first_elected([follower], TAKEOVER_LIMIT)
        assert next_term == Term(NAME, term.number + 1)
        elected_at = follower.elected[0][0]
        assert deposed_at <= stopped_at < elected_at
        assert elected_at - stopped_at < TIMINGS.retry_interval + 2.0


async def test_leader_whose_on_elected_fails_steps_down_and_says_why(
    pg_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(term: Term) -> None:
        raise RuntimeError("leader-only work did not start")

    deposed: list[str] = []

    async def on_deposed(term: Term, reason: str) -> None:
        deposed.append(reason)

    health = PartHealth("leadership", first_backoff=60.0)
    timings = LeaderTimings(max_backoff=60.0)  # stays out after the first failure
    with caplog.at_level(logging.WARNING):
        leadership = Leadership(
            pg_dsn, on_elected=broken, on_deposed=on_deposed, health=health, timings=timings
        )
        async with leadership:
            await asyncio.wait_for(leadership.wait_elected(), TAKEOVER_LIMIT)
            async with asyncio.timeout(TIMINGS.check_interval + 5.0):
                await leadership.wait_deposed()
                while not deposed:
                    await asyncio.sleep(0.01)
    assert deposed == ["RuntimeError: leader-only work did not start"]
    [line] = [r for r in caplog.records if r.name == "bot.health"]
    assert line.levelno == logging.ERROR  # a bug: logged with its traceback
    assert line.exc_info is not None


async def test_on_deposed_that_hangs_is_cut_off_at_the_grace(
    pg_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def hang(term: Term, reason: str) -> None:
        await asyncio.Event().wait()

    leadership = Leadership(pg_dsn, name=NAME, on_deposed=hang, health=PartHealth("hangs"))
    async with AsyncExitStack() as stack:
        async with leadership:
            term = await asyncio.wait_for(leadership.wait_elected(), TAKEOVER_LIMIT)
            (follower,) = await take_part(stack, [Contender(pg_dsn, "follower")])
            await connected([follower])
            stopping_at = time.monotonic()
        assert time.monotonic() - stopping_at < TIMINGS.depose_grace + 1.0
        _, next_term = await first_elected([follower], TAKEOVER_LIMIT)
        assert next_term == Term(NAME, term.number + 1)
    assert "on_deposed of 'bot' overran 2.0 s" in caplog.text


async def test_unreachable_database_is_reported_once_per_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    health = PartHealth("leadership", first_backoff=0.05)
    timings = LeaderTimings(max_backoff=0.1)
    dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    with caplog.at_level(logging.WARNING):
        async with Leadership(dsn, health=health, timings=timings) as leadership:
            async with asyncio.timeout(10):
                while health.failures < 5:
                    await asyncio.sleep(0.05)
            assert not leadership.is_leader
    lines = [r for r in caplog.records if r.name == "bot.health" and "leadership" in r.message]
    assert len(lines) == 1
    assert "OperationalError" in lines[0].message
    assert lines[0].exc_info is None  # a condition of the machine: one line, no traceback


def test_advisory_key_is_a_fixed_signed_64_bit_number_per_name() -> None:
    assert advisory_key("bot") == advisory_key("bot")
    assert advisory_key("bot") != advisory_key("other")
    assert all(-(2**63) <= advisory_key(n) < 2**63 for n in ("bot", "x", "renders"))


def test_timings_refuse_a_lease_the_server_could_outlive() -> None:
    with pytest.raises(ValueError, match="before the server ends the session"):
        LeaderTimings(check_interval=3.0, query_timeout=2.0, session_timeout=6.0)
    with pytest.raises(ValueError, match="idle"):
        LeaderTimings(retry_interval=7.0, session_timeout=6.0, check_interval=1.0)
