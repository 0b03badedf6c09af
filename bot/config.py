"""Settings from the environment or `.env` (docs/architecture.md §12). Names are a contract."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain import DEFAULT_BASE_URL, MAX_DOMAIN_LENGTH, Provider
from bot.rendering.ffmpeg_binary import default_ffmpeg_binary

IdList = Annotated[frozenset[int], NoDecode]

# Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and - in a webhook secret token.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Only kie signs its callbacks; apikley, the SUNOAPI family and vidgo document no signature
# (docs/providers.md §2.3, §6.1), so with them a webhook HMAC key would refuse every callback.
SIGNING_PROVIDERS = frozenset({Provider.KIE})
# The URL schemes libpq accepts for a PostgreSQL connection.
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class CommonSettings(BaseSettings):
    """The variables of docs/architecture.md §12 every role reads; the bot (`Settings`) also
    needs the provider key, a render worker (`WorkerSettings`, docs/architecture.md §8.8)
    does not."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    telegram_bot_token: SecretStr
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_file_url: str = "https://api.telegram.org/file/bot"
    bot_mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: SecretStr | None = None
    music_api_provider: Provider = Provider.KIE
    music_api_key: SecretStr | None = None  # required by the bot (`Settings`)
    music_api_base_url: str | None = None
    music_api_webhook_hmac_key: SecretStr | None = None
    public_base_url: str | None = None
    http_host: str = "0.0.0.0"  # noqa: S104 - the endpoint must be reachable from a proxy/container
    http_port: int = Field(default=8080, ge=0, le=65535)
    database_path: Path = Path("data/bot.sqlite3")
    # Empty: SQLite at database_path. Holds a password: never logged (docs/architecture.md §13.9).
    database_url: SecretStr | None = None
    poll_interval_seconds: float = Field(default=30.0, gt=0)
    job_timeout_minutes: float = Field(default=60.0, gt=0)
    default_domain_name: str | None = Field(default=None, max_length=MAX_DOMAIN_LENGTH)
    allowed_user_ids: IdList = frozenset()
    allowed_chat_ids: IdList = frozenset()
    admin_user_ids: IdList = frozenset()
    quota_per_hour: int = Field(default=10, ge=0)
    max_upload_mb: int = Field(default=50, gt=0, le=2000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    render_fallback: bool = True
    # Per process; 0 on a bot with PostgreSQL: only dedicated workers render
    # (docs/architecture.md §8.8).
    render_concurrency: int = Field(default=1, ge=0, le=64)
    ffmpeg_binary: Path = Field(default_factory=default_ffmpeg_binary)

    @field_validator("allowed_user_ids", "allowed_chat_ids", "admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            try:
                return frozenset(int(part) for part in parts if part)
            except ValueError:
                raise ValueError("must be comma-separated integer ids, e.g. 123,-100456") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("bot_mode", "music_api_provider", mode="before")
    @classmethod
    def _lower_choice(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("music_api_webhook_hmac_key")
    @classmethod
    def _only_for_signing_providers(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        provider = info.data.get("music_api_provider")  # absent when it was itself invalid
        if value is not None and provider is not None and provider not in SIGNING_PROVIDERS:
            raise ValueError(
                f"must be unset with MUSIC_API_PROVIDER={provider.value}: only kie signs its"
                " callbacks, so every callback would be refused"
            )
        return value

    @field_validator(
        "public_base_url", "music_api_base_url", "telegram_api_base_url", "telegram_api_file_url"
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never repeats the value: the URL holds a password.
        if value is not None and not value.get_secret_value().startswith(_POSTGRES_SCHEMES):
            raise ValueError(
                "must be empty (SQLite at DATABASE_PATH) or a postgresql:// URL,"
                " e.g. postgresql://user:password@host:5432/dbname"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret_and_url(self) -> Self:
        if self.bot_mode == "webhook":
            problems = []
            if self.webhook_secret is None:
                problems.append("WEBHOOK_SECRET is required when BOT_MODE=webhook")
            elif not _WEBHOOK_SECRET.match(self.webhook_secret.get_secret_value()):
                problems.append("WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -")
            if self.public_base_url is None:
                problems.append("PUBLIC_BASE_URL is required when BOT_MODE=webhook")
            if problems:
                raise ValueError("; ".join(problems))
        return self

    @field_validator("ffmpeg_binary")
    @classmethod
    def _executable(cls, value: Path) -> Path:
        if not value.is_file() or not os.access(value, os.X_OK):
            raise ValueError("must be the path of an executable ffmpeg")
        return value

    @property
    def upstream_base_url(self) -> str:
        """MUSIC_API_BASE_URL, or the provider's documented host."""
        return self.music_api_base_url or DEFAULT_BASE_URL[self.music_api_provider]

    @property
    def postgres_url(self) -> str | None:
        """The PostgreSQL connection URL (a secret), or None for SQLite at DATABASE_PATH."""
        return None if self.database_url is None else self.database_url.get_secret_value()

    @property
    def callbacks_enabled(self) -> bool:
        """Whether the upstream can reach us; without PUBLIC_BASE_URL the bot is poll-only."""
        return self.public_base_url is not None


class Settings(CommonSettings):
    """Every configuration variable of docs/architecture.md §12, validated at start-up: the
    bot's (`python -m bot`)."""

    music_api_key: SecretStr

    @model_validator(mode="after")
    def _someone_renders(self) -> Settings:
        if self.render_concurrency == 0 and self.database_url is None:
            raise ValueError(
                "RENDER_CONCURRENCY: 0 (this bot renders nothing) needs DATABASE_URL"
                " (PostgreSQL, where render workers render); with SQLite nothing would render"
            )
        return self


class WorkerSettings(CommonSettings):
    """A render worker's settings (`python -m bot worker`, docs/architecture.md §8.8): no
    provider key; DATABASE_URL is checked by the worker's start (exit 2 without it)."""


def describe_errors(error: ValidationError) -> list[str]:
    """One readable line per configuration problem, naming the variable; never the value."""
    lines = []
    for problem in error.errors():
        name = "_".join(str(part) for part in problem["loc"]).upper()
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "missing":
            message = "is required (set it in the environment or in .env)"
        lines.append(f"{name}: {message}" if name else message)
    return lines
