"""The indices as pure functions: percentiles, business-hours waits across the clock change and
a holiday, within the SLA, promise counts and the gap per maker, ratings, the CSV's cells."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from keepword_insights.facts import Wait
from keepword_insights.indices import (
    Clock,
    PromiseGroup,
    RatingRow,
    percentile,
    promises,
    ratings,
    replies,
    rows,
)
from keepword_insights.routes import _cell
from keepword_platform.business_hours import add_business_time, calendar_for
from keepword_platform.company import BusinessHours
from keepword_platform.reply_deadline import ReplySla

BERLIN = ZoneInfo("Europe/Berlin")
CALENDAR = calendar_for(BusinessHours(holidays_country="DE"), "Europe/Berlin")  # Mon-Fri 9-17
CLOCK = Clock(
    sla=ReplySla(first_reply=timedelta(hours=4), next_reply=timedelta(hours=8), warn_fraction=0.75),
    calendar=CALENDAR,
    due_in=lambda start, duration: add_business_time(start, duration, CALENDAR),
    now=datetime(2025, 5, 1, tzinfo=BERLIN),
)


def at(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=BERLIN)


def wait(
    began: datetime, replied: datetime, who: str = "sam@x.example", role: str = "sales"
) -> Wait:
    return Wait("t", began, False, 1, replied, who, role)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(10, 0, -1)]  # unsorted on purpose
    assert percentile(values, 50) == 5
    assert percentile(values, 90) == 9
    assert percentile(values, 100) == 10
    assert percentile([7.0], 90) == 7
    assert percentile([], 50) is None


def test_a_wait_counts_business_hours_across_the_clock_change_and_easter() -> None:
    over_dst = wait(at(28, 3, 16), at(31, 3, 10))  # Friday 16:00 to Monday 10:00, clocks moved
    over_easter = wait(at(17, 4, 16), at(22, 4, 10))  # Good Friday and Easter Monday are off
    found = replies([over_dst, over_easter], CLOCK)["first_reply"]
    assert found["all"]["p50_seconds"] == 7200
    assert found["all"]["p90_seconds"] == 7200
    assert set(found["by_week"]) == {"2025-W13", "2025-W16"}


def test_within_the_sla_is_at_or_before_the_deadline_in_business_time() -> None:
    # Four business hours from Thursday 17 April 16:00: one that day, three on Tuesday 22 April.
    on_time = wait(at(17, 4, 16), at(22, 4, 12), who="a@x.example")
    late = wait(at(17, 4, 16), at(22, 4, 12, 1), who="b@x.example", role="service")
    found = replies([on_time, late], CLOCK)["first_reply"]
    assert found["all"]["within_sla_percent"] == 50
    assert found["by_person"]["a@x.example"]["within_sla_percent"] == 100
    assert found["by_team"]["service"]["within_sla_percent"] == 0
    assert replies([], CLOCK)["next_reply"]["all"] == {
        "count": 0,
        "p50_seconds": None,
        "p90_seconds": None,
        "within_sla_percent": None,
    }


def test_promises_count_by_status_with_the_gap_per_maker() -> None:
    groups = [
        PromiseGroup("delivery_date", "sam@x.example", "sales", "kept", False, "confirmed", 3),
        PromiseGroup("delivery_date", "sam@x.example", "sales", "rejected", False, "rejected", 1),
        PromiseGroup("price", "kim@x.example", "service", "confirmed", True, "countered", 2),
    ]
    found = promises(groups)
    assert found["all"]["made"] == 6
    assert (found["all"]["kept"], found["all"]["at_risk"], found["all"]["gap"]) == (3, 2, 3)
    assert found["by_maker"]["sam@x.example"]["gap"] == 1
    assert found["by_maker"]["kim@x.example"]["gap"] == 2
    assert found["by_team"]["service"]["made"] == 2


def test_ratings_average_distribution_and_low_share_per_week_and_team() -> None:
    found = ratings(
        [
            RatingRow(1, at(14, 4, 10), "sales"),
            RatingRow(5, at(15, 4, 10), "sales"),
            RatingRow(4, at(22, 4, 10), None),
        ],
        CLOCK,
    )
    assert found["all"]["count"] == 3
    assert found["all"]["average"] == 3.33
    assert found["all"]["distribution"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 1}
    assert found["all"]["low_percent"] == 33.33
    assert set(found["by_week"]) == {"2025-W16", "2025-W17"}
    assert found["by_team"]["unanswered"]["count"] == 1
    assert found["by_team"]["sales"]["low_percent"] == 50
    assert ratings([], CLOCK)["all"]["average"] is None


def test_every_number_is_a_csv_row_and_no_cell_runs_as_a_formula() -> None:
    found = {
        "period": {"from": "x"},
        "promises": {"by_maker": {"=cmd@x.example": {"gap": 2}}},
        "refunds": {"total": Decimal("1.50"), "none": None},
    }
    assert list(rows(found)) == [
        ("promises", "by_maker", "=cmd@x.example", "gap", "2"),
        ("refunds", "", "", "total", "1.50"),
        ("refunds", "", "", "none", ""),
    ]
    assert _cell("=cmd@x.example") == "'=cmd@x.example"
    assert [_cell(v) for v in ("+1", "@a", "\tx", "\rx")] == ["'+1", "'@a", "'\tx", "'\rx"]
    assert _cell("-1") == "-1"  # a negative number stays a number
    assert _cell("sam@x.example") == "sam@x.example"
