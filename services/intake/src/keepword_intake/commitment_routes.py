"""`/v1/commitments` and the facts about a declared commitment: answer, fulfilment, cancel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from fastapi.types import DecoratedCallable
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
    """Publish production's answer from the answer pages (the API route builds the same fact
    and publishes it by the same `publish_fact`)."""
    event = facts.commitment_answered(body, commitment_id, thread_id)
    await publish_fact(intake, event, event_id, what="answer", commitment_id=commitment_id)


async def publish_cancellation(
    intake: Intake, body: CancellationIn, *, commitment_id: str, thread_id: str, event_id: str
) -> None:
    """Publish a withdrawal from the maker's pages (the API route builds the same fact and
    publishes it by the same `publish_fact`)."""
    event = facts.commitment_cancelled(body, commitment_id, thread_id)
    await publish_fact(intake, event, event_id, what="cancel", commitment_id=commitment_id)


@dataclass(frozen=True)
class _FactRequest:
    """What a route of a fact about a commitment takes besides its body."""

    commitment_id: str
    intake: Intake
    client: str
    idempotency_key: str | None


async def _fact_request(
    commitment_id: CommitmentId,
    intake: IntakeDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> _FactRequest:
    return _FactRequest(commitment_id, intake, client, idempotency_key)


FactRequest = Annotated[_FactRequest, Depends(_fact_request)]
_Body = TypeVar("_Body", AnswerIn, FulfilmentIn, CancellationIn)


def _fact_route(what: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """`POST /v1/commitments/{commitment_id}/<what>`: 202 with the planned ids, or 404."""
    return router.post(
        f"/commitments/{{commitment_id}}/{what}",
        status_code=202,
        response_model=CommitmentAccepted,
        tags=["commitments"],
        responses=_UNKNOWN,
    )


async def _commitment_fact(
    request: FactRequest, body: _Body, what: str, fact: Callable[[_Body, str, str], Event]
) -> Response:
    """Publish a fact about an existing commitment (answer, fulfilment, cancellation), built by
    `fact` from the body, the commitment and its thread."""
    intake, commitment_id = request.intake, request.commitment_id
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
        event = fact(body, commitment_id, known_thread)
        await publish_fact(
            intake, event, planned["event_id"], what=what, commitment_id=commitment_id
        )
        return planned

    return await respond_once(
        intake.db,
        client=request.client,
        key=request.idempotency_key,
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


@_fact_route("answer")
async def post_answer(body: AnswerIn, request: FactRequest) -> Response:
    """Production confirms, rejects or counters a promise."""
    refuse_far_due_dates(body)
    return await _commitment_fact(request, body, "answer", facts.commitment_answered)


@_fact_route("fulfilment")
async def post_fulfilment(body: FulfilmentIn, request: FactRequest) -> Response:
    """Report a delivery or outcome promise kept (or not)."""
    return await _commitment_fact(request, body, "fulfilment", facts.commitment_fulfilled)


@_fact_route("cancel")
async def post_cancel(body: CancellationIn, request: FactRequest) -> Response:
    """Withdraw a promise (for example after a refund)."""
    return await _commitment_fact(request, body, "cancel", facts.commitment_cancelled)
