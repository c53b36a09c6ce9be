"""When the weekly report is due, and which week it reports: pure, in the company's time zone.

The report is due on a weekday at a wall-clock time there ("MON 08:00"): computed on the local
calendar and only then turned into UTC, so it stays at 08:00 across a clock change (the gap
between two reports is then 167 or 169 hours). It reports the last whole ISO week (Monday 00:00
to Monday 00:00, local) that ended at or before the time it is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


@dataclass(frozen=True, slots=True)
class WeeklyAt:
    """A weekday (0 = Monday) and a local wall-clock time."""

    weekday: int
    at: time


@dataclass(frozen=True, slots=True)
class ReportWeek:
    """An ISO week of the company's calendar: its label and [start, end) in UTC."""

    label: str  # 2026-W49
    start: datetime
    end: datetime


def parse_weekly_at(text: str) -> WeeklyAt:
    """`"MON 08:00"` as a WeeklyAt; ValueError when it is not one."""
    day, _, clock = text.strip().upper().partition(" ")
    if day not in DAYS:
        raise ValueError(f"{text!r}: the day is one of {', '.join(DAYS)}")
    return WeeklyAt(DAYS.index(day), time.fromisoformat(clock.strip()))


def _at_local(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A wall time that does not exist (inside a spring-forward gap) is read with the offset
    # before the change, as zoneinfo does: it lands just after the gap, never skipped.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def next_due(after: datetime, when: WeeklyAt, zone: ZoneInfo) -> datetime:
    """The first time strictly after `after` that is `when` in `zone` (aware, UTC)."""
    local_day = after.astimezone(zone).date()
    day = local_day + timedelta(days=(when.weekday - local_day.weekday()) % 7)
    due = _at_local(day, when.at, zone)
    while due <= after:
        day += timedelta(days=7)
        due = _at_local(day, when.at, zone)
    return due


def week_before(due: datetime, zone: ZoneInfo) -> ReportWeek:
    """The last whole ISO week (local Monday to Monday) that ended at or before `due`."""
    local_day = due.astimezone(zone).date()
    end_day = local_day - timedelta(days=local_day.weekday())
    return week_starting(end_day - timedelta(days=7), zone)


def week_starting(monday: date, zone: ZoneInfo) -> ReportWeek:
    """The ISO week that begins on `monday` (local midnight to local midnight)."""
    year, week, _ = monday.isocalendar()
    return ReportWeek(
        label=f"{year}-W{week:02d}",
        start=_at_local(monday, time(0), zone),
        end=_at_local(monday + timedelta(days=7), time(0), zone),
    )


def previous(week: ReportWeek, zone: ZoneInfo) -> ReportWeek:
    """The ISO week before `week`."""
    monday = week.start.astimezone(zone).date()
    return week_starting(monday - timedelta(days=7), zone)


def armed_at(
    current: datetime | None, now: datetime, when: WeeklyAt | None, zone: ZoneInfo
) -> datetime | None:
    """When the report's timer should be set at start-up, given the one set now (if any):
    None for no timer (the report is off); an overdue one stays, so a report missed while the
    service was down is sent late rather than never; otherwise the next due time, so a changed
    `weekly_report_at` or time zone takes effect."""
    if when is None:
        return None
    if current is not None and current <= now:
        return current
    return next_due(now, when, zone)


MONDAY_8 = WeeklyAt(0, time(8, 0))  # the default: `weekly_report_at = "MON 08:00"`
