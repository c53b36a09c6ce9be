"""Business-hours SLA clocks: nights, weekends, holidays, DST, round trips, around the clock."""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import holidays
import pytest
from keepword_platform.business_hours import (
    Calendar,
    add_business_time,
    business_time_between,
    calendar_for,
    is_open,
)
from keepword_platform.company import BusinessHours

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")

US_OFFICE_HOURS = BusinessHours(holidays_country="US")  # Monday to Friday, 09:00-17:00
GERMAN_OFFICE_HOURS = BusinessHours(holidays_country="DE")
EVERY_DAY_HOURS = BusinessHours(days=(0, 1, 2, 3, 4, 5, 6))
WHOLE_DAY_HOURS = BusinessHours(days=(0, 1, 2, 3, 4, 5, 6), start="00:00", end="24:00")
SIX_DAY_WEEK_HOURS = BusinessHours(days=(0, 1, 2, 3, 4, 5), start="08:30", end="18:00")

# Short names, so that a table row reads as one line.
US = calendar_for(US_OFFICE_HOURS, "America/New_York")
DE = calendar_for(GERMAN_OFFICE_HOURS, "Europe/Berlin")
DAILY = calendar_for(EVERY_DAY_HOURS, "America/New_York")
WHOLE = calendar_for(WHOLE_DAY_HOURS, "America/New_York")
SIX = calendar_for(SIX_DAY_WEEK_HOURS, "America/New_York")
ALWAYS = calendar_for(None, "America/New_York")  # around the clock

S = timedelta(seconds=1)
H = timedelta(hours=1)


def ny(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A New York wall-clock time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=NEW_YORK)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Berlin wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


# --- deadlines, one situation per row ----------------------------------------------------------


