"""Backoff, callback tokens, language choice and log redaction."""

import io
import logging
import random

import pytest

from bot.config import Settings
from bot.engine.backoff import Backoff
from bot.engine.callback_tokens import (
    CallbackTokens,
    callback_url,
    hash_token,
    placeholder_hash,
    token_matches,
)
from bot.logs import REDACTED, configure_logging
from bot.text.texts import _CATALOGUE, LANGUAGES, language_for, text


def test_backoff_grows_and_is_capped_with_jitter() -> None:
    backoff = Backoff(base=1.0, cap=10.0, factor=2.0, jitter=0.2)
    rng = random.Random(1)
    delays = [backoff.delay(n, rng) for n in range(8)]
    assert 0.8 <= delays[0] <= 1.2
    assert 3.2 <= delays[2] <= 4.8
    assert all(d <= 12.0 for d in delays)
    assert 8.0 <= delays[7] <= 12.0


def test_backoff_survives_huge_attempt_numbers() -> None:
    assert Backoff(base=1.0, cap=5.0).delay(10**9, random.Random(0)) <= 6.0


def test_callback_tokens_are_stable_per_job_and_distinct() -> None:
    tokens = CallbackTokens("secret", salt="salt")
    assert tokens.token_for(1) == tokens.token_for(1)
    assert tokens.token_for(1) != tokens.token_for(2)
    assert CallbackTokens("other", salt="salt").token_for(1) != tokens.token_for(1)
    assert CallbackTokens("secret", salt="pepper").token_for(1) != tokens.token_for(1)
    assert len(tokens.token_for(1)) >= 40


def test_token_hash_matches_only_its_token() -> None:
    token = CallbackTokens("s", salt="salt").token_for(7)
    assert token_matches(token, hash_token(token))
    assert not token_matches(token + "x", hash_token(token))
    assert not token_matches(token, placeholder_hash())


def test_callback_url_without_public_base_is_never_reachable() -> None:
    assert callback_url(None, "tok").startswith("https://")
    assert ".invalid/" in callback_url(None, "tok")
    assert callback_url("https://bot.example/", "tok") == "https://bot.example/callbacks/tok"


@pytest.mark.parametrize(
    ("code", "lang"), [("ru", "ru"), ("ru-RU", "ru"), ("en", "en"), ("uk", "en"), (None, "en")]
)
def test_language_follows_language_code(code: str | None, lang: str) -> None:
    assert language_for(code) == lang


def test_catalogue_has_every_language_for_every_key() -> None:
    for key, entry in _CATALOGUE.items():
        assert set(entry) == set(LANGUAGES), key
    assert "Готово" in text("ru", "status_delivered")


def test_log_lines_never_carry_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token="123456:AAE-bot-token-value",
        music_api_key="sk-music-key-value",
        database_url="postgresql://bot:pg-pass-value@db.internal:5432/bot",
        log_level="DEBUG",
    )
    stream = io.StringIO()
    handler = configure_logging(settings, stream)
    try:
        logger = logging.getLogger("telegram.ext.test")
        logger.debug("POST https://api.telegram.org/bot%s/getMe", "123456:AAE-bot-token-value")
        try:
            raise RuntimeError("key sk-music-key-value refused")
        except RuntimeError:
            logger.exception("failed")
        logger.info("connecting to %s", "postgresql://bot:pg-pass-value@db.internal:5432/bot")
        logger.warning('password "pg-pass-value" refused')
    finally:
        logging.getLogger().removeHandler(handler)
    output = stream.getvalue()
    assert "AAE-bot-token-value" not in output
    assert "sk-music-key-value" not in output
    assert "pg-pass-value" not in output
    assert output.count(REDACTED) >= 4


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_names_every_public_command(language: str) -> None:
    from handlers.menu import PUBLIC_COMMANDS  # noqa: PLC0415 - keeps this module's imports pure

    help_text = text(language, "help")
    for command in (*PUBLIC_COMMANDS, "credits"):
        if command not in ("start", "help"):
            assert f"/{command}" in help_text, command
