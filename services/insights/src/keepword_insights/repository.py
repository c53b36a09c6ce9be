"""The facts in PostgreSQL (schema `insights`): each fact type is a table whose columns are its
fields, so rows are written and read back by the dataclasses' own field names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any, TypeVar

from keepword_platform.database import Connection

from . import facts
from .changes import Changes, Needed
from .indices import (
    DecisionGroup,
    EscalationRow,
    Facts,
    Period,
    PromiseGroup,
    RatingRow,
    Tally,
)

SCHEMA = "insights"
T = TypeVar("T")


def _columns(kind: type[Any]) -> list[str]:
    return [f.name for f in fields(kind)]


async def _load(
    conn: Connection, kind: type[T], table: str, key: str, values: frozenset[str]
) -> dict[str, T]:
    """The rows of `table` whose `key` is one of `values`, by key (one statement, none if none)."""
    if not values:
        return {}
    columns = ", ".join(_columns(kind))
    rows = await conn.fetch(
        f"SELECT {columns} FROM {SCHEMA}.{table} WHERE {key} = ANY($1::text[])",  # noqa: S608
        list(values),
    )
    return {row[key]: kind(**dict(row)) for row in rows}


async def _save(conn: Connection, table: str, keys: Sequence[str], items: Sequence[Any]) -> None:
    """Insert `items` (dataclasses of one kind); a row already there is replaced when `keys`
    name its key, and kept (a redelivered move) when they are empty."""
    if not items:
        return
    columns = _columns(type(items[0]))
    names = ", ".join(columns)
    places = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    if keys:
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in keys)
        conflict = f"({', '.join(keys)}) DO UPDATE SET {updates}"
    else:
        conflict = "DO NOTHING"
    await conn.executemany(
        f"INSERT INTO {SCHEMA}.{table} ({names}) VALUES ({places}) ON CONFLICT {conflict}",  # noqa: S608
        [tuple(getattr(item, c) for c in columns) for item in items],
    )


async def known(conn: Connection, needed: Needed) -> Changes:
    """The stateful facts a batch touches, as they stand (what is not there yet is absent)."""
    return Changes(
        threads=await _load(conn, facts.Thread, "threads", "thread_id", needed.threads),
        promises=await _load(conn, facts.Promise, "promises", "commitment_id", needed.promises),
        escalations=await _load(
            conn, facts.Escalation, "escalations", "escalation_id", needed.escalations
        ),
        ratings=await _load(conn, facts.Rating, "ratings", "thread_id", needed.ratings),
    )


async def save(conn: Connection, changes: Changes) -> None:
    """Write what a batch changed: the stateful facts as it leaves them, and its new rows."""
    await _save(conn, "threads", ("thread_id",), list(changes.threads.values()))
    await _save(conn, "waits", ("thread_id", "began_at"), changes.waits)
    await _save(conn, "promises", ("commitment_id",), list(changes.promises.values()))
    await _save(conn, "promise_moves", (), changes.moves)
    await _save(conn, "production_answers", (), changes.answers)
    await _save(conn, "escalations", ("escalation_id",), list(changes.escalations.values()))
    await _save(conn, "escalation_raises", (), changes.raises)
    await _save(conn, "escalation_decisions", (), changes.decisions)
    await _save(conn, "notifications", (), changes.notifications)
    await _save(conn, "ratings", ("thread_id",), list(changes.ratings.values()))


# ----- reading: one aggregating statement per table ------------------------------------------


async def facts_of(conn: Connection, period: Period) -> Facts:
    """The facts the indices of `period` are computed from."""
    start, end, team = period.start, period.end, period.team
    waits = await conn.fetch(
        f"""SELECT {", ".join(_columns(facts.Wait))} FROM {SCHEMA}.waits
            WHERE began_at >= $1 AND began_at < $2 AND ($3::text IS NULL OR replier_role = $3)
            ORDER BY began_at, thread_id""",  # noqa: S608
        start,
        end,
        team,
    )
    waiting = await conn.fetch(
        f"""SELECT {", ".join(_columns(facts.Thread))} FROM {SCHEMA}.threads
            WHERE waiting_since IS NOT NULL ORDER BY waiting_since, thread_id"""  # noqa: S608
    )
    promises = await conn.fetch(
        f"""SELECT kind, maker_email, maker_role, status, at_risk, verdict, count(*) AS count
            FROM {SCHEMA}.promises
            WHERE made_at >= $1 AND made_at < $2 AND ($3::text IS NULL OR maker_role = $3)
            GROUP BY kind, maker_email, maker_role, status, at_risk, verdict""",  # noqa: S608
        start,
        end,
        team,
    )
    escalations = await conn.fetch(
        f"""SELECT rule, opened_at, decided_at, option, resolution FROM {SCHEMA}.escalations
            WHERE opened_at >= $1 AND opened_at < $2""",  # noqa: S608
        start,
        end,
    )
    raises = await conn.fetch(
        f"""SELECT level::text AS key, reminder > 0 AS reminder, count(*) AS count
            FROM {SCHEMA}.escalation_raises WHERE at >= $1 AND at < $2
            GROUP BY level, reminder > 0""",  # noqa: S608
        start,
        end,
    )
    decisions = await conn.fetch(
        f"""SELECT option, decided_by, count(*) AS count,
                   coalesce(sum(refund_amount), 0) AS refund_total,
                   count(refund_amount) AS refunds
            FROM {SCHEMA}.escalation_decisions WHERE at >= $1 AND at < $2
            GROUP BY option, decided_by""",  # noqa: S608
        start,
        end,
    )
    notifications = await conn.fetch(
        f"""SELECT template AS key, CASE WHEN sent THEN 'sent' ELSE 'failed' END AS outcome,
                   count(*) AS count
            FROM {SCHEMA}.notifications WHERE at >= $1 AND at < $2
            GROUP BY template, sent""",  # noqa: S608
        start,
        end,
    )
    answers = await conn.fetch(
        f"""SELECT answered_by AS key, verdict AS outcome, count(*) AS count
            FROM {SCHEMA}.production_answers WHERE at >= $1 AND at < $2
            GROUP BY answered_by, verdict""",  # noqa: S608
        start,
        end,
    )
    ratings = await conn.fetch(
        f"""SELECT r.rating, r.rated_at, t.last_replier_role AS team
            FROM {SCHEMA}.ratings r LEFT JOIN {SCHEMA}.threads t USING (thread_id)
            WHERE r.rated_at >= $1 AND r.rated_at < $2
              AND ($3::text IS NULL OR t.last_replier_role = $3)""",  # noqa: S608
        start,
        end,
        team,
    )
    return Facts(
        waits=[facts.Wait(**dict(r)) for r in waits],
        waiting=[facts.Thread(**dict(r)) for r in waiting],
        promises=[PromiseGroup(**dict(r)) for r in promises],
        escalations=[EscalationRow(**dict(r)) for r in escalations],
        raises=[
            Tally(r["key"], "reminder" if r["reminder"] else "raised", r["count"]) for r in raises
        ],
        decisions=[DecisionGroup(**dict(r)) for r in decisions],
        notifications=[Tally(**dict(r)) for r in notifications],
        answers=[Tally(**dict(r)) for r in answers],
        ratings=[RatingRow(**dict(r)) for r in ratings],
    )
