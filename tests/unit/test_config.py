"""Settings: names, defaults and readable errors (docs/architecture.md §12)."""

import os
import sys
from pathlib import Path

import imageio_ffmpeg
import pytest
from pydantic import ValidationError

from bot.config import Settings, describe_errors
from bot.domain import Provider
from tests.e2e.processes import run_bot_once

REQUIRED = {"TELEGRAM_BOT_TOKEN": "123:abc-SECRET-TOKEN", "MUSIC_API_KEY": "sk-SECRET-KEY"}
ALL_NAMES = [
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "TELEGRAM_API_FILE_URL",
    "BOT_MODE",
    "WEBHOOK_SECRET",
    "MUSIC_API_PROVIDER",
    "MUSIC_API_KEY",
    "MUSIC_API_BASE_URL",
    "MUSIC_API_WEBHOOK_HMAC_KEY",
    "PUBLIC_BASE_URL",
    "HTTP_HOST",
    "HTTP_PORT",
    "DATABASE_PATH",
    "DATABASE_URL",
    "POLL_INTERVAL_SECONDS",
    "JOB_TIMEOUT_MINUTES",
    "DEFAULT_DOMAIN_NAME",
    "ALLOWED_USER_IDS",
    "ALLOWED_CHAT_IDS",
    "ADMIN_USER_IDS",
    "QUOTA_PER_HOUR",
    "MAX_UPLOAD_MB",
    "LOG_LEVEL",
    "RENDER_FALLBACK",
    "RENDER_CONCURRENCY",
    "FFMPEG_BINARY",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ALL_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    settings = Settings()  # type: ignore[call-arg]
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.telegram_api_file_url == "https://api.telegram.org/file/bot"
    assert settings.bot_mode == "polling"
    assert settings.music_api_provider is Provider.KIE
    assert settings.upstream_base_url == "https://api.kie.ai"
    assert settings.public_base_url is None
    assert not settings.callbacks_enabled
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", 8080)
    assert settings.database_path == Path("data/bot.sqlite3")
    assert (settings.database_url, settings.postgres_url) == (None, None)  # SQLite
    assert settings.poll_interval_seconds == 30
    assert settings.job_timeout_minutes == 60
    assert settings.quota_per_hour == 10
    assert settings.max_upload_mb == 50
    assert settings.log_level == "INFO"
    assert settings.allowed_user_ids == frozenset()
    assert settings.render_fallback is True
    assert settings.render_concurrency == 1
    assert settings.ffmpeg_binary == Path(imageio_ffmpeg.get_ffmpeg_exe())
    assert os.access(settings.ffmpeg_binary, os.X_OK)


def test_every_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        **REQUIRED,
        "TELEGRAM_API_BASE_URL": "http://local:8081/bot",
        "TELEGRAM_API_FILE_URL": "http://local:8081/file/bot",
        "BOT_MODE": "webhook",
        "WEBHOOK_SECRET": "s3cret_-X",
        "MUSIC_API_PROVIDER": "KiE",  # the only provider that signs: the HMAC key is valid
        "MUSIC_API_BASE_URL": "https://proxy.example/prefix/",
        "MUSIC_API_WEBHOOK_HMAC_KEY": "hmac",
        "PUBLIC_BASE_URL": "http://bot.example",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": "9000",
        "DATABASE_PATH": "/tmp/x.db",
        "DATABASE_URL": "postgresql://bot:pw@db:5432/bot",
        "POLL_INTERVAL_SECONDS": "0.5",
        "JOB_TIMEOUT_MINUTES": "1.5",
        "DEFAULT_DOMAIN_NAME": "example.com",
        "ALLOWED_USER_IDS": "1, 2,3",
        "ALLOWED_CHAT_IDS": "-100123",
        "ADMIN_USER_IDS": "7",
        "QUOTA_PER_HOUR": "0",
        "MAX_UPLOAD_MB": "2000",
        "LOG_LEVEL": "debug",
        "RENDER_FALLBACK": "false",
        "RENDER_CONCURRENCY": "3",
        "FFMPEG_BINARY": sys.executable,  # any executable file passes the check
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = Settings()  # type: ignore[call-arg]
    assert s.bot_mode == "webhook"
    assert s.music_api_provider is Provider.KIE
    assert s.upstream_base_url == "https://proxy.example/prefix/"
    assert s.callbacks_enabled
    assert (s.http_host, s.http_port) == ("127.0.0.1", 9000)
    assert s.poll_interval_seconds == 0.5
    assert s.job_timeout_minutes == 1.5
    assert s.allowed_user_ids == {1, 2, 3}
    assert s.allowed_chat_ids == {-100123}
    assert s.admin_user_ids == {7}
    assert s.quota_per_hour == 0
    assert s.max_upload_mb == 2000
    assert s.log_level == "DEBUG"
    assert s.default_domain_name == "example.com"
    assert s.render_fallback is False
    assert s.render_concurrency == 3
    assert s.ffmpeg_binary == Path(sys.executable)
    assert s.postgres_url == "postgresql://bot:pw@db:5432/bot"
    assert "pw" not in repr(s.database_url)


def test_empty_optional_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PUBLIC_BASE_URL", "")
    monkeypatch.setenv("MUSIC_API_BASE_URL", "")
    monkeypatch.setenv("ALLOWED_USER_IDS", "")
    s = Settings()  # type: ignore[call-arg]
    assert s.public_base_url is None
    assert s.upstream_base_url == "https://api.kie.ai"
    assert s.allowed_user_ids == frozenset()


def _errors(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as info:
        Settings()  # type: ignore[call-arg]
    return describe_errors(info.value)


def test_database_url_takes_both_postgres_schemes_and_empty_means_sqlite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", "")
    assert Settings().postgres_url is None  # type: ignore[call-arg]
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@h/d")
    assert Settings().postgres_url == "postgres://u:p@h/d"  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "url", ["mysql://bot:SECRET-PW@db/bot", "sqlite:///data/bot.sqlite3", "db:5432/SECRET-PW"]
)
def test_a_database_url_that_is_not_postgres_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    lines = _errors(monkeypatch, **REQUIRED, DATABASE_URL=url)
    assert lines == [
        "DATABASE_URL: must be empty (SQLite at DATABASE_PATH) or a postgresql:// URL,"
        " e.g. postgresql://user:password@host:5432/dbname"
    ]


def test_missing_required_values_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _errors(monkeypatch)
    assert any(line.startswith("TELEGRAM_BOT_TOKEN: is required") for line in lines)
    assert any(line.startswith("MUSIC_API_KEY: is required") for line in lines)


def test_bad_values_give_one_line_each(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _errors(
        monkeypatch,
        **REQUIRED,
        MUSIC_API_PROVIDER="suno",
        POLL_INTERVAL_SECONDS="-1",
        ALLOWED_USER_IDS="1,abc",
        PUBLIC_BASE_URL="bot.example.com",
    )
    names = sorted(line.split(":")[0] for line in lines)
    assert names == [
        "ALLOWED_USER_IDS",
        "MUSIC_API_PROVIDER",
        "POLL_INTERVAL_SECONDS",
        "PUBLIC_BASE_URL",
    ]


def test_bad_render_settings_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    not_executable = tmp_path / "ffmpeg"
    not_executable.write_text("")
    lines = _errors(
        monkeypatch,
        **REQUIRED,
        RENDER_FALLBACK="maybe",
        RENDER_CONCURRENCY="65",
        FFMPEG_BINARY=str(not_executable),
    )
    assert sorted(line.split(":")[0] for line in lines) == [
        "FFMPEG_BINARY",
        "RENDER_CONCURRENCY",
        "RENDER_FALLBACK",
    ]
    assert any("executable ffmpeg" in line for line in lines)


def test_no_rendering_in_the_bot_needs_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    """RENDER_CONCURRENCY=0: only render workers render, and they need PostgreSQL
    (docs/architecture.md §8.8)."""
    lines = _errors(monkeypatch, **REQUIRED, RENDER_CONCURRENCY="0")
    assert len(lines) == 1
    assert lines[0].startswith("RENDER_CONCURRENCY: 0")
    assert "DATABASE_URL" in lines[0]
    for name, value in {**REQUIRED, "RENDER_CONCURRENCY": "0"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:secret@db:5432/bot")
    assert Settings(_env_file=None).render_concurrency == 0  # type: ignore[call-arg]


def test_missing_ffmpeg_binary_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _errors(monkeypatch, **REQUIRED, FFMPEG_BINARY="/nonexistent/ffmpeg")
    assert lines == ["FFMPEG_BINARY: must be the path of an executable ffmpeg"]


def test_webhook_mode_needs_secret_and_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _errors(monkeypatch, **REQUIRED, BOT_MODE="webhook")
    assert len(lines) == 1
    assert "WEBHOOK_SECRET is required" in lines[0]
    assert "PUBLIC_BASE_URL is required" in lines[0]


@pytest.mark.parametrize("provider", ["apikley", "sunoapi", "apibox", "vidgo"])
def test_hmac_key_with_a_provider_that_signs_nothing_is_refused(
    monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    lines = _errors(
        monkeypatch,
        **REQUIRED,
        MUSIC_API_PROVIDER=provider,
        MUSIC_API_WEBHOOK_HMAC_KEY="hmac-SECRET",
        HTTP_PORT="99999",
    )
    assert len(lines) == 2  # one line per problem
    [hmac_line] = [line for line in lines if line.startswith("MUSIC_API_WEBHOOK_HMAC_KEY: ")]
    assert f"must be unset with MUSIC_API_PROVIDER={provider}" in hmac_line
    assert "SECRET" not in " ".join(lines)


def test_hmac_key_with_kie_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**REQUIRED, "MUSIC_API_WEBHOOK_HMAC_KEY": "k"}.items():
        monkeypatch.setenv(name, value)
    settings = Settings()  # type: ignore[call-arg]
    assert settings.music_api_webhook_hmac_key is not None


def test_python_m_bot_with_bad_config_exits_2_without_traceback_or_secret(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_BOT_TOKEN": "123:abc-SECRET-TOKEN",
        "MUSIC_API_KEY": "sk-SECRET-KEY",
        "MUSIC_API_PROVIDER": "nope",
        "HTTP_PORT": "99999",
    }
    done = run_bot_once(env, tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr
    assert all(line.startswith("configuration error: ") for line in lines)
    assert "Traceback" not in done.stderr
    assert "SECRET" not in done.stderr + done.stdout


def test_python_m_bot_with_an_unusable_hmac_key_exits_2(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_BOT_TOKEN": "123:abc-SECRET-TOKEN",
        "MUSIC_API_KEY": "sk-SECRET-KEY",
        "MUSIC_API_PROVIDER": "vidgo",
        "MUSIC_API_WEBHOOK_HMAC_KEY": "hmac-SECRET",
    }
    done = run_bot_once(env, tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "configuration error: MUSIC_API_WEBHOOK_HMAC_KEY: must be unset with"
        " MUSIC_API_PROVIDER=vidgo: only kie signs its callbacks, so every callback would be"
        " refused"
    ]


def test_python_m_bot_with_a_database_url_that_is_not_postgres_exits_2(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_BOT_TOKEN": "123:abc-SECRET-TOKEN",
        "MUSIC_API_KEY": "sk-SECRET-KEY",
        "DATABASE_URL": "mysql://bot:SECRET-PW@db/bot",
    }
    done = run_bot_once(env, tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "configuration error: DATABASE_URL: must be empty (SQLite at DATABASE_PATH) or a"
        " postgresql:// URL, e.g. postgresql://user:password@host:5432/dbname"
    ]
    assert "SECRET" not in done.stderr + done.stdout