# (situation, calendar, start, duration, due)
DEADLINES = [
    # US office, Monday to Friday 09:00-17:00, US public holidays (2026-11-24 is a Tuesday)
    ("during hours, same day", US, ny(2026, 11, 24, 10), 4 * H, ny(2026, 11, 24, 14)),
    ("during hours, past closing", US, ny(2026, 11, 24, 15), 4 * H, ny(2026, 11, 25, 11)),
    ("before opening", US, ny(2026, 11, 24, 7, 30), 4 * H, ny(2026, 11, 24, 13)),
    ("at midnight", US, ny(2026, 11, 24), 4 * H, ny(2026, 11, 24, 13)),
    ("after closing", US, ny(2026, 11, 24, 18), 4 * H, ny(2026, 11, 25, 13)),
    ("at the closing instant", US, ny(2026, 11, 24, 17), 4 * H, ny(2026, 11, 25, 13)),
    ("5 seconds", US, ny(2026, 11, 24, 10), 5 * S, ny(2026, 11, 24, 10, 0, 5)),
    ("5s over closing", US, ny(2026, 11, 24, 16, 59, 58), 5 * S, ny(2026, 11, 25, 9, 0, 3)),
    ("5 seconds on a Sunday", US, ny(2026, 11, 22, 12), 5 * S, ny(2026, 11, 23, 9, 0, 5)),
    ("a day's hours end at closing", US, ny(2026, 11, 24, 9), 8 * H, ny(2026, 11, 24, 17)),
    ("Friday over the weekend", US, ny(2026, 11, 20, 16), 4 * H, ny(2026, 11, 23, 12)),
    ("start on a Saturday", US, ny(2026, 11, 21, 12), 4 * H, ny(2026, 11, 23, 13)),
    ("over Thanksgiving", US, ny(2026, 11, 25, 15), 4 * H, ny(2026, 11, 27, 11)),
    ("start on Thanksgiving", US, ny(2026, 11, 26, 10), 4 * H, ny(2026, 11, 27, 13)),
    # Tuesday 7h + Wednesday 8h + (Thanksgiving) + Friday 8h + Monday 1h
    ("24 business hours", US, ny(2026, 11, 24, 10), 24 * H, ny(2026, 11, 30, 10)),
    ("3 business days", US, ny(2026, 11, 30, 9), 72 * H, ny(2026, 12, 10, 17)),
    # 1h on Wednesday, then 62 working days (Thanksgiving, Christmas, New Year, MLK Day and
    # Presidents' Day skipped) end on Friday 26 February, and 7h more on Monday
    ("3 weeks", US, ny(2026, 11, 25, 16), timedelta(weeks=3), ny(2027, 3, 1, 16)),
    # Independence Day 2026 is a Saturday; the holidays package observes it on Friday 3 July
    ("observed Independence Day", US, ny(2026, 7, 2, 15), 4 * H, ny(2026, 7, 6, 11)),
    # Christmas 2027 is a Saturday, observed on Friday 24 December
    ("observed Christmas", US, ny(2027, 12, 23, 15), 4 * H, ny(2027, 12, 27, 11)),
    # New Year's Day 2028 is a Saturday, observed on Friday 31 December 2027: the year before
    ("observed New Year", US, ny(2027, 12, 30, 15), 4 * H, ny(2028, 1, 3, 11)),
    # DST in New York: Sunday 2026-03-08 (spring forward), Sunday 2026-11-01 (fall back)
    ("spring forward weekend", US, ny(2026, 3, 6, 15), 4 * H, ny(2026, 3, 9, 11)),
    ("24h over spring forward", US, ny(2026, 3, 6, 16), 24 * H, ny(2026, 3, 11, 16)),
    ("fall back weekend", US, ny(2026, 10, 30, 15), 4 * H, ny(2026, 11, 2, 11)),
    ("start in the repeated hour", US, ny(2026, 11, 1, 1, 30), 5 * S, ny(2026, 11, 2, 9, 0, 5)),
    # Every day 09:00-17:00: the DST Sundays themselves are working days
    ("23-hour day, 09:00-17:00", DAILY, ny(2026, 3, 8, 9), 8 * H, ny(2026, 3, 8, 17)),
    ("over the short night", DAILY, ny(2026, 3, 7, 16), 2 * H, ny(2026, 3, 8, 10)),
    ("25-hour day, 09:00-17:00", DAILY, ny(2026, 11, 1, 9), 8 * H, ny(2026, 11, 1, 17)),
    ("over the long night", DAILY, ny(2026, 10, 31, 16), 2 * H, ny(2026, 11, 1, 10)),
    # Open 00:00-24:00: a 23-hour day holds 23 hours of work, a 25-hour day 25
    ("whole 23-hour day", WHOLE, ny(2026, 3, 8), 24 * H, ny(2026, 3, 9, 1)),
    ("whole 25-hour day", WHOLE, ny(2026, 11, 1), 24 * H, ny(2026, 11, 1, 23)),
    # Berlin, German holidays; DST on Sunday 2026-03-29 and Sunday 2026-10-25
    ("Berlin spring forward", DE, berlin(2026, 3, 27, 15), 4 * H, berlin(2026, 3, 30, 11)),
    ("Berlin Easter", DE, berlin(2026, 4, 2, 15), 4 * H, berlin(2026, 4, 7, 11)),
    ("Berlin fall back", DE, berlin(2026, 10, 23, 16), 2 * H, berlin(2026, 10, 26, 10)),
    # 23rd and 24th (not a public holiday in Germany), then the 28th: the 25th and 26th are
    ("Berlin over Christmas", DE, berlin(2026, 12, 23, 9), 24 * H, berlin(2026, 12, 28, 17)),
    # A custom week: Monday to Saturday, 08:30-18:00, no holidays
    ("Saturday is a working day", SIX, ny(2026, 11, 21, 10), 2 * H, ny(2026, 11, 21, 12)),
    ("Saturday evening to Monday", SIX, ny(2026, 11, 21, 17), 2 * H, ny(2026, 11, 23, 9, 30)),
    ("before half past eight", SIX, ny(2026, 11, 23, 8), H / 2, ny(2026, 11, 23, 9)),
    ("a whole 9.5-hour day", SIX, ny(2026, 11, 23, 8, 30), 9.5 * H, ny(2026, 11, 23, 18)),
    ("no holidays configured", SIX, ny(2026, 11, 26, 17), 2 * H, ny(2026, 11, 27, 9, 30)),
    # Friday 6h, then 9.5h a day from Saturday to the next Friday (63h), and 9h on Saturday
    ("3 days on a six-day week", SIX, ny(2026, 11, 20, 12), 72 * H, ny(2026, 11, 28, 17, 30)),
    # Around the clock: plain arithmetic on real time
    ("around the clock", ALWAYS, ny(2026, 11, 21, 12), 4 * H, ny(2026, 11, 21, 16)),
    ("5s, always open", ALWAYS, ny(2026, 11, 21, 23, 59, 58), 5 * S, ny(2026, 11, 22, 0, 0, 3)),
    ("always open, spring forward", ALWAYS, ny(2026, 3, 7, 12), 24 * H, ny(2026, 3, 8, 13)),
    ("always open, fall back", ALWAYS, ny(2026, 10, 31, 12), 24 * H, ny(2026, 11, 1, 11)),
]


