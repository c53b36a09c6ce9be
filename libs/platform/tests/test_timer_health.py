"""What a service's timers readiness says, and times read back from PostgreSQL made aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from keepword_platform.messaging.timers import SetAside, TimerHealth, as_utc


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_firing_loop_that_keeps_failing_is_reported_once_it_lasts_the_window() -> None:
    clock = Clock()
    health = TimerHealth(clock=clock)
    health.round_failed(TypeError("can't compare offset-naive and offset-aware datetimes"))
    clock.now += 30
    health.round_failed(TypeError("can't compare offset-naive and offset-aware datetimes"))

    assert health.problem(60) is None  # a hiccup is not a problem yet
    clock.now += 31
    assert health.problem(60) == (
        "not firing for 61s: TypeError: can't compare offset-naive and offset-aware datetimes"
    )

    health.round_done()
    assert health.problem(60) is None


def test_timers_set_aside_are_reported_for_the_window_after_the_latest() -> None:
    clock = Clock()
    health = TimerHealth(clock=clock)
    health.timers_set_aside([SetAside("due", "cmt-1", "handler failed 3 times: ...", "KeyError")])
    clock.now += 50
    health.timers_set_aside([SetAside("warn", "cmt-2", "unusable: ...", "payload is not JSON")])

    assert health.problem(60) == (
        "2 timer(s) set aside in the last 60s; latest: warn of cmt-2: payload is not JSON"
    )
    clock.now += 20
    assert health.problem(60) == (
        "1 timer(s) set aside in the last 60s; latest: warn of cmt-2: payload is not JSON"
    )
    clock.now += 41
    assert health.problem(60) is None


def test_times_are_made_aware_utc() -> None:
    assert as_utc(datetime(2026, 3, 1, 9, 0)) == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert as_utc(datetime.min).tzinfo is UTC  # asyncpg's -infinity
    assert as_utc(datetime.max) == datetime.max.replace(tzinfo=UTC)  # and infinity
    paris = timezone(timedelta(hours=1))
    assert as_utc(datetime(2026, 3, 1, 10, 0, tzinfo=paris)) == datetime(2026, 3, 1, 9, tzinfo=UTC)
    # Hours from the end of the calendar, in an offset UTC cannot reach: the end itself.
    assert as_utc(datetime(1, 1, 1, 0, 30, tzinfo=paris)) == datetime.min.replace(tzinfo=UTC)
    behind = timezone(timedelta(hours=-5))
    assert as_utc(datetime(9999, 12, 31, 22, tzinfo=behind)) == datetime.max.replace(tzinfo=UTC)
