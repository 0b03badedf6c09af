"""`python -m bot`'s process: uvicorn serving the bot's endpoint, and SIGTERM/SIGINT handling."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator

import uvicorn

from bot.app import BotApp
from bot.config import Settings

log = logging.getLogger(__name__)

# How long a stop waits for HTTP requests in progress (callbacks answer within milliseconds);
# then uvicorn cancels them. Together with the loops' grace the process exits within 10 s.
HTTP_STOP_GRACE_SECONDS = 1  # uvicorn takes whole seconds


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `run` owns SIGTERM/SIGINT (uvicorn would
    re-raise the signal after `serve()` returns and kill the process before cleanup)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the HTTP endpoint's socket ourselves, so a busy port is a clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


async def run(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then stop intake, finish in-flight work and close."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sock = bind_socket(settings.http_host, settings.http_port)
    async with contextlib.AsyncExitStack() as stack:
        # A start still waiting for Telegram (docs/architecture.md §13.8) ends at SIGTERM too.
        starting = asyncio.create_task(stack.enter_async_context(BotApp(settings)))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            log.info("stopped before the start was complete")
            return
        await _serve(starting.result(), sock, stop)
    log.info("stopped")


async def _serve(app: BotApp, sock: socket.socket, stop: asyncio.Event) -> None:
    """Serve the bot's endpoint until `stop` is set, then let uvicorn finish its requests."""
    assert app.web is not None
    config = uvicorn.Config(
        app.web,
        log_config=None,
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=HTTP_STOP_GRACE_SECONDS,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    log.info("HTTP endpoint on %s:%s", *sock.getsockname()[:2])
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
    log.info("stopping")
    server.should_exit = True
    await serving
    stopped.cancel()