@pytest.mark.parametrize(
    ("situation", "calendar", "start", "duration", "due"),
    DEADLINES,
    ids=[row[0] for row in DEADLINES],
)
def test_deadline(
    situation: str, calendar: Calendar, start: datetime, duration: timedelta, due: datetime
) -> None:
    found = add_business_time(start, duration, calendar)

    assert found == due, (situation, found.astimezone(start.tzinfo))
    assert found.tzinfo is UTC
    assert business_time_between(start, found, calendar) == duration


def test_the_start_may_come_in_any_time_zone() -> None:
    start = ny(2026, 11, 24, 15)

    in_utc = add_business_time(start.astimezone(UTC), 4 * H, US)
    in_tokyo = add_business_time(start.astimezone(ZoneInfo("Asia/Tokyo")), 4 * H, US)

    assert in_utc == in_tokyo == ny(2026, 11, 25, 11)


def test_an_opening_time_lost_to_spring_forward_opens_an_hour_later() -> None:
    night_shift = calendar_for(
        BusinessHours(days=tuple(range(7)), start="02:30", end="05:00"), "America/New_York"
    )

    # 02:30 does not exist on 2026-03-08: zoneinfo reads it with the old offset, i.e. 03:30 EDT
    assert add_business_time(ny(2026, 3, 8), H, night_shift) == ny(2026, 3, 8, 4, 30)
    assert business_time_between(ny(2026, 3, 8), ny(2026, 3, 9), night_shift) == 1.5 * H


def test_a_zero_duration_waits_for_the_next_opening() -> None:
    assert add_business_time(ny(2026, 11, 26, 3), timedelta(0), US) == ny(2026, 11, 27, 9)
    assert add_business_time(ny(2026, 11, 27, 10), timedelta(0), US) == ny(2026, 11, 27, 10)


# --- elapsed business time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "calendar", "start", "end", "elapsed"),
    [
        ("same day", US, ny(2026, 11, 24, 10), ny(2026, 11, 24, 14), 4 * H),
        ("overnight", US, ny(2026, 11, 24, 16), ny(2026, 11, 25, 10), 2 * H),
        ("over the weekend", US, ny(2026, 11, 20, 16), ny(2026, 11, 23, 10), 2 * H),
        ("over Thanksgiving", US, ny(2026, 11, 25, 16), ny(2026, 11, 27, 10), 2 * H),
        ("all weekend", US, ny(2026, 11, 21, 8), ny(2026, 11, 22, 20), timedelta(0)),
        ("the night", US, ny(2026, 11, 24, 17), ny(2026, 11, 25, 9), timedelta(0)),
        ("end before start", US, ny(2026, 11, 24, 14), ny(2026, 11, 24, 10), timedelta(0)),
        ("no time at all", US, ny(2026, 11, 24, 14), ny(2026, 11, 24, 14), timedelta(0)),
        ("over spring forward", US, ny(2026, 3, 6, 9), ny(2026, 3, 9, 17), 16 * H),
        ("over fall back", US, ny(2026, 10, 30, 9), ny(2026, 11, 2, 17), 16 * H),
        # 261 weekdays in 2026, 11 of them public holidays: 250 days of 8 hours
        ("the year 2026", US, ny(2026, 1, 1), ny(2027, 1, 1), 2000 * H),
        ("a 23-hour day", WHOLE, ny(2026, 3, 8), ny(2026, 3, 9), 23 * H),
        ("a 25-hour day", WHOLE, ny(2026, 11, 1), ny(2026, 11, 2), 25 * H),
        ("always open, 23-hour day", ALWAYS, ny(2026, 3, 8), ny(2026, 3, 9), 23 * H),
        ("always open, reversed", ALWAYS, ny(2026, 3, 9), ny(2026, 3, 8), timedelta(0)),
    ],
)  # fmt: skip
def test_business_time_between(
    name: str, calendar: Calendar, start: datetime, end: datetime, elapsed: timedelta
) -> None:
    assert business_time_between(start, end, calendar) == elapsed, name


