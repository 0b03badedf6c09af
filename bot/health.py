"""Health of the bot's long-running parts (poller, inbox worker, each loop, the channel poster,
housekeeping): each part reports every iteration's outcome here (docs/architecture.md §5.3).

A failure is logged once per distinct cause (with its traceback the first time, so a bug is
visible), the part backs off (capped) and goes on; `/healthz` lists every part and why it is
unhealthy; a part failing without a break for `give_up_after` makes the process exit non-zero
so that Docker or systemd restart it. No Telegram types, no storage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

GIVE_UP_AFTER_SECONDS = 300.0  # a part failing this long without a success ends the process
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
_CAUSE_CHARS = 200
# Conditions of the machine, not bugs: said in one line, without a traceback. The database's
# own (SQLite's or PostgreSQL's operational errors) are added by `HealthBoard.expect`.
_EXPECTED_FAILURES: tuple[type[BaseException], ...] = (OSError,)

ExpectedFailure = Callable[[BaseException], bool]


def _nothing_else(_: BaseException) -> bool:
    return False


def describe_cause(exc: BaseException) -> str:
    """A short, stable description of an exception: its type and first line, no secrets added
    (log lines pass the redacting filter of bot/logs.py anyway)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    cause = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return cause[:_CAUSE_CHARS]


@dataclass(frozen=True, slots=True)
class PartStatus:
    """What `/healthz` says of one part."""

    healthy: bool
    reason: str | None
    failing_for_seconds: float


class PartHealth:
    """One part's failure streak: when it began, its cause, how long to back off next."""

    def __init__(
        self,
        name: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        first_backoff: float = FIRST_BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        expected: ExpectedFailure = _nothing_else,
    ) -> None:
        self.name = name
        self._clock = clock
        self._expected = expected
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._failing_since: float | None = None
        self._cause: str | None = None
        self._failures = 0
        self._down: str | None = None  # set while the part is not running at all

    @property
    def failures(self) -> int:
        """Failures in the current streak (0 when the last iteration succeeded)."""
        return self._failures

    @property
    def cause(self) -> str | None:
        """The latest failure's cause, or why the part is down; None when healthy."""
        return self._down or self._cause

    def succeeded(self) -> None:
        """An iteration went well: the streak, if any, ends (logged once)."""
        if self._failures:
            log.info(
                "%s recovered after %d failed attempts (last: %s)",
                self.name,
                self._failures,
                self._cause,
            )
        self._failing_since = None
        self._cause = None
        self._failures = 0

    def failed(self, exc: BaseException, *, expected: bool = False) -> float:
        """An iteration failed: log it if its cause is new in this streak, and return how many
        seconds to back off before the next attempt (doubling, capped). An `expected` failure
        (and any OSError — a full disk, a refused connection, a timeout — or one the board was
        told to expect, such as the database's operational errors) is one WARNING line;
        anything else is an ERROR with its traceback, since it may be a bug."""
        cause = describe_cause(exc)
        if self._failing_since is None:
            self._failing_since = self._clock()
        if cause != self._cause:
            expected = expected or isinstance(exc, _EXPECTED_FAILURES) or self._expected(exc)
            log.log(
                logging.WARNING if expected else logging.ERROR,
                "%s failing: %s; backing off and retrying (logged once per cause)",
                self.name,
                cause,
                exc_info=None if expected else exc,
            )
            self._cause = cause
        self._failures += 1
        return self.backoff()

    def backoff(self) -> float:
        """The delay before the next attempt for the current streak."""
        if not self._failures:
            return 0.0
        exponent = min(self._failures - 1, 30)
        return float(min(self._max_backoff, self._first_backoff * 2**exponent))

    def set_down(self, reason: str | None) -> None:
        """Mark the part as not running (`reason`), or running again (None)."""
        if reason is not None and self._failing_since is None:
            self._failing_since = self._clock()
        if reason is None and self._down is not None and not self._failures:
            self._failing_since = None
        self._down = reason

    def status(self) -> PartStatus:
        """Healthy or not, why, and for how long it has been failing."""
        if self._failing_since is None:
            return PartStatus(healthy=True, reason=None, failing_for_seconds=0.0)
        return PartStatus(
            healthy=False,
            reason=self.cause,
            failing_for_seconds=max(0.0, self._clock() - self._failing_since),
        )


class HealthBoard:
    """Every part's health, by name: what `/healthz` reports and the watchdog reads."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        give_up_after: float = GIVE_UP_AFTER_SECONDS,
    ) -> None:
        self._clock = clock
        self.give_up_after = give_up_after
        self._parts: dict[str, PartHealth] = {}
        self._expected: ExpectedFailure = _nothing_else

    def expect(self, failure: ExpectedFailure) -> None:
        """Count the failures `failure` accepts (e.g. the database's operational errors) as
        conditions, not bugs, in every part's log line."""
        self._expected = failure

    def _is_expected(self, exc: BaseException) -> bool:
        return self._expected(exc)

    def part(self, name: str) -> PartHealth:
        """The health record of the part called `name` (created on first use)."""
        if name not in self._parts:
            self._parts[name] = PartHealth(name, clock=self._clock, expected=self._is_expected)
        return self._parts[name]

    def snapshot(self) -> dict[str, PartStatus]:
        """Every part's status, by name."""
        return {name: part.status() for name, part in sorted(self._parts.items())}

    def unhealthy(self) -> dict[str, str]:
        """The parts that are failing or down, with why."""
        return {
            name: status.reason or "failing"
            for name, status in self.snapshot().items()
            if not status.healthy
        }

    def given_up(self) -> tuple[str, PartStatus] | None:
        """A part that has been failing for `give_up_after` seconds or more, if any."""
        for name, status in self.snapshot().items():
            if not status.healthy and status.failing_for_seconds >= self.give_up_after:
                return name, status
        return None
