"""The HTTP API: `/v1/messages`, `/v1/messages:batch`, `/v1/commitments`, `.../answer`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
import structlog
from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import Response
from keepword_events import Event
from keepword_platform.auth.authenticator import ApiKeyAuthenticator
from keepword_platform.problems import Problem, broker_unavailable, field_errors
from pydantic import TypeAdapter, ValidationError

from . import facts, repository
from .contract import (
    MAX_BATCH,
    AnswerIn,
    BatchResult,
    CancellationIn,
    CommitmentAccepted,
    CommitmentIn,
    FulfilmentIn,
    MessageAccepted,
    MessageBatchIn,
    MessageBatchShape,
    MessageIn,
    due_date_errors,
)
from .idempotency import respond_once
from .publishing import BrokerUnavailable, EventPublisher, EventTooLarge

log = structlog.get_logger(__name__)


@dataclass
class Intake:
    """What the routes need: the publisher, the authenticator and the database."""

    publisher: EventPublisher
    authenticator: ApiKeyAuthenticator
    pool: Any  # a callable returning the open asyncpg pool
    idempotency_abandon_after: timedelta

    @property
    def db(self) -> asyncpg.Pool:
        """The open pool."""
        pool: asyncpg.Pool = self.pool()
        return pool


async def _intake(request: Request) -> Intake:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, per request.
    intake: Intake = request.app.state.intake
    return intake


async def _client(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    intake: Intake = request.app.state.intake
    return await intake.authenticator.client_of(authorization)


IntakeDep = Annotated[Intake, Depends(_intake)]
ClientDep = Annotated[str, Depends(_client)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Retrying with the same key publishes once."),
]

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {"application/problem+json": {}}}
    for code, text in {
        401: "No valid API key.",
        413: "The body, or the event it makes, is over the size limit; do not resend it.",
        415: "The body is not JSON.",
        422: "The body is not valid; `errors` lists the failing fields.",
        503: "Kafka did not acknowledge the event; nothing was accepted. See Retry-After.",
    }.items()
}

router = APIRouter(prefix="/v1", responses=ERRORS)


def _unavailable() -> Problem:
    return broker_unavailable()


def _too_large(error: EventTooLarge) -> Problem:
    # Not a 503: the same request can never succeed, so the client must not resend it.
    return Problem(
        413,
        "event-too-large",
        "Content Too Large",
        f"{error}. Nothing was accepted; shorten the text (or split it) before sending again.",
        extra={"size_bytes": error.size, "limit_bytes": error.limit},
    )


def _refuse_far_due_dates(body: CommitmentIn | AnswerIn) -> None:
    errors = due_date_errors(body, datetime.now(UTC))
    if errors:
        raise Problem(
            422,
            "invalid-body",
            "Unprocessable Content",
            "The request body is not valid; see `errors`.",
            extra={"errors": errors},
        )


@router.post("/messages", status_code=202, response_model=MessageAccepted, tags=["messages"])
async def post_message(
    body: MessageIn, intake: IntakeDep, client: ClientDep, idempotency_key: IdempotencyKey = None
) -> Response:
    """Accept a customer message or a staff reply; 202 once Kafka acknowledged its event."""

    async def act(planned: dict[str, Any]) -> dict[str, Any]:
        ids = facts.MessageIds(**planned)
        event = facts.message_event(body, ids, datetime.now(UTC))
        try:
            await intake.publisher.publish(event, ids.event_id)
        except EventTooLarge as error:
            raise _too_large(error) from None
        except BrokerUnavailable:
            raise _unavailable() from None
        log.info(
            "message accepted", thread_id=ids.thread_id, event_id=ids.event_id, type=event.ce_type
        )
        return ids.as_json()

    return await respond_once(
        intake.db,
        client=client,
        key=idempotency_key,
        route="POST /v1/messages",
        canonical_body=body.model_dump_json(),
        planned=facts.plan_message(body).as_json(),
        status_code=202,
        act=act,
        abandon_after=intake.idempotency_abandon_after,
    )


_MESSAGE = TypeAdapter(MessageIn)
_BATCH = TypeAdapter(MessageBatchIn)
_BATCH_SHAPE = TypeAdapter(MessageBatchShape)
_BATCH_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageBatchIn"}}},
}


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


@router.post(
    "/commitments", status_code=202, response_model=CommitmentAccepted, tags=["commitments"]
)
async def post_commitment(
    body: CommitmentIn,
    intake: IntakeDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Declare a promise made to a customer; production will be asked to confirm it."""
    _refuse_far_due_dates(body)

    async def act(planned: dict[str, Any]) -> dict[str, Any]:
        commitment_id = planned["commitment_id"]
        await repository.remember_commitment_thread(intake.db, commitment_id, body.thread_id)
        try:
            await intake.publisher.publish(
                facts.commitment_declared(body, commitment_id), planned["event_id"]
            )
        except EventTooLarge as error:
            raise _too_large(error) from None
        except BrokerUnavailable:
            raise _unavailable() from None
        log.info(
            "commitment declared",
            thread_id=body.thread_id,
            event_id=planned["event_id"],
            commitment_id=commitment_id,
        )
        return planned

    return await respond_once(
        intake.db,
        client=client,
        key=idempotency_key,
        route="POST /v1/commitments",
        canonical_body=body.model_dump_json(),
        planned={
            "commitment_id": facts.new_id("cmt"),
            "event_id": facts.new_event_id(),
            "thread_id": body.thread_id,
        },
        status_code=202,
        act=act,
        abandon_after=intake.idempotency_abandon_after,
    )


