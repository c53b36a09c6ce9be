"""Problem documents: field errors safe to show and store, and the OpenAPI document's Problem."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Query
from keepword_platform.problems import field_errors, install_problem_handlers, problem_responses


def test_control_characters_of_a_field_name_are_written_out() -> None:
    # An unknown key is named as the client sent it; PostgreSQL's jsonb refuses a NUL.
    errors = field_errors([{"loc": ("body", "a\x00b\udc00"), "msg": "Extra inputs\x1b"}])
    assert errors == [{"field": "a\\u0000b\\udc00", "message": "Extra inputs\\u001b"}]


def test_a_field_named_body_keeps_its_name() -> None:
    assert field_errors([{"loc": ("body", "body"), "msg": "bad"}]) == [
        {"field": "body", "message": "bad"}
    ]


def _document() -> dict[str, Any]:
    router = APIRouter(responses=problem_responses({404: "Not there."}))

    @router.get("/things", responses={401: {"content": {"application/problem+json": {}}}})
    async def things(limit: int = Query(1, ge=1)) -> dict[str, int]:
        return {"limit": limit}

    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    return app.openapi()


def test_error_answers_refer_to_the_problem_component() -> None:
    document = _document()
    responses = document["paths"]["/things"]["get"]["responses"]
    problem = {"$ref": "#/components/schemas/Problem"}
    assert responses["404"]["content"] == {"application/problem+json": {"schema": problem}}
    # Declared with the media type only: the platform adds the schema.
    assert responses["401"]["content"] == {"application/problem+json": {"schema": problem}}
    schemas = document["components"]["schemas"]
    assert {"Problem", "FieldError"} <= set(schemas)
    assert schemas["Problem"]["properties"]["errors"]["anyOf"][0]["items"] == {
        "$ref": "#/components/schemas/FieldError"
    }


def test_fastapi_own_422_is_documented_as_a_problem() -> None:
    document = _document()
    invalid = document["paths"]["/things"]["get"]["responses"]["422"]
    assert invalid["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert "HTTPValidationError" not in document["components"]["schemas"]
