"""Logging set-up: one line per record, secrets redacted, chatty HTTP loggers kept quiet."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot.config import CommonSettings

REDACTED = "[REDACTED]"
_QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "uvicorn.access", "aiosqlite")


class SecretRedactor(logging.Filter):
    """Replaces every known secret in a record's final message (docs/architecture.md §13.9)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, REDACTED)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            exc_text = record.exc_text
            for secret in self._secrets:
                exc_text = exc_text.replace(secret, REDACTED)
            record.exc_text = exc_text
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def secrets_of(settings: CommonSettings) -> list[str]:
    """The values that must never reach a log line."""
    values: list[SecretStr | None] = [settings.telegram_bot_token, settings.music_api_key]
    values += [settings.webhook_secret, settings.music_api_webhook_hmac_key, settings.database_url]
    secrets = [v.get_secret_value() for v in values if v is not None]
    if settings.postgres_url is not None:  # its password alone, as a driver message may say it
        password = urlsplit(settings.postgres_url).password
        secrets += [password] if password else []
    return secrets


def configure_logging(settings: CommonSettings, stream: object = None) -> logging.Handler:
    """Install one redacting stream handler on the root logger; returns it."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretRedactor(secrets_of(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
