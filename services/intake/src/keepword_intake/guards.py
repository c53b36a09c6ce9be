"""ASGI guards in front of the API: body size (413) and content type (415).

They run before FastAPI reads a body, so an oversized request is refused without buffering it,
and a chunked request that grows past the limit is cut off as soon as it does.
"""

from __future__ import annotations

from keepword_platform.problems import Problem
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _BodyTooLarge(HTTPException):
    """Raised while the app reads the body; an HTTPException so FastAPI passes it through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds {limit} bytes.")


def _too_large(limit: int) -> Problem:
    return Problem(
        413, "body-too-large", "Content Too Large", f"The request body exceeds {limit} bytes."
    )


class RequestGuard:
    """Refuse API writes that are too large or not JSON, with problem documents."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_batch_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_batch_body_bytes = max_batch_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "POST" or not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        limit = self.max_batch_body_bytes if path.endswith(":batch") else self.max_body_bytes
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip()
        if content_type != "application/json" and not content_type.endswith("+json"):
            problem = Problem(
                415,
                "unsupported-media-type",
                "Unsupported Media Type",
                "Send the body as application/json.",
            )
            await problem.response(path)(scope, receive, send)
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit).response(path)(scope, receive, send)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if started:
                raise
            await _too_large(limit).response(path)(scope, receive, send)