# --- open or closed --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "moment", "expected"),
    [
        (US, ny(2026, 11, 24, 9), True),  # the opening instant is open
        (US, ny(2026, 11, 24, 8, 59, 59), False),
        (US, ny(2026, 11, 24, 16, 59, 59), True),
        (US, ny(2026, 11, 24, 17), False),  # the closing instant is closed
        (US, ny(2026, 11, 21, 12), False),  # Saturday
        (US, ny(2026, 11, 26, 12), False),  # Thanksgiving
        (US, ny(2026, 7, 3, 12), False),  # Independence Day, observed
        (US, ny(2026, 3, 9, 9, 30), True),  # the Monday after spring forward
        (DE, berlin(2026, 4, 6, 12), False),  # Easter Monday
        (DE, berlin(2026, 4, 7, 12), True),
        (SIX, ny(2026, 11, 21, 8, 30), True),
        (SIX, ny(2026, 11, 22, 12), False),
        (ALWAYS, ny(2026, 12, 25, 3), True),
    ],
)
def test_is_open(calendar: Calendar, moment: datetime, expected: bool) -> None:
    assert is_open(moment, calendar) is expected
    assert is_open(moment.astimezone(UTC), calendar) is expected


# --- configuration -----------------------------------------------------------------------------


def test_calendar_from_configuration() -> None:
    calendar = calendar_for(SIX_DAY_WEEK_HOURS, "America/New_York")

    assert calendar.zone == NEW_YORK
    assert calendar.hours is not None
    assert calendar.hours.workdays == frozenset(range(6))
    assert calendar.hours.opens == timedelta(hours=8, minutes=30)
    assert calendar.hours.closes == timedelta(hours=18)
    assert not calendar.around_the_clock
    assert ALWAYS.around_the_clock
    assert (
        calendar_for(BusinessHours(holidays_country="us"), "UTC").hours
        == calendar_for(BusinessHours(holidays_country="US"), "UTC").hours
    )


