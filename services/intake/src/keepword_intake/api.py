"""What every route of intake's HTTP API shares: its dependencies, its errors, and the step
that publishes an accepted request's event (a refusal becomes a problem+json answer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Header, Request
from keepword_events import Event
from keepword_platform.auth.dependencies import WriteKey
from keepword_platform.problems import Problem, broker_unavailable, problem_responses

from .contract import AnswerIn, CommitmentIn, due_date_errors
from .publishing import BrokerUnavailable, EventPublisher, EventTooLarge


@dataclass
class Intake:
    """What the routes need: the publisher and the database (API keys are the platform's:
    `keepword_platform.auth.dependencies`)."""

    publisher: EventPublisher
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


async def _client(key: WriteKey) -> str:
    # Every route of intake's API takes a key made for `write`; its name scopes idempotency keys.
    return key.name


IntakeDep = Annotated[Intake, Depends(_intake)]
ClientDep = Annotated[str, Depends(_client)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retrying with the same key publishes once: 1 to 200 printable ASCII "
        "characters, unique per request (a UUID will do).",
        pattern=r"^[\x21-\x7e]{1,200}$",
    ),
]

ERRORS = problem_responses(
    {
        400: "The body cannot be read as JSON text (it is not UTF-8).",
        401: "No API key, or one that is unknown, revoked or expired.",
        403: "The API key is not made for `write`.",
        409: "A request with this Idempotency-Key is still in progress; see Retry-After.",
        413: "The body, or the event it makes, is over the size limit; do not resend it.",
        415: "The body is not JSON.",
        422: "The body or a header is not valid (`errors` lists the failing fields), or the "
        "Idempotency-Key was used with another request.",
        503: "Kafka did not acknowledge the event; nothing was accepted. See Retry-After.",
    }
)


async def publish(intake: Intake, event: Event, event_id: str) -> None:
    """Publish one accepted request's event; 413 when it is too large, 503 without the broker."""
    try:
        await intake.publisher.publish(event, event_id)
    except EventTooLarge as error:
        raise too_large(error) from None
    except BrokerUnavailable:
        raise broker_unavailable() from None


def too_large(error: EventTooLarge) -> Problem:
    # Not a 503: the same request can never succeed, so the client must not resend it.
    return Problem(
        413,
        "event-too-large",
        "Content Too Large",
        f"{error}. Nothing was accepted; shorten the text (or split it) before sending again.",
        extra={"size_bytes": error.size, "limit_bytes": error.limit},
    )


def refuse_far_due_dates(body: CommitmentIn | AnswerIn) -> None:
    errors = due_date_errors(body, datetime.now(UTC))
    if errors:
        raise Problem(
            422,
            "invalid-body",
            "Unprocessable Content",
            "The request body is not valid; see `errors`.",
            extra={"errors": errors},
        )
