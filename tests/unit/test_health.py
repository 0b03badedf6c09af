"""The health board: streaks, once-per-cause logging, capped backoff, the give-up limit."""

from __future__ import annotations

import logging

import pytest

from bot.health import HealthBoard, PartHealth, describe_cause


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_cause_is_logged_once_per_streak_and_the_backoff_doubles_to_its_cap(
    caplog: pytest.LogCaptureFixture,
) -> None:
    part = PartHealth("delivery", clock=_Clock(), first_backoff=0.5, max_backoff=4.0)
    caplog.set_level(logging.INFO, logger="bot.health")
    delays = [part.failed(OSError("disk full")) for _ in range(6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [r.getMessage().count("disk full") for r in caplog.records] == [1]
    part.failed(TimeoutError("slow"))
    assert len(caplog.records) == 2  # a new cause is said once more
    part.succeeded()
    assert "recovered after 7 failed attempts" in caplog.records[-1].getMessage()
    assert part.backoff() == 0.0


def test_the_board_names_unhealthy_parts_and_the_one_failing_too_long() -> None:
    clock = _Clock()
    board = HealthBoard(clock=clock, give_up_after=300.0)
    board.part("poller").succeeded()
    board.part("reconciler").failed(ValueError("database is locked"))
    assert board.unhealthy() == {"reconciler": "ValueError: database is locked"}
    clock.now += 299.0
    assert board.given_up() is None
    clock.now += 1.0
    given_up = board.given_up()
    assert given_up is not None
    assert given_up[0] == "reconciler"
    board.part("reconciler").succeeded()
    assert board.unhealthy() == {}
    assert board.given_up() is None


def test_a_part_that_is_down_is_unhealthy_until_it_runs_again() -> None:
    clock = _Clock()
    board = HealthBoard(clock=clock)
    board.part("inbox-worker").set_down("stopped")
    assert board.unhealthy() == {"inbox-worker": "stopped"}
    board.part("inbox-worker").set_down(None)
    assert board.unhealthy() == {}


def test_a_cause_is_its_type_and_first_line() -> None:
    assert describe_cause(OSError("no space\nmore")) == "OSError: no space"
    assert describe_cause(TimeoutError()) == "TimeoutError"


def test_an_expected_condition_is_one_warning_line_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    part = PartHealth("telegram-poller", clock=_Clock())
    caplog.set_level(logging.INFO, logger="bot.health")
    part.failed(ConnectionRefusedError("refused"))
    part.failed(RuntimeError("network down"), expected=True)
    part.failed(KeyError("bug"))
    levels = [(r.levelno, r.exc_info is not None) for r in caplog.records]
    assert levels == [(logging.WARNING, False), (logging.WARNING, False), (logging.ERROR, True)]


def test_the_board_counts_what_it_was_told_to_expect_as_a_condition(
    caplog: pytest.LogCaptureFixture,
) -> None:
    board = HealthBoard(clock=_Clock())
    caplog.set_level(logging.INFO, logger="bot.health")
    board.part("delivery").failed(LookupError("server closed the connection"))
    board.expect(lambda exc: isinstance(exc, LookupError))
    board.part("delivery").failed(LookupError("the database is starting up"))
    board.part("submitter").failed(LookupError("server closed the connection"))
    levels = [(r.levelno, r.exc_info is not None) for r in caplog.records]
    assert levels == [(logging.ERROR, True), (logging.WARNING, False), (logging.WARNING, False)]
