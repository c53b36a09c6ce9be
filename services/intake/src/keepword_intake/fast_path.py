"""POST /v1/messages for the common request, without FastAPI's per-request machinery.

Profiled under load, FastAPI's dependency solving, its body parsing (json.loads, then validation
of the Python objects) and its route wrappers took about half of a single POST's time. This ASGI
layer answers the common request itself — a valid `MessageIn` sent with a key made for `write` —
by the very step the route takes (`accept_message`), the body validated once, from its bytes, in
pydantic's core. Anything else (no key or a bad one, a body or a header that is not valid) goes
on to the FastAPI route with the body replayed, so every refusal is the route's own answer.

It sits inside RequestGuard (size and content type already checked) and RequestMetrics (which
counts its answers under the route's template, like the route's own).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from keepword_platform.auth.authenticator import ApiKeyAuthenticator
from keepword_platform.auth.grants import Scope
from keepword_platform.problems import Problem
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

from .api import Intake
from .contract import MessageIn
from .message_routes import accept_message

PATH = "/v1/messages"
_MESSAGE = TypeAdapter(MessageIn)
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # the route's own Idempotency-Key pattern


class MessageFastPath:
    """Answers a valid POST /v1/messages itself; hands everything else to `app`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        intake: Callable[[], Intake],
        authenticator: Callable[[], ApiKeyAuthenticator],
        route: object,
    ) -> None:
        self.app = app
        self._intake = intake
        self._authenticator = authenticator
        self._route = route  # what RequestMetrics reads the template from

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        scope["route"] = self._route  # counted under the route's template, even if it fails
        answer = None if more is not None else await self._answer(scope, body)
        if answer is None:
            await self.app(scope, _replayed(body, more, receive), send)
            return
        await answer(scope, receive, send)

    async def _answer(self, scope: AsgiScope, body: bytes) -> Response | None:
        """The answer to a request this path takes; None for the route to answer it."""
        authorization = idempotency_key = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"idempotency-key" and idempotency_key is None:
                idempotency_key = value.decode("latin-1")
        if idempotency_key is not None and not _KEY.match(idempotency_key):
            return None
        try:
            grant = await self._authenticator().grant_of(authorization)
        except Problem:
            return None
        if not grant.allows(Scope.WRITE):
            return None
        try:
            message = _MESSAGE.validate_json(body)
        except ValidationError:
            return None
        try:
            return await accept_message(self._intake(), message, grant.name, idempotency_key)
        except Problem as problem:
            return problem.response(PATH)


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body; or, if the client went away first, what came and that message."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replayed(body: bytes, ended: Message | None, receive: Receive) -> Receive:
    """`receive` as if the body had not been read yet."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    if ended is not None:
        pending = [ended]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
