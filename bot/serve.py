"""`python -m bot`'s process: uvicorn serving the bot's endpoint, SIGTERM/SIGINT handling, and the
exit code that tells Docker or systemd to restart a bot whose part kept failing (§5.3)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator

import uvicorn

from bot.app import BotApp, LeadershipLost
from bot.config import Settings
from bot.health import HealthBoard

log = logging.getLogger(__name__)

# How long a stop waits for HTTP requests in progress (callbacks answer within milliseconds);
# then uvicorn cancels them. Together with the loops' grace the process exits within 10 s.
HTTP_STOP_GRACE_SECONDS = 1  # uvicorn takes whole seconds
EXIT_STOPPED = 0
EXIT_GAVE_UP = 1  # a part failed for too long (§5.3) or leadership was lost (§5.4): restart me


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


async def run(settings: Settings, *, health: HealthBoard | None = None) -> int:
    """Run until SIGTERM or SIGINT (exit code 0) or until the watchdog gives up on a part
    (exit code 1), then stop intake, finish in-flight work and close."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sock = bind_socket(settings.http_host, settings.http_port)
    async with contextlib.AsyncExitStack() as stack:
        # A start still waiting for Telegram (docs/architecture.md §13.8) ends at SIGTERM too.
        starting = asyncio.create_task(stack.enter_async_context(BotApp(settings, health=health)))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, LeadershipLost):
                await starting
            log.info("stopped before the start was complete")
            return EXIT_STOPPED
        try:
            app = starting.result()
        except LeadershipLost:
            log.info("stopped: deposed before the start was complete")
            return EXIT_GAVE_UP
        code = await _serve(app, sock, stop)
    log.info("stopped")
    return code


async def _serve(app: BotApp, sock: socket.socket, stop: asyncio.Event) -> int:
    """Serve the bot's endpoint until `stop` is set or a part gives up (§5.3), then let
    uvicorn finish its requests; return the process exit code."""
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
    gave_up = asyncio.create_task(app.wait_given_up())
    await asyncio.wait({serving, stopped, gave_up}, return_when=asyncio.FIRST_COMPLETED)
    log.info("stopping")
    server.should_exit = True
    await serving
    stopped.cancel()
    gave_up.cancel()
    return EXIT_GAVE_UP if app.given_up is not None else EXIT_STOPPED
