"""Escalation's read API: `GET /v1/escalations`, `GET /v1/threads/{id}` (keys with `read`),
and its decision API (keys with `decide`, bound to the manager they decide for)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import asyncpg
import structlog
from fastapi import APIRouter, Path, Query, Request
from keepword_events import (
    Customer,
    EscalationRule,
    EvidenceItem,
    Money,
    Option,
    OptionKind,
    Person,
    Role,
)
from keepword_events.common import EmailAddress
from keepword_platform.auth.dependencies import AUTH_RESPONSES, READ, DecideKey
from keepword_platform.auth.grants import Grant
from keepword_platform.messaging import store
from keepword_platform.messaging.consumer import outgoing
from keepword_platform.problems import Problem, problem_responses
from pydantic import BaseModel, ConfigDict, Field

from . import repository
from .escalations import DecisionRefused, Escalation, Refusal
from .watch import SCHEMA, SOURCE, Watch

log = structlog.get_logger(__name__)

router = APIRouter(
    prefix="/v1",
    tags=["escalations"],
    responses=AUTH_RESPONSES
    | problem_responses({422: "A parameter or the body is not valid; see `errors`."}),
)

Id = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,200}$")]


class EscalationView(BaseModel):
    """An escalation as it stands."""

    escalation_id: str
    thread_id: str
    rule: EscalationRule
    level: int
    manager_email: str
    state: Literal["open", "delegated", "decided", "resolved"]
    reason: str
    opened_at: datetime
    decide_by: datetime
    options: tuple[Option, ...]
    decided_option: OptionKind | None
    decided_by: str | None


class EscalationList(BaseModel):
    """Escalations, newest first."""

    escalations: list[EscalationView]


class ThreadView(BaseModel):
    """A thread's clock, its escalations and its timeline."""

    thread_id: str
    customer: Customer
    deposit: Money | None
    unanswered: int
    waiting_since: datetime | None
    reply_due_at: datetime | None
    last_customer_at: datetime | None
    last_reply_at: datetime | None
    escalations: list[EscalationView]
    timeline: tuple[EvidenceItem, ...]


def _view(e: Escalation) -> EscalationView:
    return EscalationView.model_validate(
        {name: getattr(e, name) for name in EscalationView.model_fields} | {"state": e.state.value}
    )


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.db
    return pool


@router.get("/escalations", response_model=EscalationList, dependencies=[READ])
async def list_escalations(
    request: Request,
    state: Annotated[Literal["open", "delegated", "decided", "resolved"] | None, Query()] = None,
    thread_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._:-]{1,200}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EscalationList:
    """Escalations, newest first; filter by state or thread."""
    async with _pool(request).acquire() as conn:
        found = await repository.list_escalations(
            conn, state=state, thread_id=thread_id, limit=limit
        )
    return EscalationList(escalations=[_view(e) for e in found])


@router.get(
    "/threads/{thread_id}",
    response_model=ThreadView,
    responses=problem_responses({404: "No such thread."}),
    dependencies=[READ],
)
async def get_thread(request: Request, thread_id: Id) -> ThreadView:
    """A thread's clock, escalations and timeline."""
    async with _pool(request).acquire() as conn, conn.transaction():
        clock = await repository.load_clock(conn, thread_id)
        found = await repository.list_escalations(conn, state=None, thread_id=thread_id, limit=50)
        story = await repository.timeline(conn, thread_id, limit=200)
    if clock is None:
        raise Problem(404, "unknown-thread", "Not Found", f"No thread {thread_id!r}.")
    return ThreadView(
        thread_id=thread_id,
        customer=clock.customer,
        deposit=clock.deposit,
        unanswered=clock.unanswered,
        waiting_since=clock.waiting_since,
        reply_due_at=clock.reply_due_at,
        last_customer_at=clock.last_customer_at,
        last_reply_at=clock.last_reply_at,
        escalations=[_view(e) for e in found],
        timeline=story,
    )


class DecisionIn(BaseModel):
    """A manager's decision, sent by an internal tool acting for them."""

    model_config = ConfigDict(extra="forbid")

    option: OptionKind
    decided_by: EmailAddress = Field(
        description="The manager the escalation is with now (its manager_email)."
    )
    note: str | None = Field(default=None, max_length=5000)


class DecisionOut(BaseModel):
    """The escalation after the decision, and the events it caused."""

    escalation_id: str
    state: str
    events: list[str]


@router.post(
    "/escalations/{escalation_id}/decisions",
    response_model=DecisionOut,
    responses=problem_responses(
        {
            400: "The body cannot be read as JSON text (it is not UTF-8).",
            401: "No API key, or one that is unknown, revoked or expired.",
            403: "The key is not made for `decide`, is bound to no manager or to another one "
            "than decided_by, or the escalation is not with that manager now.",
            404: "No such escalation.",
            409: "The escalation is resolved, or the option is not offered.",
            422: "Invalid body, or decided_by is not a configured manager.",
        }
    ),
)
async def post_decision(
    request: Request,
    escalation_id: Id,
    body: DecisionIn,
    key: DecideKey,
) -> DecisionOut:
    """Record a manager's decision (the JSON twin of the decision pages, under the same policy:
    only the manager the escalation is with now may decide, and only with a key bound to them)."""
    runtime = request.app.state.runtime
    _check_binding(key, body.decided_by)
    manager = runtime.company.person(body.decided_by)
    if manager is None or manager.role is not Role.MANAGEMENT:
        raise Problem(
            422,
            "not-a-manager",
            "Unprocessable Content",
            f"{body.decided_by} is not a manager of the configured escalation chain.",
        )
    watch: Watch = runtime.extras["watch"]
    person = Person(email=manager.email, name=manager.name, role=manager.role)
    async with _pool(request).acquire() as conn, conn.transaction():
        try:
            caused = await watch.decide(conn, escalation_id, body.option, person, body.note)
        except DecisionRefused as refused:
            raise _problem(refused, escalation_id) from None
        await store.enqueue(conn, SCHEMA, [outgoing(e, SOURCE) for e in caused])
        now = await repository.load_escalation(conn, escalation_id)
    log.info(
        "decision recorded", escalation_id=escalation_id, option=body.option.value, client=key.name
    )
    return DecisionOut(
        escalation_id=escalation_id,
        state=now.state.value if now else "unknown",
        events=[e.ce_type for e in caused],
    )


def _check_binding(key: Grant, decided_by: str) -> None:
    """A decide key speaks for its one manager; one bound to nobody decides nothing."""
    if key.manager is None:
        raise Problem(
            403,
            "key-not-bound",
            "Forbidden",
            "This API key is bound to no manager, so it records no decision; make one with "
            "`keepword apikey create NAME --scope decide --manager <email>`.",
        )
    if key.manager != decided_by.lower():
        raise Problem(
            403,
            "not-this-keys-manager",
            "Forbidden",
            f"This API key decides for {key.manager} only, not for {decided_by}.",
        )


def _problem(refused: DecisionRefused, escalation_id: str) -> Problem:
    if refused.why is Refusal.UNKNOWN:
        return Problem(404, "unknown-escalation", "Not Found", f"No escalation {escalation_id!r}.")
    if refused.why is Refusal.NOT_YOURS:
        return Problem(403, "not-yours", "Forbidden", str(refused))
    return Problem(409, "decision-refused", "Conflict", str(refused))
