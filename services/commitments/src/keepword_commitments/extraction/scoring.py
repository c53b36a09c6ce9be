"""How well promise extraction does on labelled sentences: the corpus scoring the extraction
tests and the extraction benchmark share.

A corpus row has `text`, `kind` (the promise it holds, or None) and, for promises with a due
time, `due_offset`: an ISO-8601 duration after the sending time (or None: no due time). A found
promise is correct only with the row's kind; its due time is right when it equals the offset
after the sending time, months and days counted on the local calendar. A row that makes a
second promise ("we'll refund the fee and send a replacement by Friday") names its kind in
`also`: it is expected too (its due time is not checked), so that finding it is not counted
as a wrong find.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .reading import find_promises

_DURATION = re.compile(r"P(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")


@dataclass
class Score:
    """Kind detection over corpus rows."""

    correct: int = 0
    found: int = 0
    expected: int = 0
    due_checked: int = 0
    due_right: int = 0

    @property
    def precision(self) -> float:
        """Correct finds among all finds (1.0 when nothing was found)."""
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        """Correct finds among the promises the corpus holds (1.0 when it holds none)."""
        return self.correct / self.expected if self.expected else 1.0

    def __add__(self, other: Score) -> Score:
        return Score(
            self.correct + other.correct,
            self.found + other.found,
            self.expected + other.expected,
            self.due_checked + other.due_checked,
            self.due_right + other.due_right,
        )


def due_after(sent_at: datetime, iso_duration: str, timezone: str) -> datetime:
    """`sent_at` plus an ISO-8601 duration, months and days on `timezone`'s calendar, in UTC."""
    m = _DURATION.fullmatch(iso_duration)
    if m is None:
        raise ValueError(f"unsupported duration {iso_duration!r}")
    months, days, hours, minutes = (int(g or 0) for g in m.groups())
    moment = sent_at.astimezone(ZoneInfo(timezone))
    month_index = moment.month - 1 + months
    moment = moment.replace(year=moment.year + month_index // 12, month=month_index % 12 + 1)
    return (moment + timedelta(days=days, hours=hours, minutes=minutes)).astimezone(UTC)


def score_by_kind(
    rows: Iterable[Mapping[str, Any]], *, sent_at: datetime, timezone: str
) -> dict[str, Score]:
    """Per promise kind: what extraction found in the rows, and how much of it was right."""
    scores: dict[str, Score] = defaultdict(Score)
    for row in rows:
        found = find_promises(row["text"], sent_at=sent_at, timezone=timezone)
        for promise in found:
            scores[promise.kind.value].found += 1
        for also in row.get("also", ()):
            scores[also].expected += 1
            scores[also].correct += any(p.kind == also for p in found)
        kind = row["kind"]
        if kind is None:
            continue
        scores[kind].expected += 1
        right = next((p for p in found if p.kind == kind), None)
        if right is None:
            continue
        scores[kind].correct += 1
        if "due_offset" in row:
            offset = row["due_offset"]
            scores[kind].due_checked += 1
            scores[kind].due_right += right.due_at == (
                offset and due_after(sent_at, offset, timezone)
            )
    return scores


def score(rows: Iterable[Mapping[str, Any]], *, sent_at: datetime, timezone: str) -> Score:
    """All kinds together."""
    return sum(score_by_kind(rows, sent_at=sent_at, timezone=timezone).values(), Score())
