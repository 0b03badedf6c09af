"""`python -m bot`: read the settings, then run the bot until SIGTERM/SIGINT (exit code 0), or
until a part has failed for 5 minutes (exit code 1, for Docker or systemd to restart it)."""

from __future__ import annotations

import asyncio
import os
import sys

from pydantic import ValidationError

from bot.config import Settings, describe_errors
from bot.health import HealthBoard
from bot.logs import configure_logging

EXIT_BAD_CONFIG = 2
# Test-only, not a setting: the process tests shorten the watchdog's 5-minute limit with it
# (docs/architecture.md §5.3). Operators never need it.
GIVE_UP_AFTER_TEST_VARIABLE = "_BOT_TEST_GIVE_UP_AFTER_SECONDS"


def main() -> int:
    """Entry point; returns the process exit code."""
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


if __name__ == "__main__":
    sys.exit(main())
