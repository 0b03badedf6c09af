"""A bare python-telegram-bot echo bot (defaults, long polling): the yardstick for CPU per job.

Run by bench/cpu_per_job.py as a child process against the fake Bot API:
    python -m bench.echo_bot <token> <Bot API base URL>
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("PTB_TIMEDELTA", "true")  # as `python -m bot` does

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text message with the same text."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(message.text)


def main(token: str, base_url: str) -> None:
    application = Application.builder().token(token).base_url(f"{base_url}/bot").build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling()  # stops on SIGTERM


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
