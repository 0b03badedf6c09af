"""A TCP relay on loopback that can cut the network without closing anything: after
`partition()` bytes stop flowing both ways and no side learns that the other is gone, as when
a cable is pulled or a machine freezes."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType


class TcpRelay:
    """Forwards every connection made to `port` to `target_host:target_port`."""

    def __init__(self, target_host: str, target_port: int, *, port: int = 0) -> None:
        self._target = (target_host, target_port)
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self.port = port

    async def __aenter__(self) -> TcpRelay:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._pumps:
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    def partition(self) -> None:
        """From now on nothing is forwarded and nothing is closed."""
        self._flowing.clear()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection(*self._target)
        self._writers += [client_out, server_out]
        for reader, writer in ((client_in, server_out), (server_in, client_out)):
            task = asyncio.create_task(self._pump(reader, writer))
            self._pumps.add(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                await self._flowing.wait()  # partitioned: held here for good, i.e. lost
                writer.write(data)
                await writer.drain()
        if self._flowing.is_set():  # an orderly close passes on, but not across a partition
            writer.close()
