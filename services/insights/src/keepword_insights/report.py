"""The weekly report's figures and its events, as pure functions: the indices of a week and of
the week before in, one `WeeklyReportDue` per manager out.

The week's figures are the indices' own (`indices.indices` over the week): first replies by when
the wait began, escalations by when they opened, "handle it" and refunds by when they were
decided. Promises kept and broken count the ledger's moves into those states during the week
(what happened that week, whenever the promise was made), and the broken ones are listed.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from keepword_events import Envelope, OptionKind, Person, Role, WeeklyReportDue, new_envelope
from keepword_events.reports import BrokenPromise, ReplyTimes, Wait, WeekFigures
from keepword_platform.company import PersonEntry

from .facts import Thread
from .facts import Wait as AnsweredWait
from .indices import Clock, Json
from .schedule import ReportWeek

WORST_WAITS = 3
BROKEN_LISTED = 50
_IDS = uuid.UUID("6f1d0c8e-2b7a-4c55-9e3f-a8d41b07c2e6")


@dataclass(frozen=True, slots=True)
class PromiseMoves:
    """Promises the ledger moved to kept or broken during a week, and the broken ones."""

    kept: int
    broken: int
    broken_list: Sequence[BrokenPromise] = ()


def week_figures(found: Json, moves: PromiseMoves) -> WeekFigures:
    """The headline figures of a week from its indices and its promise moves."""
    first = found["replies"]["first_reply"]["all"]
    escalations = found["escalations"]
    return WeekFigures(
        first_reply=ReplyTimes(
            count=first["count"],
            p50_seconds=first["p50_seconds"],
            p90_seconds=first["p90_seconds"],
            within_sla_percent=first["within_sla_percent"],
        ),
        promises_kept=moves.kept,
        promises_broken=moves.broken,
        escalations_opened=escalations["opened"],
        handle_it=escalations["decisions_by_option"][OptionKind.HANDLE_IT.value],
        refunds=escalations["refunds"]["count"],
        refund_total=Decimal(escalations["refunds"]["total"]),
    )


def worst_waits(
    answered: Sequence[AnsweredWait],
    waiting: Sequence[Thread],
    week: ReportWeek,
    clock: Clock,
    count: int = WORST_WAITS,
) -> tuple[Wait, ...]:
    """The `count` longest waits (business time) that began in the week: those a reply ended,
    and those still open, measured to the time of reporting (`clock.now`)."""
    found = [
        Wait(
            thread_id=w.thread_id,
            began_at=w.began_at,
            business_seconds=clock.business_seconds(w.began_at, w.replied_at),
            answered=True,
        )
        for w in answered
        if week.start <= w.began_at < week.end
    ]
    found += [
        Wait(
            thread_id=t.thread_id,
            began_at=t.waiting_since,
            business_seconds=clock.business_seconds(t.waiting_since, clock.now),
            answered=False,
        )
        for t in waiting
        if t.waiting_since is not None and week.start <= t.waiting_since < week.end
    ]
    found.sort(key=lambda w: (-w.business_seconds, w.began_at, w.thread_id))
    return tuple(found[:count])


def report_thread(manager_email: str) -> str:
    """The thread id (and so the record key) of one manager's reports: stable, and free of
    their address, which logs must not carry."""
    digest = hashlib.sha256(manager_email.strip().lower().encode()).hexdigest()
    return f"report-{digest[:16]}"


def report_event_id(week: str, manager_email: str) -> str:
    """One id per (week, manager): publishing the report again can never mean a second email."""
    return str(uuid.uuid5(_IDS, f"weekly-report:{week}:{manager_email.strip().lower()}"))


def reports_due(
    week: ReportWeek,
    timezone: str,
    managers: Sequence[PersonEntry],
    this_week: WeekFigures,
    week_before: WeekFigures,
    worst: Sequence[Wait],
    broken: Sequence[BrokenPromise],
    *,
    source: str,
    now: datetime,
) -> list[Envelope[WeeklyReportDue]]:
    """The week's report for each manager, under its (week, manager) event id."""
    listed = tuple(sorted(broken, key=lambda b: (b.broken_at, b.commitment_id))[:BROKEN_LISTED])
    due = []
    for manager in managers:
        thread = report_thread(str(manager.email))
        report = WeeklyReportDue(
            thread_id=thread,
            correlation_id=thread,
            week=week.label,
            week_starts_at=week.start,
            week_ends_at=week.end,
            timezone=timezone,
            manager=Person(email=manager.email, name=manager.name, role=Role(manager.role)),
            this_week=this_week,
            week_before=week_before,
            worst_waits=tuple(worst),
            broken_promises=listed,
            broken_promises_more=len(broken) - len(listed),
        )
        event_id = report_event_id(week.label, str(manager.email))
        due.append(new_envelope(report, source=source, event_id=event_id, time=now))
    return due
