"""What the extractor's tests share: a reply sent on a Tuesday morning in New York."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from keepword_commitments.extraction import FoundPromise, find_promises

NEW_YORK = "America/New_York"
NY = ZoneInfo(NEW_YORK)
TUESDAY_10AM = datetime(2026, 3, 10, 10, 0, tzinfo=NY)  # after the March DST switch


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A New York wall-clock time, as the UTC instant the extractor returns."""
    return datetime(year, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


def only(text: str, sent_at: datetime = TUESDAY_10AM, timezone: str = NEW_YORK) -> FoundPromise:
    """The one promise found in `text` (fails when there are none or several)."""
    found = find_promises(text, sent_at=sent_at, timezone=timezone)
    assert len(found) == 1, found
    return found[0]
