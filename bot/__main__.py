"""`python -m bot`: read the settings, then run the bot until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import os
import sys

from pydantic import ValidationError

from bot.config import Settings, describe_errors
from bot.logs import configure_logging

EXIT_BAD_CONFIG = 2


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
    from bot.serve import run  # noqa: PLC0415 - import the heavy app only once config is valid

    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
