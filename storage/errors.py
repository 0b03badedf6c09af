"""Errors raised by the storage layer. Imports nothing from the bot, Telegram or HTTP."""

from __future__ import annotations


class StorageError(Exception):
    """Base of the storage layer's own errors."""


class DatabaseTooNew(StorageError):
    """The database file was migrated by a newer version of the code than this one."""

    def __init__(self, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            f"database schema version {found} is newer than this code supports ({supported}); "
            "run a newer version of the bot or restore a matching backup"
        )


class DatabaseRefused(StorageError):
    """PostgreSQL answered but refused the configured login or database: a configuration
    error (DATABASE_URL), not an outage. The message never carries the password."""
