"""`/v1/commitments` and the facts about a declared commitment: answer, fulfilment, cancel."""

from __future__ import annotations

from collections.abc import Callable
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
        commitment_id = planned["commitment_id"]
        await repository.remember_commitment_thread(intake.db, commitment_id, body.thread_id)
        await publish(intake, facts.commitment_declared(body, commitment_id), planned["event_id"])
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
        await publish(intake, event_of(known_thread), planned["event_id"])
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
    refuse_far_due_dates(body)
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
