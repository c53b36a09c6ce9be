"""The weekly report's figures, this week against the week before, and its events: one per
manager, under an id of (week, manager), keyed by the manager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from keepword_events import decode, encode
from keepword_events.reports import BrokenPromise
from keepword_insights.facts import Thread, Wait
from keepword_insights.indices import DecisionGroup, EscalationRow, Facts, Period, indices
from keepword_insights.reading import clock_of
from keepword_insights.report import (
    PromiseMoves,
    report_event_id,
    report_thread,
    reports_due,
    week_figures,
    worst_waits,
)
from keepword_insights.schedule import previous, week_before
from keepword_platform.company import CompanyConfig

# Around the clock, a first reply due within 4 hours: business time is wall time here.
COMPANY = CompanyConfig.model_validate(
    {
        "company": {"timezone": "Europe/Berlin"},
        "sla": {"first_reply": "4h"},
        "people": [
            {"email": "Ana.Lead@example.com", "name": "Ana", "role": "management", "level": 1},
            {"email": "ben@example.com", "name": "Ben", "role": "management", "level": 2},
            {"email": "sam@example.com", "name": "Sam", "role": "sales"},
        ],
    }
)
DUE = datetime(2025, 3, 31, 6, tzinfo=UTC)  # Monday 08:00 CEST, after the spring change
WEEK = week_before(DUE, ZoneInfo("Europe/Berlin"))
H = timedelta(hours=1)


def _wait(thread: str, began: datetime, hours: float) -> Wait:
    return Wait(thread, began, False, 1, began + hours * H, "sam@example.com", "sales")


def _facts(waits: list[Wait], opened: int, handle_it: int, refunds: list[Decimal]) -> Facts:
    return Facts(
        waits=waits,
        waiting=[],
        promises=[],
        escalations=[
            EscalationRow("stalled", WEEK.start + i * H, None, None, None) for i in range(opened)
        ],
        raises=[],
        decisions=[
            DecisionGroup("handle_it", "ana.lead@example.com", handle_it, Decimal(0), 0),
            DecisionGroup(
                "refund", "ben@example.com", len(refunds), sum(refunds, Decimal(0)), len(refunds)
            ),
        ],
        notifications=[],
        answers=[],
    )


def test_the_weeks_figures_come_from_its_indices_and_its_promise_moves() -> None:
    clock = clock_of(COMPANY, DUE)
    start = WEEK.start
    # Five first replies: 1, 2, 3, 5 and 8 hours; the SLA is 4 hours.
    waits = [_wait(f"thr-{i}", start + i * 10 * H, h) for i, h in enumerate((1, 2, 3, 5, 8))]
    period = Period(WEEK.start, WEEK.end)

    found = indices(_facts(waits, 3, 2, [Decimal("120.50"), Decimal("79.50")]), period, clock)
    figures = week_figures(found, PromiseMoves(kept=4, broken=1))

    assert figures.first_reply.count == 5
    assert figures.first_reply.p50_seconds == 3 * 3600
    assert figures.first_reply.p90_seconds == 8 * 3600
    assert figures.first_reply.within_sla_percent == 60.0
    assert (figures.promises_kept, figures.promises_broken) == (4, 1)
    assert (figures.escalations_opened, figures.handle_it) == (3, 2)
    assert (figures.refunds, figures.refund_total) == (2, Decimal("200.00"))


def test_the_worst_waits_are_the_weeks_longest_answered_or_not() -> None:
    clock = clock_of(COMPANY, DUE)
    start = WEEK.start
    answered = [
        _wait("thr-short", start + H, 1),
        _wait("thr-long", start + 2 * H, 30),
        _wait("thr-mid", start + 3 * H, 10),
        _wait("thr-last-week", start - 48 * H, 90),  # began before the week: not this week's
    ]
    still = [
        # Waiting since Sunday 22:00 until the report on Monday 08:00: 10 hours.
        Thread("thr-open", waiting_since=WEEK.end - 2 * H),
        Thread("thr-old-open", waiting_since=start - H),
    ]

    worst = worst_waits(answered, still, WEEK, clock)

    # Equal waits: the one that began first comes first.
    assert [(w.thread_id, w.business_seconds, w.answered) for w in worst] == [
        ("thr-long", 30 * 3600, True),
        ("thr-mid", 10 * 3600, True),
        ("thr-open", 10 * 3600, False),
    ]


def test_one_report_per_manager_with_an_id_of_week_and_manager() -> None:
    clock = clock_of(COMPANY, DUE)
    earlier = previous(WEEK, clock.calendar.zone)
    this = week_figures(
        indices(_facts([], 1, 0, []), Period(WEEK.start, WEEK.end), clock), PromiseMoves(2, 1)
    )
    before = week_figures(
        indices(_facts([], 4, 1, []), Period(earlier.start, earlier.end), clock),
        PromiseMoves(0, 3),
    )
    broken = [
        BrokenPromise(
            commitment_id="cmt-1",
            thread_id="thr-1",
            kind="delivery",
            maker_email="sam@example.com",
            broken_at=WEEK.start + H,
        )
    ]

    managers = COMPANY.management_chain()
    due = reports_due(
        WEEK, "Europe/Berlin", managers, this, before, (), broken, source="/kw/insights", now=DUE
    )

    assert [e.data.manager.email for e in due] == ["Ana.Lead@example.com", "ben@example.com"]
    assert [e.id for e in due] == [
        report_event_id("2025-W13", "ana.lead@example.com"),
        report_event_id("2025-W13", "ben@example.com"),
    ]
    assert len({e.id for e in due}) == 2
    assert report_event_id("2025-W13", "ben@example.com") != report_event_id(
        "2025-W14", "ben@example.com"
    )
    first = due[0]
    assert first.data.week == "2025-W13"
    assert first.data.this_week.escalations_opened == 1
    assert first.data.week_before.escalations_opened == 4
    assert first.data.week_before.promises_broken == 3
    assert first.data.broken_promises == tuple(broken)
    # Keyed by the manager, without their address.
    record = encode(first)
    assert record.key == report_thread("ana.lead@example.com").encode()
    assert b"ana" not in record.key.lower()
    assert decode(record.value, record.headers) == first
