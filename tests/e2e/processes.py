"""Running `python -m bot` and ASGI fakes as real processes and servers on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from starlette.types import ASGIApp

REPO_ROOT = Path(__file__).resolve().parents[2]


def bot_process_env(
    workdir: Path,
    *,
    token: str,
    api_key: str,
    telegram_url: str,
    upstream_url: str,
    bot_port: int,
    **overrides: str,
) -> dict[str, str]:
    """The environment of `python -m bot` (this checkout's code) against the fakes on
    loopback, with callbacks on; `overrides` add or replace variables."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        # This checkout's code, not whichever one the virtualenv has installed.
        "PYTHONPATH": str(REPO_ROOT),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": f"{telegram_url}/bot",
        "TELEGRAM_API_FILE_URL": f"{telegram_url}/file/bot",
        "MUSIC_API_PROVIDER": "kie",
        "MUSIC_API_KEY": api_key,
        "MUSIC_API_BASE_URL": upstream_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{bot_port}",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(bot_port),
        "DATABASE_PATH": str(workdir / "bot.sqlite3"),
        "POLL_INTERVAL_SECONDS": "0.2",
        "LOG_LEVEL": "INFO",
        **overrides,
    }


def run_bot_once(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` (this checkout's code) to its end: for starts that must stop at once."""
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=cwd,
        env={"PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    server.capture_signals = _no_signals  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class _no_signals:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


class BotProcess:
    """Starts and stops `python -m bot` with a given environment."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.process: asyncio.subprocess.Process | None = None
        self.log = cwd / "bot.log"

    async def start(self, health_url: str) -> None:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=self.cwd, env=self.env, stdout=log, stderr=log
            )
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                try:
                    if (await client.get(health_url)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert self.process.returncode is None, self.log.read_text()
                await asyncio.sleep(0.05)
        raise AssertionError("bot did not become healthy:\n" + self.log.read_text())

    @property
    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self.process is not None and self.process.returncode is None

    async def stop(self, sig: signal.Signals, timeout: float = 10.0) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def kill(self) -> None:
        """kill -9, and reap it."""
        assert self.process is not None
        self.process.kill()
        await self.process.wait()
