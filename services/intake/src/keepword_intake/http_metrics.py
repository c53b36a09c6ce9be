"""Counts every API answer by route template and status (pure ASGI, no body buffering)."""

from __future__ import annotations

import traceback

import structlog
from keepword_platform.problems import Problem
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import REQUESTS

log = structlog.get_logger(__name__)


def _internal_error() -> Problem:
    return Problem(
        500,
        "internal-error",
        "Internal Server Error",
        "The request failed unexpectedly; it may or may not have been accepted. "
        "Retry it with the same Idempotency-Key.",
    )


class RequestMetrics:
    """Increments `keepword_intake_requests_total{route,status}` for each `/v1/` request.

    An error no handler answered becomes a problem+json 500 here, so that it is counted like
    any other answer (left to the server, it would be plain text and never counted).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        status = 500
        started = False

        async def send_and_note(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception as error:
            if started:  # part of the answer is out: nothing better to send, the server logs it
                raise
            # The exception's type and place only: its message could quote the request's data.
            where = traceback.extract_tb(error.__traceback__)[-1]
            log.error(
                "unhandled error",
                path=scope.get("path"),
                error_type=type(error).__name__,
                at=f"{where.filename}:{where.lineno}",
            )
            status = 500
            await _internal_error().response(scope.get("path"))(scope, receive, send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            REQUESTS.labels(route=f"{scope['method']} {template}", status=str(status)).inc()