@pytest.mark.parametrize(
    ("hours", "timezone", "complaint"),
    [
        (BusinessHours(), "Mars/Olympus_Mons", "unknown time zone"),
        (BusinessHours(holidays_country="XX"), "UTC", "does not know the country"),
        (BusinessHours(days=()), "UTC", "at least one working day"),
        (BusinessHours(days=(7,)), "UTC", "0 (Monday) to 6"),
        (BusinessHours(start="17:00", end="09:00"), "UTC", "open before they close"),
        (BusinessHours(start="09:00", end="09:00"), "UTC", "open before they close"),
        (BusinessHours(end="24:30"), "UTC", "not a time of day"),
        (BusinessHours(start="09:60"), "UTC", "not a time of day"),
    ],
)
def test_unusable_configuration_is_refused(
    hours: BusinessHours, timezone: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        calendar_for(hours, timezone)


def test_naive_times_and_negative_durations_are_refused() -> None:
    naive = datetime(2026, 11, 24, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(naive, H, US)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(ny(2026, 11, 24, 10), naive, US)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(naive, ALWAYS)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(ny(2026, 11, 24, 10), -H, US)


# --- properties over many random starts and durations ----------------------------------------

CALENDARS = {
    "US office": (US, US_OFFICE_HOURS, NEW_YORK),
    "German office": (DE, GERMAN_OFFICE_HOURS, BERLIN),
    "every day": (DAILY, EVERY_DAY_HOURS, NEW_YORK),
    "whole days": (WHOLE, WHOLE_DAY_HOURS, NEW_YORK),
    "six-day week": (SIX, SIX_DAY_WEEK_HOURS, NEW_YORK),
    "around the clock": (ALWAYS, None, NEW_YORK),
}
SAMPLES = 300
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_SECONDS = int(timedelta(days=2 * 365).total_seconds())


def random_instant(rng: random.Random) -> datetime:
    """Somewhere in 2026-2027, to the microsecond."""
    return FIRST + timedelta(
        seconds=rng.randrange(SPAN_SECONDS), microseconds=rng.randrange(1_000_000)
    )


def random_duration(rng: random.Random) -> timedelta:
    """Seconds, minutes, hours, days or weeks, zero included."""
    unit = rng.choice([timedelta(seconds=1), timedelta(minutes=1), H, timedelta(days=1)])
    return unit * rng.randrange(0, 60) + timedelta(microseconds=rng.randrange(2) * 123_456)


def samples(seed: str) -> list[tuple[datetime, timedelta]]:
    rng = random.Random(seed)
    return [(random_instant(rng), random_duration(rng)) for _ in range(SAMPLES)]


@pytest.mark.parametrize("name", CALENDARS)
def test_measuring_back_gives_the_duration(name: str) -> None:
    calendar = CALENDARS[name][0]
    for start, duration in samples(f"there and back {name}"):
        due = add_business_time(start, duration, calendar)
        assert due >= start
        assert business_time_between(start, due, calendar) == duration, (start, duration)


@pytest.mark.parametrize("name", CALENDARS)
def test_adding_what_elapsed_gives_the_end_when_open(name: str) -> None:
    calendar = CALENDARS[name][0]
    rng = random.Random(f"back and there {name}")
    for _ in range(SAMPLES):
        start, end = sorted((random_instant(rng), random_instant(rng)))
        end = start + (end - start) / 50  # mostly days or weeks apart, not months
        elapsed = business_time_between(start, end, calendar)
        due = add_business_time(start, elapsed, calendar)
        assert business_time_between(due, end, calendar) == timedelta(0)
        if elapsed:
            # The earliest instant by which that much has elapsed: the last closing when `end`
            # falls in closed time. (Nothing elapsed gives the next opening, maybe after `end`.)
            assert due <= end
        if is_open(end, calendar) and is_open(end - timedelta(microseconds=1), calendar):
            assert due == end


@pytest.mark.parametrize("name", CALENDARS)
def test_later_deadlines_for_longer_durations(name: str) -> None:
    calendar = CALENDARS[name][0]
    rng = random.Random(f"monotonic {name}")
    for _ in range(SAMPLES):
        start = random_instant(rng)
        shorter, longer = sorted((random_duration(rng), random_duration(rng)))
        assert add_business_time(start, shorter, calendar) <= add_business_time(
            start, longer, calendar
        )


@pytest.mark.parametrize("name", CALENDARS)
def test_is_open_agrees_with_elapsed_time(name: str) -> None:
    calendar = CALENDARS[name][0]
    rng = random.Random(f"open {name}")
    tick = timedelta(microseconds=1)
    for _ in range(SAMPLES):
        moment = random_instant(rng)
        assert is_open(moment, calendar) == (
            business_time_between(moment, moment + tick, calendar) == tick
        )


def walk_day_by_day(
    start: datetime, duration: timedelta, hours: BusinessHours, zone: ZoneInfo
) -> datetime:
    """The deadline found the slow, obvious way, straight from the configuration."""
    public_holidays = (
        holidays.country_holidays(hours.holidays_country, years=range(2025, 2031))
        if hours.holidays_country
        else {}
    )
    opening = clock_time.fromisoformat(hours.start)
    day = start.astimezone(zone).date() - timedelta(days=1)
    remaining = duration
    while True:
        if day.weekday() in hours.days and day not in public_holidays:
            opens = datetime.combine(day, opening, tzinfo=zone).astimezone(UTC)
            closes = closing_instant(day, hours.end, zone)
            begins = max(opens, start)
            if begins < closes:
                if remaining <= closes - begins:
                    return begins + remaining
                remaining -= closes - begins
        day += timedelta(days=1)


def closing_instant(day: date, end: str, zone: ZoneInfo) -> datetime:
    if end == "24:00":
        return datetime.combine(day + timedelta(days=1), clock_time(), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, clock_time.fromisoformat(end), tzinfo=zone).astimezone(UTC)


@pytest.mark.parametrize("name", [name for name, entry in CALENDARS.items() if entry[1]])
def test_agrees_with_walking_day_by_day(name: str) -> None:
    calendar, hours, zone = CALENDARS[name]
    assert hours is not None
    for start, duration in samples(f"walk {name}"):
        expected = walk_day_by_day(start, duration, hours, zone)
        assert add_business_time(start, duration, calendar) == expected, (start, duration)


# --- speed -------------------------------------------------------------------------------------


def median_ms(action: Callable[[], object], runs: int = 200) -> float:
    action()  # the first call of a year builds and caches its opening windows and holidays
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


@pytest.mark.timeout(60)  # a guard against a day-by-day walk, not a measurement
def test_long_durations_are_computed_in_one_go() -> None:
    start = ny(2026, 11, 25, 16)

    adding = median_ms(lambda: add_business_time(start, timedelta(weeks=3), US))
    measuring = median_ms(lambda: business_time_between(start, ny(2027, 3, 1, 16), US))

    print(f"\n3 weeks of business time: add {adding:.3f} ms, between {measuring:.3f} ms")
    added = add_business_time(start, timedelta(weeks=3), US)
    assert business_time_between(start, added, US) == timedelta(weeks=3)
