"""The dashboard's filters: a period of whole days on the company's calendar and a team, read
from a GET form's query (so they work without JavaScript) and written back into every link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from keepword_events import Role

from .indices import Period

DEFAULT_DAYS = 28
LONGEST_DAYS = 366  # as the API: the reply times are computed one by one
TEAMS = tuple(role.value for role in Role if role is not Role.CUSTOMER)


@dataclass(frozen=True, slots=True)
class Filters:
    """From the first day to the last (both included, company time), and a team or all."""

    first: date
    last: date
    team: str | None
    zone: ZoneInfo

    def period(self) -> Period:
        """The period the indices are asked for: [first 00:00, the day after last 00:00)."""
        start = datetime.combine(self.first, time(), self.zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), self.zone).astimezone(UTC)
        return Period(start, end, self.team)

    def query(self, **more: str) -> str:
        """The query string of these filters (and `more`), for links."""
        params = {"from": self.first.isoformat(), "to": self.last.isoformat()}
        if self.team:
            params["team"] = self.team
        return urlencode(params | more)


class FilterError(ValueError):
    """The form asks for something the dashboard cannot show; the message says what."""


def _day(query: Mapping[str, str], name: str, default: date) -> date:
    text = (query.get(name) or "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterError(f"“{name}” must be a date like 2025-03-31.") from None


def filters_of(query: Mapping[str, str], today: date, zone: ZoneInfo) -> Filters:
    """The filters a query asks for: by default the 28 days up to today, all teams."""
    last = _day(query, "to", today)
    first = _day(query, "from", last - timedelta(days=DEFAULT_DAYS - 1))
    team = (query.get("team") or "").strip() or None
    if team is not None and team not in TEAMS:
        raise FilterError(f"There is no team “{team}”.")
    if first > last:
        raise FilterError("The first day must not be after the last.")
    if (last - first).days + 1 > LONGEST_DAYS:
        raise FilterError(f"A period is at most {LONGEST_DAYS} days.")
    return Filters(first, last, team, zone)
