"""Limits on the request head that uvicorn's httptools protocol lacks.

uvicorn bounds neither the size of a request's line and headers (httptools buffers them all)
nor the time they take to arrive (its keep-alive timer runs only between requests), so a client
could hold memory with one huge header or a connection with one byte every minute. The protocol
here, uvicorn's own with two additions, answers 431 and closes once a head grows past its limit,
and closes a connection whose head has not all arrived within its time: counted from when the
connection opened, or from a later request's first byte on a kept-alive connection.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from prometheus_client import Counter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

CLOSED = Counter(
    "keepword_http_connections_closed_total",
    "Connections the server closed for the request head: too large or too slow.",
    ["reason"],
)
_TOO_LARGE = b"Request header fields too large"
_TOO_SLOW = b"Request header fields did not arrive in time"


def _response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a size and a time limit on each request head."""

    max_head_bytes: ClassVar[int] = 16 * 1024
    head_timeout_seconds: ClassVar[float] = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = False
        self._head_bytes = 0  # of the chunks after which the head was still incomplete
        self._head_clock: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._reading_head or self.transport.is_closing():
            return
        # Counted per chunk once parsed: a chunk that completes the head (with a body behind
        # it) is never counted, so only a head still incomplete can cross the limit.
        self._head_bytes += len(data)
        if self._head_bytes > self.max_head_bytes:
            self._close("too_large", _response(b"431 Request Header Fields Too Large", _TOO_LARGE))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._reading_head:  # a later request on a kept-alive connection
            self._expect_head()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._stop_clock()
        super().on_headers_complete()

    def _expect_head(self) -> None:
        self._reading_head = True
        self._head_bytes = 0
        self._stop_clock()
        self._head_clock = self.loop.call_later(self.head_timeout_seconds, self._head_too_slow)

    def _stop_clock(self) -> None:
        if self._head_clock is not None:
            self._head_clock.cancel()
            self._head_clock = None

    def _head_too_slow(self) -> None:
        self._head_clock = None
        if self.transport.is_closing():
            return
        # A client that sent part of a head is told why; one that sent nothing is just closed
        # (a browser's spare connection, opened in advance).
        answer = _response(b"408 Request Timeout", _TOO_SLOW) if self._head_bytes else b""
        self._close("too_slow", answer)

    def _close(self, reason: str, answer: bytes) -> None:
        self._reading_head = False
        self._stop_clock()
        CLOSED.labels(reason=reason).inc()
        if answer and (self.cycle is None or self.cycle.response_complete):
            self.transport.write(answer)  # never inside a response still being written
        self.transport.close()


def guarded_protocol(
    *, max_head_bytes: int, head_timeout_seconds: float
) -> type[HttpToolsProtocol]:
    """The protocol class for uvicorn's `http` option, with these limits."""
    return type(
        "GuardedHttpProtocol",
        (GuardedHttpProtocol,),
        {"max_head_bytes": max_head_bytes, "head_timeout_seconds": head_timeout_seconds},
    )
