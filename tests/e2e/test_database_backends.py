"""DATABASE_URL picks the database: empty keeps SQLite and never loads the PostgreSQL driver or
the task engine; a postgresql:// URL puts every table in PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx

from bot.domain import JobState
from storage.postgres_db import PostgresDatabase
from tests.e2e.harness import running_bot
from tests.postgres_server import throwaway_database

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: import every module of the bot (the PostgreSQL-only modules
# excepted: the adapter, the leader election, the render worker's engine and process), start
# the whole bot on SQLite against the fakes, then list what got loaded.
_EMBEDDED_RUN = textwrap.dedent(
    """
    import asyncio, importlib, pkgutil, sys
    from pathlib import Path

    import bot, handlers, storage

    for package in (bot, handlers, storage):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            postgres_only = module.name in (
                "storage.postgres_db",
                "bot.leadership",
                "bot.wakeups_pg",
                "bot.worker.engine",
                "bot.worker.process",
            )
            if not postgres_only and not module.name.endswith("__main__"):
                importlib.import_module(module.name)

    from tests.e2e.harness import running_bot

    async def start_and_stop() -> None:
        async with running_bot(Path(sys.argv[1])) as harness:
            assert harness.app.db is not None and harness.app.db.engine.name == "sqlite"
            assert (await harness.web.get("/healthz")).status_code == 200

    asyncio.run(start_and_stop())
    loaded = sorted(
        name for name in sys.modules
        if name.split(".")[0] in ("psycopg", "psycopg_pool", "psycopg_binary", "procrastinate")
    )
    print("loaded:", ",".join(loaded))
    """
)


def test_the_embedded_default_never_imports_postgres_or_the_task_engine(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter with a fixed script
        [sys.executable, "-c", _EMBEDDED_RUN, str(tmp_path)],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "loaded:", done.stdout
    assert (tmp_path / "bot.sqlite3").is_file()


async def test_with_a_database_url_the_bot_keeps_its_tables_in_postgres(tmp_path: Path) -> None:
    with throwaway_database() as url:
        async with running_bot(tmp_path, database_url=url) as harness:
            assert harness.app.db is not None
            assert harness.app.db.engine.name == "postgresql"
            health = await harness.web.get("/healthz")
            assert health.status_code == 200, health.text
            assert health.json()["parts"]["database"]["healthy"] is True
            # A whole job on PostgreSQL: command, create, callback, video, delivered once.
            await harness.submit(user_id=4242)
            video_task = await harness.video_task_id()
            harness.upstream.complete(video_task)
            response = await harness.upstream.fire_callback(video_task, harness.web)
            assert response.status_code == 200
            await harness.telegram.wait_for("sendVideo")
            await harness.wait_state(JobState.DELIVERED)
        assert not (tmp_path / "bot.sqlite3").exists()  # nothing went to SQLite
        async with PostgresDatabase.connect(url) as db:
            salt = await db.fetch_one("SELECT value FROM meta WHERE key = 'callback_token_salt'")
            assert salt is not None  # written by the bot's start on PostgreSQL
            assert isinstance(httpx.URL(url).host, str)
