"""The weekly report's durable timer: armed at start-up, fired at the due time in a transaction
that writes each manager's `WeeklyReportDue` to the outbox and sets the next one.

Firing, the events and the next timer commit together (`keepword_platform.messaging.timers`),
so each week's reports are written once, by one instance, and a crash in between fires the
timer again with nothing written. The event id is (week, manager) all the same: the notifier's
send log keeps one email per event and recipient whatever reaches it twice.

Insights has no other timer: this extension runs the only firing loop over `insights.timers`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog
from keepword_events import Envelope, Event
from keepword_platform.company import CompanyConfig
from keepword_platform.database import Connection
from keepword_platform.messaging.subscription import timers_extension
from keepword_platform.messaging.timers import Timer, set_timer
from keepword_platform.service import Extension, Runtime

from . import report_store, repository
from .indices import Period, indices
from .reading import clock_of
from .report import reports_due, week_figures, worst_waits
from .schedule import WeeklyAt, armed_at, next_due, parse_weekly_at, previous, week_before

log = structlog.get_logger(__name__)

SOURCE = "/keepword/insights"
Clock = Callable[[], datetime]


def _schedule(company: CompanyConfig) -> tuple[WeeklyAt | None, ZoneInfo]:
    zone = ZoneInfo(company.company.timezone)
    if not company.insights.weekly_report:
        return None, zone
    return parse_weekly_at(company.insights.weekly_report_at), zone


async def arm(conn: Connection, company: CompanyConfig, now: datetime) -> datetime | None:
    """Set (or move, or cancel) the report's timer as the configuration says; when it fires."""
    when, zone = _schedule(company)
    current = await report_store.report_timer(conn)
    at = armed_at(current, now, when, zone)
    if at is None:
        await report_store.cancel_report_timer(conn)
    elif at != current:
        await set_timer(
            conn, repository.SCHEMA, report_store.TIMER_KIND, report_store.TIMER_SUBJECT, at
        )
    return at


async def weekly_reports(
    conn: Connection, company: CompanyConfig, timer: Timer, now: datetime
) -> Sequence[Envelope[Event]]:
    """The reports the timer calls for (of the week that ended before it was due), and the
    next timer set."""
    when, zone = _schedule(company)
    if when is None or timer.kind != report_store.TIMER_KIND:
        return []
    await set_timer(
        conn,
        repository.SCHEMA,
        report_store.TIMER_KIND,
        report_store.TIMER_SUBJECT,
        next_due(max(now, timer.fire_at), when, zone),
    )
    managers = company.management_chain()
    if not managers:
        return []
    week = week_before(timer.fire_at, zone)
    earlier = previous(week, zone)
    clock = clock_of(company, now)
    figures = []
    for period in (Period(week.start, week.end), Period(earlier.start, earlier.end)):
        facts = await repository.facts_of(conn, period)
        moves = await report_store.promise_moves(conn, period)
        figures.append((facts, moves, week_figures(indices(facts, period, clock), moves)))
    (facts, moves, this_week), (_, _, before) = figures
    log.info("weekly reports due", week=week.label, managers=len(managers))
    return reports_due(
        week,
        zone.key,
        managers,
        this_week,
        before,
        worst_waits(facts.waits, facts.waiting, week, clock),
        moves.broken_list,
        source=SOURCE,
        now=now,
    )


def weekly_report_extension(clock: Clock = lambda: datetime.now(UTC)) -> Extension:
    """Arms the report's timer at start-up and fires it while the service runs."""

    @contextlib.asynccontextmanager
    async def running(runtime: Runtime) -> AsyncIterator[None]:
        async with runtime.db.acquire() as conn, conn.transaction():
            at = await arm(conn, runtime.company, clock())
        log.info("weekly report", next_at=at.isoformat() if at else None)

        async def fire(conn: Connection, timer: Timer) -> Sequence[Envelope[Event]]:
            return await weekly_reports(conn, runtime.company, timer, clock())

        async with timers_extension(repository.SCHEMA, SOURCE, fire)(runtime):
            yield

    return running
