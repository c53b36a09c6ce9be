"""The ledger's read API: `GET /v1/commitments?thread_id=`, `GET /v1/commitments/{id}`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query, Request
from keepword_events import CommitmentKind, CommitmentSource, CommitmentStatus, Customer, Person
from keepword_platform.auth.dependencies import AUTH_RESPONSES, READ
from keepword_platform.problems import Problem, problem_responses
from pydantic import BaseModel

from . import repository
from .domain import Commitment

router = APIRouter(
    prefix="/v1",
    tags=["commitments"],
    dependencies=[READ],
    responses=AUTH_RESPONSES | problem_responses({422: "A parameter is not valid; see `errors`."}),
)

Id = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,200}$")]
ThreadId = Annotated[str, Query(pattern=r"^[A-Za-z0-9._:-]{1,200}$")]


class CommitmentView(BaseModel):
    """A commitment as it stands."""

    commitment_id: str
    thread_id: str
    kind: CommitmentKind
    text: str
    made_by: Person
    customer: Customer | None
    due_at: datetime | None
    source: CommitmentSource
    created_at: datetime
    status: CommitmentStatus
    at_risk: bool
    feasible_due_at: datetime | None
    production_note: str | None


class Move(BaseModel):
    """One move of the commitment's history."""

    at: datetime
    from_status: str | None
    to_status: str
    at_risk: bool
    reason: str
    event_id: str


class CommitmentWithHistory(CommitmentView):
    """A commitment and every move it made."""

    history: list[Move]


class CommitmentList(BaseModel):
    """The commitments of a thread, oldest first."""

    commitments: list[CommitmentView]


def _view(c: Commitment) -> dict[str, Any]:
    return {name: getattr(c, name) for name in CommitmentView.model_fields}


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.db
    return pool


@router.get("/commitments", response_model=CommitmentList)
async def list_commitments(request: Request, thread_id: ThreadId) -> CommitmentList:
    """Every commitment of a thread."""
    async with _pool(request).acquire() as conn:
        found = await repository.on_thread(conn, thread_id)
    return CommitmentList.model_validate({"commitments": [_view(c) for c in found]})


@router.get(
    "/commitments/{commitment_id}",
    response_model=CommitmentWithHistory,
    responses=problem_responses({404: "No such commitment."}),
)
async def get_commitment(request: Request, commitment_id: Id) -> CommitmentWithHistory:
    """One commitment with its full history."""
    async with _pool(request).acquire() as conn:
        found = await repository.find(conn, commitment_id)
        moves = await repository.history(conn, commitment_id) if found else []
    if found is None:
        raise Problem(404, "unknown-commitment", "Not Found", f"No commitment {commitment_id!r}.")
    return CommitmentWithHistory.model_validate(
        _view(found) | {"history": [asdict(m) for m in moves]}
    )
