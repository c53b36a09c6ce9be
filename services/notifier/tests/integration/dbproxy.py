"""A TCP proxy in front of PostgreSQL that a test can cut: every connection through it drops and
new ones are refused until it is restored — the database gone away, as the service sees it,
without stopping the PostgreSQL server other tests share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

from keepword_testkit.processes import free_port


class DatabaseProxy:
    """Forwards a local port to the database of `database_url`."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.port = free_port()
        netloc = parts.netloc.rsplit("@", 1)
        auth = f"{netloc[0]}@" if len(netloc) == 2 else ""
        self.url = urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{self.port}"))
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.cuts = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        """The database goes away: connections drop, new ones are refused."""
        self.cuts += 1
        await self._stop()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def restore(self) -> None:
        """The database is back."""
        await self.start()

    async def close(self) -> None:
        await self._stop()

    async def _serve(self, client_in: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        generation = self.cuts
        try:
            server_in, server = await asyncio.open_connection(*self._target)
        except OSError:
            client.transport.abort()
            return
        if self.cuts != generation or self._server is None:  # cut while this one was connecting
            client.transport.abort()
            server.transport.abort()
            return
        self._open.update((client, server))
        await asyncio.gather(_pipe(client_in, server), _pipe(server_in, client))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


@asynccontextmanager
async def proxied(database_url: str) -> AsyncIterator[DatabaseProxy]:
    """A running proxy to `database_url`, closed after the block."""
    proxy = DatabaseProxy(database_url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
