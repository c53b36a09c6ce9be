"""RFC 9457 problem documents for every error a Keepword HTTP API returns."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from pydantic_core import ErrorDetails
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEMS = Counter(
    "keepword_http_problems_total",
    "Requests answered with a problem document, by reason.",
    ["reason"],
)

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://keepword.example/problems/"


class Problem(Exception):
    """An error the client gets as a problem document."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}

    def response(self, instance: str | None = None) -> JSONResponse:
        """The problem as an HTTP response (and one more reject counted under its slug)."""
        PROBLEMS.labels(reason=self.slug).inc()
        body: dict[str, Any] = {
            "type": _TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return JSONResponse(
            body, status_code=self.status, headers=self.headers, media_type=PROBLEM_JSON
        )


def field_errors(errors: Sequence[ErrorDetails] | Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic's errors as `{field, message}` pairs a client can show next to its inputs.

    Locations start at the request body, as FastAPI reports them (`("body", "customer", ...)`);
    only that leading "body" is dropped, so a field named `body` keeps its name.
    """
    found = []
    for error in errors:
        loc = tuple(error["loc"])
        location = [str(part) for part in (loc[1:] if loc[:1] == ("body",) else loc)]
        found.append({"field": ".".join(location) or "(body)", "message": str(error["msg"])})
    return found


def unauthorized(detail: str) -> Problem:
    """401: no valid API key."""
    return Problem(
        401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"}
    )


def broker_unavailable(retry_after: int = 5) -> Problem:
    """503: the event could not be handed to Kafka; nothing was accepted."""
    return Problem(
        503,
        "broker-unavailable",
        "Service Unavailable",
        "The event broker did not acknowledge the event in time. Nothing was accepted; "
        "retry the same request (with the same Idempotency-Key) later.",
        headers={"Retry-After": str(retry_after)},
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of `app` a problem document."""

    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> JSONResponse:
        return problem.response(request.url.path)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problem = Problem(
            422,
            "invalid-body",
            "Unprocessable Content",
            "The request body is not valid; see `errors`.",
            extra={"errors": field_errors(error.errors())},
        )
        return problem.response(request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        phrase = HTTPStatus(error.status_code).phrase
        problem = Problem(
            error.status_code,
            phrase.lower().replace(" ", "-"),
            phrase,
            str(error.detail),
            headers=dict(error.headers or {}),
        )
        return problem.response(request.url.path)
