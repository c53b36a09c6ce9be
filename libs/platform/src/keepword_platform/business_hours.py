"""SLA clocks counted in business hours: nights, closed days and public holidays do not count.

Everything here is pure. Instants come in as aware datetimes and go out as aware UTC datetimes;
nothing reads the clock. Opening hours are wall-clock times in the company's time zone, so a
working day that is 23 or 25 hours long (a DST change) still opens at 09:00 and closes at 17:00.
The business time in a day is the real time between its opening and its closing instant, which
makes `add_business_time` and `business_time_between` exact inverses of each other.

Conventions:
- a calendar is open from the opening instant up to, but not including, the closing instant;
- a clock started while closed begins counting at the next opening;
- a deadline that uses up a day's hours exactly falls at that day's closing instant, not at the
  next opening;
- an opening time that does not exist on a DST day (02:30 on a spring-forward night) resolves
  the way zoneinfo does (fold=0: the pre-transition offset, i.e. 03:30 new time); an ambiguous
  one (fall back) is its first occurrence;
- public holidays are the national ones of `holidays_country` as the `holidays` package knows
  them, observed days included (US Independence Day on a Saturday closes Friday 3 July).

Each calendar year's opening windows are computed once and cached, with running totals of
business time, so a deadline weeks away is a binary search rather than a walk through its days.
The first use of a year costs ~1-2 ms (mostly the holidays package); later calls take
microseconds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from keepword_platform.company import BusinessHours

_DAY = timedelta(days=1)
_NOTHING = timedelta(0)


@dataclass(frozen=True)
class OpeningHours:
    """When a company is open: these weekdays, between these wall-clock times, except holidays."""

    workdays: frozenset[int]  # 0 = Monday
    opens: timedelta  # wall-clock time since local midnight
    closes: timedelta  # wall-clock time since local midnight; a full day means 24:00
    holidays_country: str | None = None  # ISO 3166 code known to the `holidays` package

    def __post_init__(self) -> None:
        # An empty week would make every deadline search run forever: refuse it here, once.
        if not self.workdays:
            raise ValueError("business hours need at least one working day")
        if not self.workdays <= frozenset(range(7)):
            raise ValueError(f"working days must be 0 (Monday) to 6, got {sorted(self.workdays)}")
        if not _NOTHING <= self.opens < self.closes <= _DAY:
            raise ValueError(
                f"business hours must open before they close within one day, "
                f"got {self.opens} to {self.closes}"
            )


@dataclass(frozen=True)
class Calendar:
    """The company's SLA clock: its time zone and opening hours (None: around the clock)."""

    zone: ZoneInfo
    hours: OpeningHours | None = None

    @property
    def around_the_clock(self) -> bool:
        """Whether every second counts (no business hours configured)."""
        return self.hours is None


def calendar_for(hours: BusinessHours | None, timezone: str) -> Calendar:
    """The calendar for a company's configured business hours (None: around the clock).

    Raises ValueError for an unknown time zone or holiday country, or unusable hours.
    """
    zone = _zone(timezone)
    if hours is None:
        return Calendar(zone)
    opening = OpeningHours(
        workdays=frozenset(hours.days),
        opens=_wall_clock(hours.start),
        closes=_wall_clock(hours.end),
        holidays_country=_country(hours.holidays_country),
    )
    return Calendar(zone, opening)


def add_business_time(start: datetime, duration: timedelta, calendar: Calendar) -> datetime:
    """The instant (UTC) when `duration` of business time has passed since `start`.

    A start outside business hours begins counting at the next opening, so a zero duration
    gives the next opening (or `start` itself when the calendar is open then).
    """
    at = _utc(start, "start")
    if duration < _NOTHING:
        raise ValueError(f"duration must not be negative, got {duration}")
    if calendar.hours is None:
        # UTC arithmetic on purpose: adding to a zoned datetime would add wall-clock time and
        # turn 24 hours into 23 or 25 across a DST change.
        return at + duration
    if duration == _NOTHING:
        return _next_opening(at, calendar.hours, calendar.zone)
    remaining = duration
    year = _first_year(at, calendar.zone)
    while True:
        windows = _windows_of_year(year, calendar.hours, calendar.zone)
        target = windows.elapsed_until(at) + remaining
        if target <= windows.total:
            return windows.instant_after(target)
        remaining = target - windows.total
        year += 1


def business_time_between(start: datetime, end: datetime, calendar: Calendar) -> timedelta:
    """How much business time passed from `start` to `end` (zero when `end` is not later)."""
    begin, finish = _utc(start, "start"), _utc(end, "end")
    if finish <= begin:
        # Clocks of different machines disagree by a little; "no time yet" is the honest answer.
        return _NOTHING
    if calendar.hours is None:
        return finish - begin
    elapsed = _NOTHING
    first_year = _first_year(begin, calendar.zone)
    for year in range(first_year, finish.astimezone(calendar.zone).year + 1):
        windows = _windows_of_year(year, calendar.hours, calendar.zone)
        elapsed += windows.elapsed_until(finish) - windows.elapsed_until(begin)
    return elapsed


