"""`python -m bot`: read the settings, then run the bot until SIGTERM/SIGINT (exit code 0), or
until a part has failed for 5 minutes (exit code 1, for Docker or systemd to restart it).

`python -m bot worker`: a render worker (docs/architecture.md §8.8), PostgreSQL only."""

from __future__ import annotations

import asyncio
import os
import sys

from pydantic import ValidationError

from bot.config import Settings, WorkerSettings, describe_errors
from bot.health import HealthBoard
from bot.logs import configure_logging

EXIT_BAD_CONFIG = 2
# Test-only, not a setting: the process tests shorten the watchdog's 5-minute limit with it
# (docs/architecture.md §5.3). Operators never need it.
GIVE_UP_AFTER_TEST_VARIABLE = "_BOT_TEST_GIVE_UP_AFTER_SECONDS"
# Test-only, not a setting: the worker tests shorten how soon a silent worker counts as dead
# (heartbeats and the stalled-render watch scale with it; docs/architecture.md §8.8).
STALLED_AFTER_TEST_VARIABLE = "_BOT_TEST_STALLED_AFTER_SECONDS"
WORKER_COMMAND = "worker"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args == [WORKER_COMMAND]:
        return worker_main()
    if args:
        print(f"usage: python -m bot [{WORKER_COMMAND}]", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_CONFIG
    try:
        settings = Settings()  # required values come from the environment
    except ValidationError as error:
        for line in describe_errors(error):
            print(f"configuration error: {line}", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_CONFIG
    configure_logging(settings)
    # Opt in to python-telegram-bot's timedelta periods (RetryAfter.retry_after) now, instead
    # of the deprecated integers that warn on every access.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    # Import the heavy app only once the configuration is valid.
    from bot.serve import run  # noqa: PLC0415
    from bot.telegram_io.telegram_wait import TelegramTokenRefused  # noqa: PLC0415
    from storage.errors import DatabaseRefused  # noqa: PLC0415

    give_up_after = os.environ.get(GIVE_UP_AFTER_TEST_VARIABLE)
    health = HealthBoard(give_up_after=float(give_up_after)) if give_up_after else None
    try:
        return asyncio.run(run(settings, health=health))
    except (TelegramTokenRefused, DatabaseRefused) as refused:
        print(f"configuration error: {refused}", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_CONFIG


def worker_main() -> int:
    """`python -m bot worker`: a render worker; exit code 2 without PostgreSQL."""
    try:
        settings = WorkerSettings()
    except ValidationError as error:
        for line in describe_errors(error):
            print(f"configuration error: {line}", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_CONFIG
    if settings.postgres_url is None:
        print(  # noqa: T201
            "configuration error: DATABASE_URL: a render worker needs PostgreSQL"
            " (postgresql://...): it takes the renders the bots queue there",
            file=sys.stderr,
        )
        return EXIT_BAD_CONFIG
    configure_logging(settings)
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from bot.telegram_io.telegram_wait import TelegramTokenRefused  # noqa: PLC0415
    from bot.worker.engine import EngineTimings  # noqa: PLC0415
    from bot.worker.process import run_worker  # noqa: PLC0415
    from storage.errors import DatabaseRefused  # noqa: PLC0415

    stalled_after = os.environ.get(STALLED_AFTER_TEST_VARIABLE)
    timings = EngineTimings.scaled(float(stalled_after)) if stalled_after else None
    try:
        return asyncio.run(run_worker(settings, timings=timings))
    except (TelegramTokenRefused, DatabaseRefused) as refused:
        print(f"configuration error: {refused}", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_CONFIG


if __name__ == "__main__":
    sys.exit(main())
