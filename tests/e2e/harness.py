"""Runs the real bot (python-telegram-bot Application, web app, loops) against in-process fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.app import BotApp
from bot.config import Settings
from bot.domain import PROVIDER_FAMILY, JobState, Provider
from storage.jobs import Job, JobRepository, NewJob
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream

BOT_TOKEN = "123456:TEST-TOKEN"
API_KEY = "test-key"
PUBLIC_BASE_URL = "http://bot.test"
TASK_ID = "music-task-1"
AUDIO_ID = "audio-1"


def make_settings(tmp_path: Path, provider: Provider, **overrides: Any) -> Settings:
    """Settings for an in-process bot: fast polls, fake hosts, a temporary database."""
    values: dict[str, Any] = {
        "telegram_bot_token": BOT_TOKEN,
        "telegram_api_base_url": "http://telegram.test/bot",
        "telegram_api_file_url": "http://telegram.test/file/bot",
        "music_api_provider": provider,
        "music_api_key": API_KEY,
        "music_api_base_url": "http://upstream.test",
        "public_base_url": PUBLIC_BASE_URL,
        "database_path": tmp_path / "bot.sqlite3",
        "poll_interval_seconds": 0.05,
        "job_timeout_minutes": 5,
        "admin_user_ids": frozenset({999}),
        # The provider's own failures are what most tests look at; the fallback render
        # (RENDER_FALLBACK, on by default) has its own tests (tests/e2e/test_render_jobs.py).
        "render_fallback": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def direct_job(chat_id: int, token: str, **fields: Any) -> NewJob:
    """A job row written straight to the table (not through a command): `chat_id` is also its
    user, `token` its (fake) callback token hash, and `fields` override the rest."""
    values: dict[str, Any] = {
        "chat_id": chat_id,
        "thread_id": None,
        "user_id": chat_id,
        "command_message_id": 1,
        "status_message_id": None,
        "language": "en",
        "provider": "kie",
        "task_id": TASK_ID,
        "audio_id": AUDIO_ID,
        "author": None,
        "domain_name": None,
        "callback_token_hash": token,
        "next_poll_at": None,
    }
    return NewJob(**(values | fields))


@dataclass
class Harness:
    """One running bot plus the fakes it talks to."""

    app: BotApp
    telegram: FakeTelegram
    upstream: FakeUpstream
    web: httpx.AsyncClient
    settings: Settings

    @property
    def repo(self) -> JobRepository:
        """Direct access to the jobs table (reads only, for assertions)."""
        assert self.app.repo is not None
        return self.app.repo

    async def job(self, job_id: int = 1) -> Job:
        """The stored job."""
        job = await self.repo.get(job_id)
        assert job is not None
        return job

    async def wait_state(self, state: JobState, job_id: int = 1, timeout: float = 5.0) -> Job:
        """Wait until the job reaches `state` (polling the database, which has no events)."""
        async with asyncio.timeout(timeout):
            while (job := await self.repo.get(job_id)) is None or job.state is not state:
                await asyncio.sleep(0.01)
        return job

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait until the bot has nothing in hand and nothing due (twice, 20 ms apart): what
        a test then sees is all that will happen without a new event."""
        async with asyncio.timeout(timeout):
            calm = 0
            while calm < 2:
                calm = calm + 1 if await self.app.is_idle() else 0
                await asyncio.sleep(0.02)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.01)

    def status_text(self, chat_id: int) -> str:
        """The text of the bot's first message in `chat_id` (the status message), or ""."""
        messages = self.telegram.messages(chat_id)
        return str(messages[0].get("text", "")) if messages else ""

    async def submit(self, text: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Send `/video` as a private message; returns the update."""
        update = self.telegram.private_message(text or f"/video {TASK_ID} {AUDIO_ID}", **kwargs)
        self.telegram.push_update(update)
        return update

    async def video_task_id(self, job_id: int = 1) -> str:
        """The upstream's id of the job's video task, once submitted."""
        job = await self.wait_state(JobState.PENDING, job_id)
        assert job.video_task_id is not None
        return job.video_task_id


def new_fakes(provider: Provider) -> tuple[FakeTelegram, FakeUpstream]:
    """A fake Bot API and a fake upstream with one music task of two tracks."""
    telegram = FakeTelegram(token=BOT_TOKEN)
    upstream = FakeUpstream(
        PROVIDER_FAMILY[provider], api_key=API_KEY, public_base_url="http://upstream.test"
    )
    upstream.add_music_task(
        TASK_ID, tracks=[(AUDIO_ID, "Song A", 198.4), ("audio-2", "Song B", 201.0)]
    )
    return telegram, upstream


@asynccontextmanager
async def running_bot(
    tmp_path: Path,
    provider: Provider = Provider.KIE,
    *,
    fakes: tuple[FakeTelegram, FakeUpstream] | None = None,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """Start the whole bot against the fakes; stop it cleanly afterwards."""
    telegram, upstream = fakes or new_fakes(provider)
    settings = make_settings(tmp_path, provider, **overrides)
    upstream_transport = httpx.ASGITransport(app=upstream.app)
    app = BotApp(
        settings,
        telegram_transport=httpx.ASGITransport(app=telegram.app),
        upstream_transport=upstream_transport,
        cdn_transport=upstream_transport,
    )
    async with app:
        assert app.web is not None
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app.web), base_url=PUBLIC_BASE_URL
        ) as web:
            yield Harness(app=app, telegram=telegram, upstream=upstream, web=web, settings=settings)
