"""Audio files sent in a chat, fetched for a render by their file id (docs/architecture.md §8.2).

Implements the engine's `ChatFiles` port (bot/engine/render_plan.py): Telegram's refusals become
the engine's source failures. The engine never imports this module (bot/wiring.py hands it over).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.engine.render_plan import SourceTransient, SourceUnavailable
from bot.telegram_io.telegram_files import save_telegram_file


class TelegramChatFiles:
    """The `ChatFiles` port on Telegram: getFile, then the file written off the event loop."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def save(self, file_id: str, path: Path) -> None:
        """Write the file to `path`; Telegram's refusals become the engine's source failures."""
        try:
            telegram_file = await self._bot.get_file(file_id)
            await save_telegram_file(telegram_file, path)
        except BadRequest as exc:
            raise SourceUnavailable(str(exc)) from exc
        except RetryAfter as exc:  # flood control on getFile: not a failure of the file
            raise SourceTransient(str(exc), retry_after=_seconds(exc.retry_after)) from exc
        except (NetworkError, OSError) as exc:
            raise SourceTransient(str(exc)) from exc


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
