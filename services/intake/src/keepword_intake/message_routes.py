"""`/v1/messages` and `/v1/messages:batch`: customer messages and staff replies."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response
from keepword_platform.problems import Problem, field_errors
from pydantic import TypeAdapter, ValidationError

from . import facts
from .api import ERRORS, ClientDep, IdempotencyKey, Intake, IntakeDep, publish
from .contract import (
    MAX_BATCH,
    BatchResult,
    MessageAccepted,
    MessageBatchIn,
    MessageBatchShape,
    MessageIn,
)
from .idempotency import respond_once
from .publishing import EventTooLarge

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/v1", responses=ERRORS)


async def publish_message(intake: Intake, body: MessageIn, ids: facts.MessageIds) -> None:
    """Publish one message under its planned ids: the one path of the API route and the pages
    that log a call."""
    event = facts.message_event(body, ids, datetime.now(UTC))
    await publish(intake, event, ids.event_id)
    log.info("message accepted", thread_id=ids.thread_id, event_id=ids.event_id, type=event.ce_type)


@router.post("/messages", status_code=202, response_model=MessageAccepted, tags=["messages"])
async def post_message(
    body: MessageIn, intake: IntakeDep, client: ClientDep, idempotency_key: IdempotencyKey = None
) -> Response:
    """Accept a customer message or a staff reply; 202 once Kafka acknowledged its event."""
    return await accept_message(intake, body, client, idempotency_key)


async def accept_message(
    intake: Intake, body: MessageIn, client: str, idempotency_key: str | None
) -> Response:
    """POST /v1/messages once its body is valid and its key known (also the fast path's)."""

    async def act(planned: dict[str, Any]) -> dict[str, Any]:
        ids = facts.MessageIds(**planned)
        await publish_message(intake, body, ids)
        return ids.as_json()

    return await respond_once(
        intake.db,
        client=client,
        key=idempotency_key,
        route="POST /v1/messages",
        # Only a request with a key is compared with another: no canonical form without one.
        canonical_body=body.model_dump_json() if idempotency_key is not None else "",
        planned=facts.plan_message(body).as_json(),
        status_code=202,
        act=act,
        abandon_after=intake.idempotency_abandon_after,
    )


_MESSAGE = TypeAdapter(MessageIn)
_BATCH = TypeAdapter(MessageBatchIn)
_BATCH_SHAPE = TypeAdapter(MessageBatchShape)
# The route reads the raw body (to answer item by item), so FastAPI does not see a model. What it
# refuses whole is a body that is not {"messages": [1 to 1,000 objects]}; an item that is not a
# valid MessageIn (its component, from POST /v1/messages) is refused alone, in its result.
_BATCH_SCHEMA = MessageBatchShape.model_json_schema()
_BATCH_SCHEMA["title"] = "MessageBatchIn"
_BATCH_SCHEMA["description"] = MessageBatchIn.__doc__
_BATCH_SCHEMA["properties"]["messages"]["items"] = {
    "anyOf": [{"$ref": "#/components/schemas/MessageIn"}, {"type": "object"}],
    "description": "A MessageIn; an item that is not one gets status 422 in its result.",
}
_BATCH_BODY = {"required": True, "content": {"application/json": {"schema": _BATCH_SCHEMA}}}


def _parse_batch(raw: bytes) -> list[MessageIn | list[dict[str, str]]]:
    """Each item of a batch: the message, or why it is invalid.

    The common case, a valid batch, is parsed and validated in one pass in pydantic's core; only a
    batch with invalid items is taken apart item by item to say which ones.
    """
    try:
        return list(_BATCH.validate_json(raw).messages)
    except ValidationError:
        pass
    try:
        shape = _BATCH_SHAPE.validate_json(raw)
    except ValidationError as error:
        raise Problem(
            422,
            "invalid-body",
            "Unprocessable Content",
            f"Send {{'messages': [...]}} with 1 to {MAX_BATCH} messages; see `errors`.",
            extra={"errors": _body_errors(error)},
        ) from None
    parsed: list[MessageIn | list[dict[str, str]]] = []
    for item in shape.messages:
        try:
            parsed.append(_MESSAGE.validate_python(item))
        except ValidationError as error:
            parsed.append(_body_errors(error))
    return parsed


def _body_errors(error: ValidationError) -> list[dict[str, str]]:
    # Located from the body, as FastAPI locates the errors of the other routes.
    return field_errors([{**e, "loc": ("body", *e["loc"])} for e in error.errors()])


@router.post(
    "/messages:batch",
    response_model=BatchResult,
    tags=["messages"],
    openapi_extra={"requestBody": _BATCH_BODY},
)
async def post_message_batch(
    request: Request,
    intake: IntakeDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Accept up to 1,000 messages; each is accepted (202) or refused (413, 422, 503) on its own."""
    raw = await request.body()
    parsed = _parse_batch(raw)
    planned = [
        facts.plan_message(item).as_json() if isinstance(item, MessageIn) else None
        for item in parsed
    ]

    async def act(plan: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        chosen = [
            (index, item, facts.MessageIds(**ids))
            for index, (item, ids) in enumerate(zip(parsed, plan["planned"], strict=True))
            if isinstance(item, MessageIn) and ids is not None
        ]
        outcomes = await intake.publisher.publish_many(
            [(facts.message_event(item, ids, now), ids.event_id) for _, item, ids in chosen]
        )
        results: list[dict[str, Any]] = [
            {"index": index, "status": 422, "errors": errors}
            for index, errors in enumerate(parsed)
            if not isinstance(errors, MessageIn)
        ]
        for (index, _, ids), failure in zip(chosen, outcomes, strict=True):
            if failure is None:
                results.append({"index": index, "status": 202, **ids.as_json()})
            elif isinstance(failure, EventTooLarge):
                message = f"{failure}; shorten it, do not resend it as it is"
                results.append(
                    {
                        "index": index,
                        "status": 413,
                        "errors": [{"field": "(item)", "message": message}],
                    }
                )
            else:
                results.append({"index": index, "status": 503, "errors": [_RESEND]})
        results.sort(key=lambda r: int(r["index"]))
        accepted = sum(1 for r in results if r["status"] == 202)
        log.info("batch accepted", accepted=accepted, rejected=len(results) - accepted)
        return {"accepted": accepted, "rejected": len(results) - accepted, "results": results}

    return await respond_once(
        intake.db,
        client=client,
        key=idempotency_key,
        route="POST /v1/messages:batch",
        canonical_body=hashlib.sha256(raw).hexdigest(),
        planned={"planned": planned},
        status_code=200,
        act=act,
        abandon_after=intake.idempotency_abandon_after,
    )


_RESEND = {"field": "(item)", "message": "broker unavailable; resend it"}