CommitmentId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,200}$")]
_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown commitment and no thread_id given."}
}


async def _commitment_fact(
    intake: Intake,
    client: str,
    idempotency_key: str | None,
    *,
    commitment_id: str,
    body: AnswerIn | FulfilmentIn | CancellationIn,
    what: str,
    event_of: Callable[[str], Event],
) -> Response:
    """Publish a fact about an existing commitment (answer, fulfilment, cancellation)."""
    thread_id = body.thread_id or await repository.thread_of_commitment(intake.db, commitment_id)
    if thread_id is None:
        raise Problem(
            404,
            "unknown-commitment",
            "Not Found",
            f"No commitment {commitment_id!r} was declared through intake; "
            "send its thread_id with the request.",
        )
    known_thread: str = thread_id

    async def act(planned: dict[str, Any]) -> dict[str, Any]:
        try:
            await intake.publisher.publish(event_of(known_thread), planned["event_id"])
        except EventTooLarge as error:
            raise _too_large(error) from None
        except BrokerUnavailable:
            raise _unavailable() from None
        log.info(
            f"commitment {what}",
            thread_id=known_thread,
            event_id=planned["event_id"],
            commitment_id=commitment_id,
        )
        return planned

    return await respond_once(
        intake.db,
        client=client,
        key=idempotency_key,
        route=f"POST /v1/commitments/{commitment_id}/{what}",
        canonical_body=body.model_dump_json(),
        planned={
            "commitment_id": commitment_id,
            "event_id": facts.new_event_id(),
            "thread_id": known_thread,
        },
        status_code=202,
        act=act,
        abandon_after=intake.idempotency_abandon_after,
    )


@router.post(
    "/commitments/{commitment_id}/answer",
    status_code=202,
    response_model=CommitmentAccepted,
    tags=["commitments"],
    responses=_UNKNOWN,
)
async def post_answer(
    commitment_id: CommitmentId,
    body: AnswerIn,
    intake: IntakeDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Production confirms, rejects or counters a promise."""
    _refuse_far_due_dates(body)
    return await _commitment_fact(
        intake,
        client,
        idempotency_key,
        commitment_id=commitment_id,
        body=body,
        what="answer",
        event_of=lambda thread: facts.commitment_answered(body, commitment_id, thread),
    )


@router.post(
    "/commitments/{commitment_id}/fulfilment",
    status_code=202,
    response_model=CommitmentAccepted,
    tags=["commitments"],
    responses=_UNKNOWN,
)
async def post_fulfilment(
    commitment_id: CommitmentId,
    body: FulfilmentIn,
    intake: IntakeDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Report a delivery or outcome promise kept (or not)."""
    return await _commitment_fact(
        intake,
        client,
        idempotency_key,
        commitment_id=commitment_id,
        body=body,
        what="fulfilment",
        event_of=lambda thread: facts.commitment_fulfilled(body, commitment_id, thread),
    )


@router.post(
    "/commitments/{commitment_id}/cancel",
    status_code=202,
    response_model=CommitmentAccepted,
    tags=["commitments"],
    responses=_UNKNOWN,
)
async def post_cancel(
    commitment_id: CommitmentId,
    body: CancellationIn,
    intake: IntakeDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Withdraw a promise (for example after a refund)."""
    return await _commitment_fact(
        intake,
        client,
        idempotency_key,
        commitment_id=commitment_id,
        body=body,
        what="cancel",
        event_of=lambda thread: facts.commitment_cancelled(body, commitment_id, thread),
    )
