"""RFC 9457 problem documents for every error a Keepword HTTP API returns."""

from __future__ import annotations

import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import ErrorDetails
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEMS = Counter(
    "keepword_http_problems_total",
    "Requests answered with a problem document, by reason.",
    ["reason"],
)

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://keepword.example/problems/"


class FieldError(BaseModel):
    """One failing input: where it is and what is wrong with it."""

    field: str = Field(description="Dotted path from the body (or `query.x`, `path.x`, ...).")
    message: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem document: the body of every error answer of a Keepword API."""

    # A problem may carry more members (`size_bytes`, `required_scope`, ...).
    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str | None = Field(default=None, description="The path of the request.")
    errors: list[FieldError] | None = Field(
        default=None, description="With 422: every failing input."
    )


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# How FastAPI documents the 422 it adds to a route with parameters or a body.
_FASTAPI_422 = {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
_INVALID = "A parameter or the body is not valid; see `errors`."


def problem_responses(described: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route: each status code answered with a problem document."""
    return {
        code: {"description": text, "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}}
        for code, text in described.items()
    }


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
        field = _visible(".".join(location)) or "(body)"
        found.append({"field": field, "message": _visible(str(error["msg"]))})
    return found


# A field name comes from the client (an unknown key is named as sent): its control characters
# and lone surrogates are written out as \uXXXX, so that the errors can be shown and stored as
# they are (PostgreSQL refuses a NUL in jsonb, and a batch's answer, with its items' errors, is
# stored for its Idempotency-Key: a 500 found by the OpenAPI fuzz test).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _visible(text: str) -> str:
    return _CONTROLS.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


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
    """Make every error of `app` a problem document, and its OpenAPI document say so."""
    _document_problems(app)

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


def _document_problems(app: FastAPI) -> None:
    """Put the Problem schema in the components of `app`'s OpenAPI document.

    Routes declare their error answers with `problem_responses`, which refer to it; FastAPI
    only adds a component for a model a route returns, hence this one addition. A problem
    answer declared with no schema at all gets the same reference, and the 422 FastAPI adds on
    its own (as application/json) is documented as the problem it is answered with.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        document = generate()  # FastAPI keeps it: made once per app
        if fresh:
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            found = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(found.pop("$defs", {}))
            schemas["Problem"] = found
            for operation in _operations(document):
                responses = operation.get("responses", {})
                if _FASTAPI_422 in responses.get("422", {}).get("content", {}).values():
                    # FastAPI's own 422, which the handler answers as a problem instead.
                    responses["422"] = problem_responses({422: _INVALID})[422]
                for response in responses.values():
                    content = response.get("content", {}).get(PROBLEM_JSON)
                    if content is not None and "schema" not in content:
                        content["schema"] = dict(_PROBLEM_REF)
            if "HTTPValidationError" not in str(document["paths"]):
                for name in ("HTTPValidationError", "ValidationError"):
                    schemas.pop(name, None)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for path in document.get("paths", {}).values() for op in path.values()]
