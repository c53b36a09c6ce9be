"""The HTTP server's limits, on a real uvicorn server configured as every service's is
(`server_config`): a huge request head gets 431, a slow or silent client is closed, an idle
kept-alive connection is closed, and a request beyond the connection limit gets 503; the server
answers normally afterwards."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from keepword_platform.service import server_config
from keepword_platform.settings import KeepwordSettings
from prometheus_client import REGISTRY

SAFETY_SECONDS = 20  # only so that a broken server fails the test instead of hanging it


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def hello() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.post("/")
    async def size(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    return app


@contextlib.contextmanager
def _server(**limits: Any) -> Iterator[int]:
    settings = KeepwordSettings.model_construct(**limits)
    server = uvicorn.Server(server_config(_app(), settings, port=0))
    thread = threading.Thread(target=server.run, daemon=True)  # no signal handlers off main
    thread.start()
    deadline = time.monotonic() + SAFETY_SECONDS
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(SAFETY_SECONDS)


def _connect(port: int) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=SAFETY_SECONDS)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def _read_all(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := conn.recv(65536):
            received += chunk
    return received


def _read_response(conn: socket.socket) -> bytes:
    """One response with a Content-Length body, leaving the connection open."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = conn.recv(65536)
        assert chunk, f"closed after {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


def _get(port: int) -> bytes:
    with _connect(port) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return _read_all(conn)


def _closed(reason: str) -> float:
    value = REGISTRY.get_sample_value("keepword_http_connections_closed_total", {"reason": reason})
    return value or 0.0


def test_a_16_mib_header_gets_431_and_the_server_stays_up() -> None:
    before = _closed("too_large")
    with _server(http_max_header_bytes=16 * 1024) as port:
        with _connect(port) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: ")
            sent = 0
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                while sent < 16 * 1024 * 1024:  # until the server hangs up
                    conn.sendall(b"a" * 65536)
                    sent += 65536
            answer = _read_all(conn)

        assert sent < 16 * 1024 * 1024  # refused long before the end
        # The 431 may be lost to the reset of a socket closed with unread bytes; the count not.
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
        assert _closed("too_large") == before + 1
        assert _get(port).startswith(b"HTTP/1.1 200 ")


def test_headers_within_the_limit_and_a_large_body_are_served() -> None:
    with _server(http_max_header_bytes=16 * 1024) as port, _connect(port) as conn:
        body = b"b" * (4 * 1024 * 1024)
        conn.sendall(
            b"POST / HTTP/1.1\r\nHost: t\r\nX-Fine: " + b"f" * (12 * 1024) + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
        )
        answer = _read_all(conn)

    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(str(len(body)).encode())


def test_a_slow_head_is_answered_408_and_closed() -> None:
    before = _closed("too_slow")
    with _server(http_header_timeout_seconds=0.5) as port:
        with _connect(port) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")  # and never the blank line
            answer = _read_all(conn)

        assert answer.startswith(b"HTTP/1.1 408 ")
        assert _closed("too_slow") == before + 1
        assert _get(port).startswith(b"HTTP/1.1 200 ")


def test_a_silent_client_and_a_slow_second_request_are_closed() -> None:
    before = _closed("too_slow")
    with _server(http_header_timeout_seconds=0.5, http_keep_alive_seconds=60) as port:
        with _connect(port) as silent:
            assert _read_all(silent) == b""  # nothing sent, nothing said: closed
        with _connect(port) as kept:
            kept.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            assert _read_response(kept).startswith(b"HTTP/1.1 200 ")
            kept.sendall(b"GET / HTTP/1.1\r\n")  # the next request starts, then stalls
            assert _read_all(kept).startswith(b"HTTP/1.1 408 ")

    assert _closed("too_slow") == before + 2


def test_an_idle_kept_alive_connection_is_closed() -> None:
    with _server(http_keep_alive_seconds=1) as port, _connect(port) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert _read_response(conn).startswith(b"HTTP/1.1 200 ")
        assert _read_all(conn) == b""


@pytest.mark.parametrize("limit", [2, 3])
def test_a_request_beyond_the_connection_limit_gets_503_at_once(limit: int) -> None:
    with _server(http_max_connections=limit, http_keep_alive_seconds=60) as port:
        held = [_connect(port) for _ in range(limit)]
        try:
            for conn in held:  # each of `limit` connections is served, and stays open
                conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                assert _read_response(conn).startswith(b"HTTP/1.1 200 ")

            assert _get(port).startswith(b"HTTP/1.1 503 ")  # one more: refused, not queued

            held.pop().close()
            answers: list[bytes] = []  # the server sees the close a moment later: ask until served
            deadline = time.monotonic() + SAFETY_SECONDS
            while not answers or not answers[-1].startswith(b"HTTP/1.1 200 "):
                assert time.monotonic() < deadline, answers
                answers.append(_get(port))
            assert all(a.startswith((b"HTTP/1.1 503 ", b"HTTP/1.1 200 ")) for a in answers)
        finally:
            for conn in held:
                conn.close()
