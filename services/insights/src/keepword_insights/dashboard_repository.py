"""The dashboard's reads of the facts (schema `insights`): the rows behind its figures, each
with its thread, and the threads a number links to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from keepword_platform.database import Connection

from .dashboard_figures import EscalationRow, PromiseRow
from .facts import Wait
from .indices import Period
from .repository import SCHEMA


@dataclass(frozen=True, slots=True)
class DashboardFacts:
    """The rows of a period the dashboard's figures are computed from."""

    waits: list[Wait]
    promises: list[PromiseRow]
    escalations: list[EscalationRow]


@dataclass(frozen=True, slots=True)
class ThreadLine:
    """A thread as the threads page lists it."""

    thread_id: str
    customer: str | None
    waiting_since: datetime | None
    first_customer_at: datetime | None
    last_reply_at: datetime | None
    replies: int


async def facts_of(conn: Connection, period: Period) -> DashboardFacts:
    """Waits that began, promises made and escalations opened in `period` (the team narrows
    replies to who replied and promises to who made them, as the indices do)."""
    start, end, team = period.start, period.end, period.team
    waits = await conn.fetch(
        f"""SELECT thread_id, began_at, answered_before, messages, replied_at, replier_email,
                   replier_role
            FROM {SCHEMA}.waits
            WHERE began_at >= $1 AND began_at < $2 AND ($3::text IS NULL OR replier_role = $3)
            ORDER BY began_at, thread_id""",  # noqa: S608
        start,
        end,
        team,
    )
    promises = await conn.fetch(
        f"""SELECT p.commitment_id, p.thread_id, p.kind, p.maker_role, p.made_at, p.status,
                   p.verdict,
                   p.verdict IS NOT NULL OR EXISTS (
                       SELECT 1 FROM {SCHEMA}.promise_moves m
                       WHERE m.commitment_id = p.commitment_id
                         AND m.to_status = 'awaiting_confirmation') AS asked
            FROM {SCHEMA}.promises p
            WHERE p.made_at >= $1 AND p.made_at < $2 AND ($3::text IS NULL OR p.maker_role = $3)
            ORDER BY p.made_at, p.commitment_id""",  # noqa: S608
        start,
        end,
        team,
    )
    escalations = await conn.fetch(
        f"""SELECT escalation_id, thread_id, rule, level FROM {SCHEMA}.escalations
            WHERE opened_at >= $1 AND opened_at < $2
            ORDER BY opened_at, escalation_id""",  # noqa: S608
        start,
        end,
    )
    return DashboardFacts(
        waits=[Wait(**dict(r)) for r in waits],
        promises=[PromiseRow(**dict(r)) for r in promises],
        escalations=[EscalationRow(**dict(r)) for r in escalations],
    )


async def threads(conn: Connection, thread_ids: Sequence[str]) -> list[ThreadLine]:
    """The threads named, waiting ones first (longest waiting first), then by thread id."""
    found = await conn.fetch(
        f"""SELECT thread_id, customer, waiting_since, first_customer_at, last_reply_at, replies
            FROM {SCHEMA}.threads WHERE thread_id = ANY($1::text[])
            ORDER BY waiting_since NULLS LAST, thread_id""",  # noqa: S608
        list(thread_ids),
    )
    known = {r["thread_id"]: ThreadLine(**dict(r)) for r in found}
    # A promise or an escalation may name a thread whose messages were never read here.
    missing = [ThreadLine(t, None, None, None, None, 0) for t in thread_ids if t not in known]
    return [*known.values(), *sorted(missing, key=lambda line: line.thread_id)]