def is_open(moment: datetime, calendar: Calendar) -> bool:
    """Whether the SLA clock runs at `moment`."""
    at = _utc(moment, "moment")
    if calendar.hours is None:
        return True
    first_year = _first_year(at, calendar.zone)
    return any(
        _windows_of_year(year, calendar.hours, calendar.zone).contains(at)
        for year in (first_year, first_year + 1)
    )


@dataclass(frozen=True)
class _YearOfWindows:
    """One calendar year's opening windows, in order, with the business time run up by each.

    Deadlines weeks away are then a binary search instead of a walk through every day.
    """

    opens: tuple[datetime, ...]  # UTC
    closes: tuple[datetime, ...]  # UTC
    elapsed_at_close: tuple[timedelta, ...]  # business time of the year at each close

    @property
    def total(self) -> timedelta:
        """All the business time in the year."""
        return self.elapsed_at_close[-1] if self.elapsed_at_close else _NOTHING

    def elapsed_until(self, at: datetime) -> timedelta:
        """Business time of this year before `at` (the whole year's when `at` is after it)."""
        last_opened = bisect_right(self.opens, at) - 1
        if last_opened < 0:
            return _NOTHING
        before = self.elapsed_at_close[last_opened - 1] if last_opened else _NOTHING
        return before + min(at, self.closes[last_opened]) - self.opens[last_opened]

    def instant_after(self, elapsed: timedelta) -> datetime:
        """The first instant by which `elapsed` (0 < elapsed <= total) has run up.

        A target that ends a window exactly gives its closing instant, not the next opening.
        """
        window = bisect_left(self.elapsed_at_close, elapsed)
        return self.closes[window] - (self.elapsed_at_close[window] - elapsed)

    def next_opening(self, at: datetime) -> datetime | None:
        """`at` itself when open, else the next opening in this year (None: none left)."""
        window = bisect_right(self.closes, at)
        return max(self.opens[window], at) if window < len(self.opens) else None

    def contains(self, at: datetime) -> bool:
        """Whether `at` falls in one of this year's windows."""
        last_opened = bisect_right(self.opens, at) - 1
        return last_opened >= 0 and at < self.closes[last_opened]


@lru_cache(maxsize=128)
def _windows_of_year(year: int, hours: OpeningHours, zone: ZoneInfo) -> _YearOfWindows:
    opens: list[datetime] = []
    closes: list[datetime] = []
    elapsed_at_close: list[timedelta] = []
    elapsed = _NOTHING
    day = date(year, 1, 1)
    while day.year == year:
        window = _opening_window(day, hours, zone)
        if window is not None:
            opens.append(window[0])
            closes.append(window[1])
            elapsed += window[1] - window[0]
            elapsed_at_close.append(elapsed)
        day += _DAY
    return _YearOfWindows(tuple(opens), tuple(closes), tuple(elapsed_at_close))


def _next_opening(at: datetime, hours: OpeningHours, zone: ZoneInfo) -> datetime:
    year = _first_year(at, zone)
    while True:
        found = _windows_of_year(year, hours, zone).next_opening(at)
        if found is not None:
            return found
        year += 1


def _opening_window(
    day: date, hours: OpeningHours, zone: ZoneInfo
) -> tuple[datetime, datetime] | None:
    """The day's opening and closing instants (UTC), or None when closed all day."""
    if day.weekday() not in hours.workdays:
        return None
    if hours.holidays_country is not None and day in _public_holidays(
        hours.holidays_country, day.year
    ):
        return None
    # Adding a timedelta to an aware datetime is wall-clock arithmetic, which is what opening
    # hours are: 09:00 local on a 23-hour day is still 09:00. astimezone then fixes the offset.
    midnight = datetime.combine(day, time(), tzinfo=zone)
    return (midnight + hours.opens).astimezone(UTC), (midnight + hours.closes).astimezone(UTC)


def _first_year(at: datetime, zone: ZoneInfo) -> int:
    """The first year whose windows may hold or follow `at`."""
    # Windows never cross local midnight, but where clocks change at midnight the local date of
    # an instant next to it is debatable; looking from the day before settles the doubt and
    # costs at most one more (cached) year at New Year.
    return (at.astimezone(zone).date() - _DAY).year


@lru_cache(maxsize=512)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays (observed days included) that fall in `year`, computed once per year.

    Neighbouring years are asked too: an observed day can fall in the year before its holiday
    (New Year's Day on a Saturday is observed on Friday 31 December in the US).
    """
    found = holidays.country_holidays(country, years=(year - 1, year, year + 1))
    return frozenset(day for day in found if day.year == year)


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}") from None


def _wall_clock(text: str) -> timedelta:
    """'HH:MM' as time since midnight; '24:00' is the end of the day."""
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"time of day must be HH:MM, got {text!r}")
    since_midnight = timedelta(hours=int(hours), minutes=int(minutes))
    if int(minutes) > 59 or since_midnight > _DAY:
        raise ValueError(f"not a time of day: {text!r}")
    return since_midnight


def _country(code: str | None) -> str | None:
    if code is None:
        return None
    normalised = code.strip().upper()
    if normalised not in holidays.list_supported_countries():
        raise ValueError(f"the holidays package does not know the country {code!r}")
    return normalised
