"""When the weekly report is due and which week it reports: local wall-clock time across the
clock changes, and the timer as the configuration says at start-up."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from keepword_insights.schedule import (
    WeeklyAt,
    armed_at,
    next_due,
    parse_weekly_at,
    previous,
    week_before,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY_8 = WeeklyAt(0, time(8, 0))


def test_parses_the_configured_day_and_time() -> None:
    assert parse_weekly_at("MON 08:00") == MONDAY_8
    assert parse_weekly_at("fri 17:30") == WeeklyAt(4, time(17, 30))
    with pytest.raises(ValueError, match="the day is one of"):
        parse_weekly_at("MONDAY 08:00")
    with pytest.raises(ValueError, match="hour"):
        parse_weekly_at("MON 25:00")


def test_the_next_monday_8_is_8_in_berlin_on_both_sides_of_the_spring_change() -> None:
    # Clocks go forward on Sunday 30 March 2025, 02:00 -> 03:00 (CET -> CEST).
    friday = datetime(2025, 3, 28, 12, tzinfo=UTC)

    due = next_due(friday, MONDAY_8, BERLIN)
    after = next_due(due, MONDAY_8, BERLIN)

    assert due == datetime(2025, 3, 31, 6, tzinfo=UTC)  # 08:00 CEST
    assert due.astimezone(BERLIN).replace(tzinfo=None) == datetime(2025, 3, 31, 8)
    assert after == datetime(2025, 4, 7, 6, tzinfo=UTC)
    # The week before the change was an hour shorter: 167 hours from one report to the next.
    before = next_due(datetime(2025, 3, 22, tzinfo=UTC), MONDAY_8, BERLIN)
    assert before == datetime(2025, 3, 24, 7, tzinfo=UTC)  # 08:00 CET
    assert due - before == timedelta(hours=167)


def test_the_next_monday_8_across_new_yorks_autumn_change() -> None:
    # Clocks go back on Sunday 1 November 2026, 02:00 -> 01:00 (EDT -> EST).
    due = next_due(datetime(2026, 10, 27, tzinfo=UTC), MONDAY_8, NEW_YORK)

    assert due == datetime(2026, 11, 2, 13, tzinfo=UTC)  # 08:00 EST
    before = next_due(datetime(2026, 10, 20, tzinfo=UTC), MONDAY_8, NEW_YORK)
    assert before == datetime(2026, 10, 26, 12, tzinfo=UTC)  # 08:00 EDT
    assert due - before == timedelta(hours=169)


def test_due_is_strictly_after_the_time_given() -> None:
    due = datetime(2025, 3, 31, 6, tzinfo=UTC)

    assert next_due(due - timedelta(seconds=1), MONDAY_8, BERLIN) == due
    assert next_due(due, MONDAY_8, BERLIN) == due + timedelta(days=7)


def test_the_report_covers_the_last_whole_local_week() -> None:
    due = datetime(2026, 11, 2, 13, tzinfo=UTC)  # Monday 08:00 EST

    week = week_before(due, NEW_YORK)

    assert week.label == "2026-W44"
    assert week.start == datetime(2026, 10, 26, 4, tzinfo=UTC)  # Monday 00:00 EDT
    assert week.end == datetime(2026, 11, 2, 5, tzinfo=UTC)  # Monday 00:00 EST
    assert week.end - week.start == timedelta(hours=169)
    earlier = previous(week, NEW_YORK)
    assert earlier.label == "2026-W43"
    assert (earlier.start, earlier.end) == (datetime(2026, 10, 19, 4, tzinfo=UTC), week.start)


def test_a_report_due_midweek_reports_the_week_that_ended_before() -> None:
    friday = datetime(2025, 1, 3, 16, tzinfo=UTC)  # ISO week 1 of 2025 began 30 December 2024

    assert week_before(friday, BERLIN).label == "2024-W52"


def test_the_timer_at_start_up() -> None:
    now = datetime(2025, 3, 28, 12, tzinfo=UTC)
    due = datetime(2025, 3, 31, 6, tzinfo=UTC)

    assert armed_at(None, now, MONDAY_8, BERLIN) == due
    # A missed report (the service was down) is sent late, not skipped.
    overdue = now - timedelta(days=4)
    assert armed_at(overdue, now, MONDAY_8, BERLIN) == overdue
    # A changed schedule moves a timer set for later; the report switched off drops it.
    assert armed_at(due + timedelta(hours=1), now, MONDAY_8, BERLIN) == due
    assert armed_at(due, now, None, BERLIN) is None
