"""The indices' API: `GET /v1/indices` (JSON) and `GET /v1/indices.csv` (the same numbers)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from keepword_events import Role
from keepword_platform.auth.dependencies import AUTH_RESPONSES, READ
from keepword_platform.problems import Problem, problem_responses

from .indices import CSV_COLUMNS, Json, Period, rows
from .reading import indices_of

router = APIRouter(
    prefix="/v1",
    tags=["indices"],
    dependencies=[READ],
    responses=AUTH_RESPONSES
    | problem_responses(
        {
            422: "A parameter is not valid (a time without an offset, `from` "
            "not before `to`, a period over 366 days); see `detail` or `errors`."
        }
    ),
)

DEFAULT_DAYS = 28
LONGEST = timedelta(days=366)  # the reply times are computed one by one: keep a request bounded

From = Annotated[
    datetime | None,
    Query(
        alias="from", description="Start (RFC 3339 with an offset); default: 28 days before `to`."
    ),
]
To = Annotated[
    datetime | None, Query(description="End, not included (RFC 3339 with an offset); default: now.")
]
Team = Annotated[
    Role | None, Query(description="Only replies by, and promises made by, people of this role.")
]


def period_of(
    start: datetime | None, end: datetime | None, team: Role | None, now: datetime
) -> Period:
    """The period asked for, checked; the defaults are the last 28 days."""
    for name, moment in (("from", start), ("to", end)):
        if moment is not None and moment.utcoffset() is None:
            raise Problem(
                422, "bad-period", "Unprocessable Content", f"`{name}` needs a UTC offset."
            )
    end = (end or now).astimezone(UTC)
    start = (start or end - timedelta(days=DEFAULT_DAYS)).astimezone(UTC)
    if not start < end:
        raise Problem(422, "bad-period", "Unprocessable Content", "`from` must be before `to`.")
    if end - start > LONGEST:
        raise Problem(422, "bad-period", "Unprocessable Content", "A period is at most 366 days.")
    return Period(start, end, team.value if team else None)


async def _asked(
    request: Request, start: datetime | None, end: datetime | None, team: Role | None
) -> Json:
    runtime = request.app.state.runtime
    now = datetime.now(UTC)
    return await indices_of(runtime.db, runtime.company, period_of(start, end, team, now), now)


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (keys are people's addresses)."""
    return "'" + value if value[:1] in ("=", "+", "@", "\t", "\r") else value


@router.get("/indices", summary="The indices of a period")
async def get_indices(
    request: Request, start: From = None, to: To = None, team: Team = None
) -> dict[str, Any]:
    """Reply times, waiting threads, repeated contact, deposits waiting, promises, production's
    answers, escalations and emails: business time in seconds, amounts as decimal strings."""
    return await _asked(request, start, to, team)


@router.get(
    "/indices.csv",
    summary="The indices of a period, as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "section,index,key,metric,value"}},
)
async def get_indices_csv(
    request: Request, start: From = None, to: To = None, team: Team = None
) -> Response:
    """The numbers of `GET /v1/indices`, one row each."""
    found = await _asked(request, start, to, team)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(tuple(_cell(value) for value in row) for row in rows(found))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="indices.csv"'},
    )
