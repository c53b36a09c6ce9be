"""`/v1/commitments` and the facts about a declared commitment: answer, fulfilment, cancel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Path
from fastapi.responses import Response
from keepword_events import Event
from keepword_platform.problems import Problem

from . import facts, repository
from .api import ERRORS, ClientDep, IdempotencyKey, Intake, IntakeDep, publish, refuse_far_due_dates
from .contract import AnswerIn, CancellationIn, CommitmentAccepted, CommitmentIn, FulfilmentIn
from .idempotency import respond_once

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/v1", responses=ERRORS)


async def declare_commitment(
    intake: Intake, body: CommitmentIn, *, commitment_id: str, event_id: str
) -> None:
    """Declare a promise (new terms, when it supersedes another): the one path of the API route
    and the maker's pages."""
    await repository.remember_commitment_thread(intake.db, commitment_id, body.thread_id)
    await publish(intake, facts.commitment_declared(body, commitment_id), event_id)
    log.info(
        "commitment declared",
        thread_id=body.thread_id,
        event_id=event_id,
        commitment_id=commitment_id,
    )


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
    refuse_far_due_dates(body)

    async def act(planned: dict[str, Any]) -> dict[str, Any]:
        await declare_commitment(
            intake, body, commitment_id=planned["commitment_id"], event_id=planned["event_id"]
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


async def publish_fact(
    intake: Intake, event: Event, event_id: str, *, what: str, commitment_id: str
) -> None:
    """Publish a fact about an existing commitment; 413 or 503 as a Problem."""
    await publish(intake, event, event_id)
    log.info(
        f"commitment {what}",
        thread_id=event.thread_id,
        event_id=event_id,
        commitment_id=commitment_id,
    )


async def publish_answer(
    intake: Intake, body: AnswerIn, *, commitment_id: str, thread_id: str, event_id: str
) -> None:
    """Publish production's answer: the one path of the API route and the answer pages."""
    event = facts.commitment_answered(body, commitment_id, thread_id)
    await publish_fact(intake, event, event_id, what="answer", commitment_id=commitment_id)


async def publish_cancellation(
    intake: Intake, body: CancellationIn, *, commitment_id: str, thread_id: str, event_id: str
) -> None:
    """Publish a withdrawal: the one path of the API route and the maker's pages."""
    event = facts.commitment_cancelled(body, commitment_id, thread_id)
    await publish_fact(intake, event, event_id, what="cancel", commitment_id=commitment_id)


async def _commitment_fact(
    intake: Intake,
    client: str,
    idempotency_key: str | None,
    *,
    commitment_id: str,
    body: AnswerIn | FulfilmentIn | CancellationIn,
    what: str,
    publish_for: Callable[[str, str], Awaitable[None]],
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
        await publish_for(known_thread, planned["event_id"])
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
    refuse_far_due_dates(body)
    return await _commitment_fact(
        intake,
        client,
        idempotency_key,
        commitment_id=commitment_id,
        body=body,
        what="answer",
        publish_for=lambda thread, event_id: publish_answer(
            intake, body, commitment_id=commitment_id, thread_id=thread, event_id=event_id
        ),
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
        publish_for=lambda thread, event_id: publish_fact(
            intake,
            facts.commitment_fulfilled(body, commitment_id, thread),
            event_id,
            what="fulfilment",
            commitment_id=commitment_id,
        ),
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
        publish_for=lambda thread, event_id: publish_cancellation(
            intake, body, commitment_id=commitment_id, thread_id=thread, event_id=event_id
        ),
    )
