"""When a time expression falls due, computed in the company's time zone, returned in UTC.

- Minutes and hours are elapsed time: "within 24 hours" sent the evening before a DST switch
  falls due 24 real hours later (21:00 local on the switch day, not 20:00).
- Days, weeks, months and years are calendar arithmetic on the local wall clock: "in 30 days"
  keeps the local clock time of sending. Business days skip Saturdays and Sundays (no
  holidays) and also keep the clock time. A range ("3 to 5 business days") counts to its
  upper end; "a couple of" = 2, "a few" = 3.
- A date without a clock time falls due at the end of that business day, 17:00 local; if the
  reply was sent after that on the same day ("by end of day" at 18:00), 23:59 local instead.
- Parts of the day use dateparser's hours: morning 09:00 (so "tomorrow morning" is 09:00 the
  next day), afternoon 15:00, evening 18:00, night/tonight 20:00; "first thing" is 09:00.
- A weekday ("by Friday", "this Friday") is its next occurrence after the sending day; "next
  Friday" is the Friday of the following calendar week (Monday-based). "This week" and "end of
  the week" are Friday 17:00; "next week" is next week's Friday 17:00. "End of the month" and
  a bare month name ("by June") are the last day of that month, 17:00.
- A clock time alone ("by 3pm") is today if still ahead, otherwise tomorrow. Time-zone words
  after a clock time ("ET") are ignored: the company's zone is assumed.
- Durations anchored to a later event ("within 24 hours of your order") and vague times
  ("soon", "as soon as possible") give no due time.

Calendar dates ("March 20", "20th of March", "3/15") are read by dateparser, English only, US
day order, preferring the future; everything else is plain regular expressions, because they
are exact about the conventions above and a hundred times faster.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser  # type: ignore[import-untyped]

from .times import TimePhrase

__all__ = [
    "END_OF_BUSINESS",
    "LATE_END_OF_DAY",
    "PARTS_OF_DAY",
    "calendar_date",
    "due_time",
    "parse_quantity",
]

_FRIDAY = 4

_ZONES = {
    **dict.fromkeys(["pt", "pst", "pdt", "pacific"], "America/Los_Angeles"),
    **dict.fromkeys(["mt", "mst", "mdt", "mountain"], "America/Denver"),
    **dict.fromkeys(["ct", "cst", "cdt", "central"], "America/Chicago"),
    **dict.fromkeys(["et", "est", "edt", "eastern"], "America/New_York"),
    **dict.fromkeys(["cet", "cest"], "Europe/Berlin"),
    **dict.fromkeys(["aet", "aest"], "Australia/Sydney"),
    "bst": "Europe/London",
    "utc": "UTC",
    "gmt": "UTC",
}
"""A zone named after a clock time as the wall clock of its region: "5pm EST" in July is 17:00
in New York (people keep writing EST all year), "CET" is Central European wall-clock time."""
_OFFSET = re.compile(r"(?:UTC|GMT)\s?([+-])\s?(\d{1,2})(?::?(\d{2}))?")

END_OF_BUSINESS = time(17, 0)
"""When a promise falls due on a day named without a clock time."""

LATE_END_OF_DAY = time(23, 59)
"""Used instead of END_OF_BUSINESS when the reply was sent after 17:00 on that very day."""

PARTS_OF_DAY: dict[str, time] = {
    "morning": time(9),
    "afternoon": time(15),
    "evening": time(18),
    "night": time(20),
}
"""The hours dateparser uses for parts of the day, so both agree."""

_ONES = "zero one two three four five six seven eight nine"
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
_SMALL_NUMBERS = {word: value for value, word in enumerate(f"{_ONES} {_TEENS}".split())}
_TENS = {
    word: 10 * value
    for value, word in enumerate(
        ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], start=2
    )
}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


def parse_quantity(words: str) -> float:
    """ "24", "three", "twenty-four", "a couple of", "a few", "half an" as a number."""
    words = " ".join(words.lower().replace("-", " ").split())
    if words.startswith("a couple"):
        return 2
    if words == "a few":
        return 3
    if words.startswith("half"):
        return 0.5
    if words in ("a", "an"):
        return 1
    if words in _SMALL_NUMBERS:
        return _SMALL_NUMBERS[words]
    tens, _, ones = words.partition(" ")
    if tens in _TENS:
        return _TENS[tens] + _SMALL_NUMBERS.get(ones, 0)
    return float(words)


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, _last_day(year, month)))


def _last_day(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _add_business_days(moment: datetime, days: int) -> datetime:
    while days > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment


def _due_after_duration(m: re.Match[str], local: datetime, sent_at: datetime) -> datetime | None:
    if m.group("anchor"):
        return None  # "within 24 hours of your order": the clock starts at a later event
    if the_unit := m.group("the_unit"):
        return _due_within_the(the_unit.lower(), local)
    amount = parse_quantity(m.group("qty2") or m.group("qty"))
    unit = " ".join(m.group("unit").lower().split())
    if unit.startswith(("min", "h")):  # elapsed time, across DST switches too
        minutes = amount if unit.startswith("min") else amount * 60
        # In UTC: adding to a zoned datetime would be wall-clock arithmetic.
        return sent_at.astimezone(UTC) + timedelta(minutes=minutes)
    if unit.startswith(("business", "working", "work", "weekday")):
        return _add_business_days(local, math.ceil(amount)).astimezone(UTC)
    if unit.startswith("day"):
        return (local + timedelta(days=amount)).astimezone(UTC)  # wall-clock arithmetic
    if unit.startswith("week"):
        return (local + timedelta(weeks=amount)).astimezone(UTC)
    months = math.ceil(amount) * (12 if unit.startswith("year") else 1)
    return _add_months(local, months).astimezone(UTC)


def _due_within_the(unit: str, local: datetime) -> datetime:
    if unit == "hour":
        return local.astimezone(UTC) + timedelta(hours=1)
    if unit == "day":
        return _on_day(local.date(), None, local)
    if unit == "week":
        return _on_day(_friday(local.date(), weeks_ahead=0), None, local)
    return _on_day(_month_end(local.date(), months_ahead=0), None, local)


def _friday(today: date, weeks_ahead: int) -> date:
    friday = today + timedelta(days=_FRIDAY - today.weekday() + 7 * weeks_ahead)
    return friday if friday >= today else friday + timedelta(weeks=1)  # weekend: next one


def _month_end(today: date, months_ahead: int) -> date:
    month_index = today.month - 1 + months_ahead
    year, month = today.year + month_index // 12, month_index % 12 + 1
    return date(year, month, _last_day(year, month))


def _weekday(today: date, name: str, relation: str | None) -> date:
    target = _WEEKDAYS.index(name.lower())
    if relation == "next":  # that day in the following Monday-based week
        monday = today + timedelta(days=7 - today.weekday())
        return monday + timedelta(days=target)
    return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)


def _day_of_month(today: date, day: int) -> date | None:
    year, month = today.year, today.month
    for _ in range(13):
        if day <= _last_day(year, month) and date(year, month, day) >= today:
            return date(year, month, day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _named_month_end(today: date, name: str) -> date:
    month = _MONTHS[name.lower().rstrip(".")]
    year = today.year if month >= today.month else today.year + 1
    return date(year, month, _last_day(year, month))


@lru_cache(maxsize=8)
def _date_parser(today: date) -> DateDataParser:
    """dateparser for calendar dates: English only (no language detection), US day order,
    preferring the future, and only its absolute-date parser, since relative phrases never
    reach it. The base is the day before sending, so that a date naming the sending day is
    that day and not the same day next year."""
    return DateDataParser(
        languages=["en"],
        settings={
            "RELATIVE_BASE": datetime.combine(today - timedelta(days=1), time(12)),
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "MDY",
            "REQUIRE_PARTS": ["day", "month"],
            "PARSERS": ["absolute-time"],
        },
    )


@lru_cache(maxsize=1024)
def calendar_date(phrase: str, today: date) -> date | None:
    """ "March 20", "20th of March", "3/15" as a date on or after `today`."""
    parsed = _date_parser(today).get_date_data(phrase).date_obj
    return parsed.date() if isinstance(parsed, datetime) else None


def _day_and_part(m: re.Match[str], local: datetime) -> tuple[date | None, str | None]:
    """The day a day-phrase names and the part of the day, if it names one."""
    today = local.date()
    group = m.group
    if iso := group("iso"):
        try:
            return date.fromisoformat(iso), None
        except ValueError:
            return None, None  # 2026-02-30
    if group("next_business_day"):
        return _add_business_days(local, 1).date(), None
    if rel := group("rel"):
        offsets = {"tomorrow": 1, "the day after tomorrow": 2}
        day = today + timedelta(days=offsets.get(" ".join(rel.lower().split()), 0))
        part = group("rel_part") or ("night" if rel.lower() == "tonight" else None)
        return day, (part or ("morning" if group("first_thing") else None))
    if group("next_part"):  # "(first thing) in the morning": the next one
        morning = datetime.combine(today, PARTS_OF_DAY["morning"], tzinfo=local.tzinfo)
        return (today if local < morning else today + timedelta(days=1)), "morning"
    if this_part := group("this_part"):
        return today, this_part
    if group("eod"):
        return today, None
    if period := group("eo_period"):
        ahead = 1 if (group("eo_rel") or "").lower() == "next" else 0
        if period.lower() == "week":
            return _friday(today, ahead), None
        if period.lower() == "month":
            return _month_end(today, ahead), None
        return date(today.year + ahead, 12, 31), None
    if eo_month := group("eo_month"):
        return _named_month_end(today, eo_month), None
    if wk_rel := group("wk_rel"):
        return _friday(today, 1 if wk_rel.lower() == "next" else 0), None
    if cal := group("cal"):
        return calendar_date(" ".join(cal.split()), today), None
    if weekday := group("weekday"):
        relation = (group("wd_rel") or "").lower() or None
        return _weekday(today, weekday, relation), group("wd_part")
    if dom := group("dom"):
        return _day_of_month(today, int(re.sub(r"\D", "", dom))), None
    return _named_month_end(today, group("month_only")), None


def _clock_time(m: re.Match[str]) -> time:
    if named := m.group("named"):
        return {"noon": time(12), "midday": time(12)}.get(named.lower(), LATE_END_OF_DAY)
    if m.group("h24"):
        return time(min(int(m.group("h24")), 23), min(int(m.group("m24")), 59))
    hour = int(m.group("hour")) % 12 + (12 if m.group("ampm").lower() == "p" else 0)
    return time(min(hour, 23), min(int(m.group("minute") or 0), 59))


def _on_day(day: date, clock: time | None, local: datetime) -> datetime:
    """A local day and clock time as UTC; no clock time means the end of the business day."""
    due = datetime.combine(day, clock or END_OF_BUSINESS, tzinfo=local.tzinfo)
    if clock is None and due <= local:
        due = datetime.combine(day, LATE_END_OF_DAY, tzinfo=local.tzinfo)
    return due.astimezone(UTC)


def due_time(phrase: TimePhrase, sent_at: datetime, zone: tzinfo) -> datetime | None:
    """When `phrase` falls due, read in `zone` unless its clock time names a zone of its own."""
    named = phrase.clock.group("zone") if phrase.clock is not None else None
    local = sent_at.astimezone(_named_zone(named) if named else zone)
    if phrase.duration is not None:
        return _due_after_duration(phrase.duration, local, sent_at)
    clock = _clock_time(phrase.clock) if phrase.clock is not None else None
    if phrase.day is None:
        if clock is None:
            return None  # "soon", "as soon as possible"
        today = local.date()
        later_today = datetime.combine(today, clock, tzinfo=local.tzinfo) > local
        return _on_day(today if later_today else today + timedelta(days=1), clock, local)
    day, part = _day_and_part(phrase.day, local)
    if day is None:
        return None
    if clock is None and part is not None:
        clock = PARTS_OF_DAY[part.lower()]
    return _on_day(day, clock, local)


def _named_zone(name: str) -> tzinfo:
    """ "PT", "Eastern time", "UTC+2" as a time zone."""
    if offset := _OFFSET.fullmatch(name):
        sign = -1 if offset.group(1) == "-" else 1
        minutes = int(offset.group(2)) * 60 + int(offset.group(3) or 0)
        return timezone(sign * timedelta(minutes=min(minutes, 14 * 60)))
    region = " ".join(name.lower().split()).removesuffix(" time").split(" ")[0]
    return ZoneInfo(_ZONES[region])
