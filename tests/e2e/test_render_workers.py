"""Renders on render workers (docs/architecture.md §8.8), against the real PostgreSQL and real
ffmpeg on short generated clips: a bot with RENDER_CONCURRENCY=0 queues, `python -m bot worker`
processes render, show the progress and post the video once; a worker killed -9 mid-render
leaves no ffmpeg behind and another worker finishes the render; Cancel reaches the remote
worker's ffmpeg within 5 s; a bot with RENDER_CONCURRENCY=1 and no worker renders itself.

The bot runs in-process (tests/e2e/harness.py) talking to the fakes through ASGI; the workers
are real processes talking to the same fakes served on loopback.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from bot.domain import JobState
from tests.e2e.harness import API_KEY, AUDIO_ID, BOT_TOKEN, TASK_ID, Harness
from tests.e2e.processes import serve
from tests.e2e.workers import (
    busy_worker,
    scaled_out,
    spawn_worker,
    start_worker,
    worker_env,
)
from tests.fakes.telegram import FakeTelegram
from tests.postgres_server import throwaway_database

USER = 4242
RENDER_TIMEOUT = 60.0
CANCEL_LIMIT_SECONDS = 5.0  # the bound from the Cancel tap to ffmpeg gone


def _is_render(telegram: FakeTelegram) -> bool:
    return any("%" in str(c.params.get("text", "")) for c in telegram.calls_to("editMessageText"))


async def engine_statuses(h: Harness) -> list[str]:
    """The status of every engine job, oldest first."""
    assert h.app.db is not None
    rows = await h.app.db.fetch_all("SELECT status::text FROM procrastinate_jobs ORDER BY id")
    return [row[0] for row in rows]


async def wait_engine(h: Harness, expected: list[str], timeout: float = 10.0) -> None:
    """Wait until the engine jobs have the `expected` statuses (the worker records a task's
    end just after the task)."""
    async with asyncio.timeout(timeout):
        while await engine_statuses(h) != expected:
            await asyncio.sleep(0.05)


async def test_a_worker_renders_shows_progress_and_posts_once(tmp_path: Path) -> None:
    async with scaled_out(tmp_path, workers=1) as (h, (worker,)):
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT)
        job = await h.wait_state(JobState.DELIVERED, timeout=10)
        assert job.render_fence == 1
        assert len(h.telegram.calls_to("sendVideo")) == 1
        assert _is_render(h.telegram)  # the worker's progress edits
        assert b"render worker worker-" in worker.log.read_bytes()
        assert b"job 1 rendered" in worker.log.read_bytes()
        await wait_engine(h, ["succeeded"])
        await h.settle(timeout=10)
        assert len(h.telegram.calls_to("sendVideo")) == 1


async def test_a_bot_with_render_concurrency_renders_itself(tmp_path: Path) -> None:
    async with scaled_out(tmp_path, workers=0, render_concurrency=1) as (h, _):
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT)
        job = await h.wait_state(JobState.DELIVERED, timeout=10)
        assert job.render_fence == 1
        await wait_engine(h, ["succeeded"])


async def test_a_killed_worker_leaves_no_ffmpeg_and_another_one_finishes(
    tmp_path: Path,
) -> None:
    async with scaled_out(tmp_path, workers=2, media_seconds=12.0) as (h, workers):
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        victim = await busy_worker(workers, RENDER_TIMEOUT)
        (other,) = [w for w in workers if w is not victim]
        victim.process.kill()  # kill -9: no chance to stop its ffmpeg itself
        await victim.process.wait()
        killed_at = time.monotonic()
        async with asyncio.timeout(5):  # the parent-death signal ends it at once
            while victim.ffmpeg():
                await asyncio.sleep(0.05)
        await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT)
        job = await h.wait_state(JobState.DELIVERED, timeout=10)
        assert job.render_fence == 2  # the second attempt, fenced apart from the first
        assert b"job 1 rendered" in other.log.read_bytes()
        assert time.monotonic() - killed_at < RENDER_TIMEOUT
        await h.settle(timeout=10)
        assert len(h.telegram.calls_to("sendVideo")) == 1
        assert not victim.ffmpeg()
        assert not other.ffmpeg()


async def test_cancel_reaches_the_remote_workers_ffmpeg_within_5_s(tmp_path: Path) -> None:
    async with scaled_out(tmp_path, workers=1, media_seconds=30.0) as (h, (worker,)):
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        await h.telegram.wait_for(
            "editMessageText", lambda c: "%" in c.params["text"], timeout=RENDER_TIMEOUT
        )
        async with asyncio.timeout(RENDER_TIMEOUT):
            while not worker.ffmpeg():
                await asyncio.sleep(0.05)
        status = h.telegram.messages(USER)[-1]
        data = status["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        h.telegram.push_update(h.telegram.callback_query(data, message=status, user_id=USER))
        tapped = time.monotonic()
        async with asyncio.timeout(CANCEL_LIMIT_SECONDS):
            while worker.ffmpeg():
                await asyncio.sleep(0.05)
        took = time.monotonic() - tapped
        job = await h.wait_state(JobState.FAILED)
        assert job.error_kind == "cancelled"
        await h.wait_until(lambda: "Cancelled" in h.status_text(USER), timeout=10)
        assert h.telegram.calls_to("sendVideo") == []
        assert took < CANCEL_LIMIT_SECONDS
        assert worker.process.returncode is None  # the worker lives on


async def test_a_worker_needs_postgres_not_the_provider_key(tmp_path: Path) -> None:
    env = worker_env(tmp_path, "", "http://127.0.0.1:9", "http://127.0.0.1:9")
    del env["DATABASE_URL"]
    without = await _spawn_and_wait(tmp_path / "no-db", env)
    assert without[0] == 2
    lines = without[1].strip().splitlines()
    assert len(lines) == 1
    assert "DATABASE_URL" in lines[0]
    assert "PostgreSQL" in lines[0]


async def _spawn_and_wait(folder: Path, env: dict[str, str]) -> tuple[int, str]:
    folder.mkdir(parents=True)
    process = await spawn_worker(folder, env)
    code = await asyncio.wait_for(process.wait(), 30)
    return code, (folder / "worker.log").read_text()


async def test_a_worker_without_provider_key_starts_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    telegram = FakeTelegram(token=BOT_TOKEN)
    with throwaway_database() as url:
        async with serve(telegram.app) as telegram_url:
            env = worker_env(tmp_path / "w", url, telegram_url, "http://127.0.0.1:9")
            assert "MUSIC_API_KEY" not in env
            assert API_KEY not in env.values()
            worker = await start_worker(tmp_path / "w", env)
            started = time.monotonic()
            worker.process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(worker.process.wait(), 10) == 0
            assert time.monotonic() - started < 10


async def test_a_stopped_worker_gives_its_render_to_another_one(tmp_path: Path) -> None:
    async with scaled_out(tmp_path, workers=2, media_seconds=12.0) as (h, workers):
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        stopping = await busy_worker(workers, RENDER_TIMEOUT)
        (other,) = [w for w in workers if w is not stopping]
        stopping.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(stopping.process.wait(), 10) == 0
        assert not stopping.ffmpeg()
        await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT)
        job = await h.wait_state(JobState.DELIVERED, timeout=10)
        assert job.render_fence == 2
        assert b"job 1 rendered" in other.log.read_bytes()
        assert b"job 1 rendered" not in stopping.log.read_bytes()
        await h.settle(timeout=10)
        assert len(h.telegram.calls_to("sendVideo")) == 1


async def test_the_worker_retries_a_failed_upload_itself(tmp_path: Path) -> None:
    async with scaled_out(tmp_path, workers=1) as (h, (worker,)):
        h.telegram.fail_next("sendVideo", error_code=502, description="Bad Gateway")
        await h.submit(f"/render {TASK_ID} {AUDIO_ID}", user_id=USER)
        await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT)
        job = await h.wait_state(JobState.DELIVERED, timeout=10)
        assert job.delivery_attempts == 2
        assert b"job 1 delivered" in worker.log.read_bytes()  # not the bot's delivery loop
        await h.settle(timeout=10)
        assert len(h.telegram.calls_to("sendVideo")) == 2


async def test_the_worker_tells_the_chat_about_a_render_it_could_not_make(
    tmp_path: Path,
) -> None:
    async with scaled_out(tmp_path, workers=1) as (h, _):
        media = h.telegram.user_file(
            "voice", b"OggS-not-audio", file_name="", mime_type="audio/ogg"
        )
        h.telegram.push_update(h.telegram.audio_message(media, kind="voice", user_id=USER))
        job = await h.wait_state(JobState.FAILED, timeout=RENDER_TIMEOUT)
        assert job.error_kind == "source_unavailable"
        # Told by the worker at once (the bot's delivery loop looks only every minute here).
        await h.wait_until(lambda: "could not get the track's audio" in h.status_text(USER))
        await wait_engine(h, ["succeeded"])
        assert h.telegram.calls_to("sendVideo") == []
