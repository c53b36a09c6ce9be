"""Time expressions and due times (DST included), number words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from keepword_commitments.extraction import (
    find_promises,
    parse_quantity,
)

from .conftest import NEW_YORK, NY, TUESDAY_10AM, local, only

# --- due times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("We will respond within three hours.", local(2026, 3, 10, 13, 0)),
        ("We will respond within 24 hours.", local(2026, 3, 11, 10, 0)),
        ("We will respond within twenty-four hours.", local(2026, 3, 11, 10, 0)),
        ("I will reply within a couple of hours.", local(2026, 3, 10, 12, 0)),
        ("We'll follow up within a few days.", local(2026, 3, 13, 10, 0)),
        ("We'll get back to you within half an hour.", local(2026, 3, 10, 10, 30)),
        ("You'll hear from us by Friday.", local(2026, 3, 13, 17, 0)),
        ("You'll hear from us by next Friday.", local(2026, 3, 20, 17, 0)),
        ("You'll hear from us on Monday.", local(2026, 3, 16, 17, 0)),
        ("I'll get back to you tomorrow morning.", local(2026, 3, 11, 9, 0)),
        ("I'll get back to you this afternoon.", local(2026, 3, 10, 15, 0)),
        ("I'll ring you first thing tomorrow.", local(2026, 3, 11, 9, 0)),
        ("Expect an answer by end of day.", local(2026, 3, 10, 17, 0)),
        ("We'll let you know by 3pm today.", local(2026, 3, 10, 15, 0)),
        ("Expect a call from me on Thursday at 2pm.", local(2026, 3, 12, 14, 0)),
        ("It will be delivered by the end of the month.", local(2026, 3, 31, 17, 0)),
        ("It will be delivered by the end of next month.", local(2026, 4, 30, 17, 0)),
        ("It will be delivered by the end of the week.", local(2026, 3, 13, 17, 0)),
        ("It will be delivered next week.", local(2026, 3, 20, 17, 0)),
        ("Your report will be ready on March 20.", local(2026, 3, 20, 17, 0)),
        ("Your report will be ready on the 20th of March.", local(2026, 3, 20, 17, 0)),
        ("Your report will be ready on March 10.", local(2026, 3, 10, 17, 0)),
        ("Your report will be ready on March 3.", local(2027, 3, 3, 17, 0)),
        ("Your report will be in your inbox by the 5th.", local(2026, 4, 5, 17, 0)),
        ("We will complete the migration in two weeks.", local(2026, 3, 24, 10, 0)),
        ("Top ranking in 30 days.", local(2026, 4, 9, 10, 0)),
        ("Guaranteed more traffic within six months.", local(2026, 9, 10, 10, 0)),
        ("We will refund your deposit within 5 business days.", local(2026, 3, 17, 10, 0)),
        ("We will refund it within 3 to 5 business days.", local(2026, 3, 17, 10, 0)),
        ("By Friday, you'll have the full keyword report.", local(2026, 3, 13, 17, 0)),
    ],
)
def test_due_times(text: str, due: datetime) -> None:
    assert only(text).due_at == due


@pytest.mark.parametrize(
    "text",
    [
        "We ship within 24 hours of your order.",  # the clock starts at the order
        "We guarantee first-page rankings.",
        "I'll call you as soon as the developers have an update.",
    ],
)
def test_promises_without_a_due_time(text: str) -> None:
    assert only(text).due_at is None


def test_due_times_are_aware_utc() -> None:
    due = only("We will respond within three hours.").due_at
    assert due is not None
    assert due.tzinfo is UTC


def test_hours_are_elapsed_time_across_the_spring_dst_switch() -> None:
    # 2026-03-07 20:00 EST; clocks go forward at 02:00 on 2026-03-08.
    sent = datetime(2026, 3, 7, 20, 0, tzinfo=NY)
    due = only("We will respond within 24 hours.", sent_at=sent).due_at
    assert due == sent.astimezone(UTC) + timedelta(hours=24)
    assert due == local(2026, 3, 8, 21, 0)  # 21:00 EDT: a 24-hour day is not 24 hours long


def test_tomorrow_morning_across_the_spring_dst_switch() -> None:
    sent = datetime(2026, 3, 7, 20, 0, tzinfo=NY)
    due = only("I'll get back to you tomorrow morning.", sent_at=sent).due_at
    assert due == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 09:00 EDT
    assert due - sent == timedelta(hours=12)  # only 12 real hours after 20:00 EST


def test_days_keep_the_wall_clock_across_the_autumn_dst_switch() -> None:
    sent = datetime(2026, 10, 31, 20, 0, tzinfo=NY)  # EDT; clocks go back on 2026-11-01
    due = only("We will deliver the audit in 1 day.", sent_at=sent).due_at
    assert due == local(2026, 11, 1, 20, 0)
    assert due - sent == timedelta(hours=25)


def test_business_days_skip_the_weekend() -> None:
    friday = datetime(2026, 3, 13, 15, 0, tzinfo=NY)
    due = only("We will refund your deposit within 5 business days.", sent_at=friday).due_at
    assert due == local(2026, 3, 20, 15, 0)


def test_a_weekday_named_on_that_weekday_is_the_next_one() -> None:
    friday = datetime(2026, 3, 13, 9, 0, tzinfo=NY)
    assert only("You'll hear from us by Friday.", sent_at=friday).due_at == local(
        2026, 3, 20, 17, 0
    )


def test_end_of_day_after_business_hours_is_midnight_not_the_past() -> None:
    evening = datetime(2026, 3, 10, 18, 30, tzinfo=NY)
    assert only("Expect an answer by end of day.", sent_at=evening).due_at == local(
        2026, 3, 10, 23, 59
    )


def test_a_clock_time_that_has_passed_today_is_tomorrow() -> None:
    afternoon = datetime(2026, 3, 10, 16, 0, tzinfo=NY)
    assert only("I will call you at 3pm.", sent_at=afternoon).due_at == local(2026, 3, 11, 15, 0)


def test_the_company_time_zone_is_used() -> None:
    sent = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    promise = only("You'll hear from us by Friday.", sent_at=sent, timezone="Europe/Berlin")
    assert promise.due_at == datetime(2026, 3, 13, 16, 0, tzinfo=UTC)  # 17:00 CET


def test_sent_at_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        find_promises("We will respond today.", sent_at=datetime(2026, 3, 10), timezone=NEW_YORK)


# --- number words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("three", 3),
        ("twenty-four", 24),
        ("twenty four", 24),
        ("forty-eight", 48),
        ("ninety", 90),
        ("fifteen", 15),
        ("a couple of", 2),
        ("a couple", 2),
        ("a few", 3),
        ("an", 1),
        ("half an", 0.5),
        ("36", 36),
    ],
)
def test_number_words(words: str, value: float) -> None:
    assert parse_quantity(words) == value


def test_number_words_in_a_reply() -> None:
    due = only("We will reply within forty-eight hours.").due_at
    assert due == TUESDAY_10AM + timedelta(hours=48)


# --- explicit dates, clock times and time zones -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("We'll follow up by 17:00 PT on 2026-03-16.", local(2026, 3, 16, 20, 0)),
        ("We will get back to you by 5pm EST Friday.", local(2026, 3, 13, 17, 0)),
        ("We will let you know by 3 PM Pacific.", local(2026, 3, 10, 18, 0)),
        ("I'll call you at 10:30 AM Eastern tomorrow.", local(2026, 3, 11, 10, 30)),
        ("I'll call you on Thursday at 2 PM CT.", local(2026, 3, 12, 15, 0)),
        ("We'll deliver the designs by 9:00 AM CET on Monday.", local(2026, 3, 16, 4, 0)),
        (
            "We'll send the contract back to you by 12:00 UTC+1 on March 11.",
            local(2026, 3, 11, 7, 0),
        ),
        ("We will deliver the report by March 13 at 12:00 GMT.", local(2026, 3, 13, 8, 0)),
        ("We will respond by 15:30 UTC.", local(2026, 3, 10, 11, 30)),
        ("We will respond by 09:30 UTC.", local(2026, 3, 11, 5, 30)),  # passed there: tomorrow
        ("We will deliver the report by 2026-03-20.", local(2026, 3, 20, 17, 0)),
        ("I'll call you back on the next business day.", local(2026, 3, 11, 17, 0)),
        ("Expect a call from us between 1 and 3 PM today.", local(2026, 3, 10, 15, 0)),
        ("Please allow 3-5 business days for the refund to appear.", local(2026, 3, 17, 10, 0)),
        ("Please allow up to 48 hours for the changes to take effect.", local(2026, 3, 12, 10, 0)),
    ],
)
def test_explicit_dates_times_and_zones(text: str, due: datetime) -> None:
    assert only(text).due_at == due


def test_a_zone_abbreviation_is_its_region_s_wall_clock_all_year() -> None:
    july = datetime(2026, 7, 7, 10, 0, tzinfo=NY)
    promise = only("We will get back to you by 5pm EST today.", sent_at=july)
    assert promise.due_at == local(2026, 7, 7, 17, 0)  # EDT in July: people write EST anyway


def test_a_date_that_does_not_exist_gives_no_due_time() -> None:
    assert only("We will refund your deposit by 2026-02-30.").due_at is None


def test_a_named_zone_overrides_the_company_zone() -> None:
    sent = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    promise = only("We will respond by 17:00 ET.", sent_at=sent, timezone="Europe/Berlin")
    assert promise.due_at == local(2026, 3, 10, 17, 0)
