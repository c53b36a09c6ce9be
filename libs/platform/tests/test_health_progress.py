"""The stall decision, as tables: what a consumer's partitions look like, what it is judged."""

from __future__ import annotations

import pytest
from keepword_platform.health.progress import (
    Look,
    Partition,
    Track,
    Verdict,
    assess,
    follow,
    lag_of,
    recover,
)

STALL = 60.0
P0: Partition = ("keepword.messages.v1", 0)
P1: Partition = ("keepword.messages.v1", 1)


def track(
    lag: int | None, progress_at: float, delivered_at: float | None = None, best: int = 10
) -> Track:
    return Track(best_position=best, progress_at=progress_at, lag=lag, delivered_at=delivered_at)


@pytest.mark.parametrize(
    ("look", "lag"),
    [
        (Look(position=5, end_offset=9), 4),
        (Look(position=9, end_offset=9), 0),
        (Look(position=12, end_offset=9), 0),  # end offset read before the last records
        (Look(position=5, end_offset=None), None),  # broker did not answer
        (Look(position=None, end_offset=9), 9),  # position unknown: everything may wait
        (Look(position=None, end_offset=0), 0),
    ],
)
def test_lag(look: Look, lag: int | None) -> None:
    assert lag_of(look) == lag


# previous track, look, now -> (best position, progress_at, lag)
FOLLOW = [
    ("first look starts the clock", None, Look(5, 9), 100.0, (5, 100.0, 4)),
    ("moved forward", track(4, 10.0, best=5), Look(7, 9), 100.0, (7, 100.0, 2)),
    ("stood still with lag", track(4, 10.0, best=5), Look(5, 9), 100.0, (5, 10.0, 4)),
    ("caught up", track(4, 10.0, best=5), Look(9, 9), 100.0, (9, 100.0, 0)),
    ("idle and caught up", track(0, 10.0, best=9), Look(9, 9), 100.0, (9, 100.0, 0)),
    ("new record, idle before", track(0, 100.0, best=9), Look(9, 10), 101.0, (9, 100.0, 1)),
    ("seek back after a failure", track(4, 10.0, best=9), Look(5, 9), 100.0, (9, 10.0, 4)),
    (
        "lag unknown restarts the clock",
        track(4, 10.0, best=5),
        Look(5, None),
        100.0,
        (5, 100.0, None),
    ),
    ("position unknown", track(4, 10.0, best=5), Look(None, 9), 100.0, (5, 10.0, 9)),
]


@pytest.mark.parametrize(
    ("previous", "look", "now", "expected"),
    [row[1:] for row in FOLLOW],
    ids=[row[0] for row in FOLLOW],
)
def test_follow(
    previous: Track | None, look: Look, now: float, expected: tuple[int, float, int | None]
) -> None:
    after = follow(previous, look, now)
    assert (after.best_position, after.progress_at, after.lag) == expected


# assigned tracks, unassigned_since, group tracks, now -> state
ASSESS: list[
    tuple[str, dict[Partition, Track], float | None, dict[Partition, Track], float, str]
] = [
    ("caught up", {P0: track(0, 100.0)}, None, {}, 1000.0, "ok"),
    ("behind but moving", {P0: track(50, 990.0)}, None, {}, 1000.0, "ok"),
    ("behind, still just within the window", {P0: track(5, 941.0)}, None, {}, 1000.0, "ok"),
    ("behind, no progress for the window", {P0: track(5, 940.0)}, None, {}, 1000.0, "stalled"),
    (
        "one of two partitions stuck",
        {P0: track(0, 999.0), P1: track(3, 900.0)},
        None,
        {},
        1000.0,
        "stalled",
    ),
    (
        "records reach a failing handler",
        {P0: track(5, 900.0, delivered_at=998.0)},
        None,
        {},
        1000.0,
        "failing",
    ),
    (
        "delivered long ago, nothing since",
        {P0: track(5, 900.0, delivered_at=910.0)},
        None,
        {},
        1000.0,
        "stalled",
    ),
    ("lag unknown", {P0: track(None, 100.0)}, None, {}, 1000.0, "ok"),
    ("just started, no partitions yet", {}, 980.0, {}, 1000.0, "starting"),
    ("no partitions for long, group idle", {}, 900.0, {P0: track(0, 900.0)}, 1000.0, "standby"),
    (
        "no partitions, another member moves the group",
        {},
        900.0,
        {P0: track(20, 995.0)},
        1000.0,
        "standby",
    ),
    (
        "no partitions while records wait unmoved",
        {},
        900.0,
        {P0: track(20, 920.0)},
        1000.0,
        "stalled",
    ),
    ("no partitions, group offsets unknown", {}, 900.0, {}, 1000.0, "standby"),
]


@pytest.mark.parametrize(
    ("assigned", "unassigned_since", "group", "now", "state"),
    [row[1:] for row in ASSESS],
    ids=[row[0] for row in ASSESS],
)
def test_assess(
    assigned: dict[Partition, Track],
    unassigned_since: float | None,
    group: dict[Partition, Track],
    now: float,
    state: str,
) -> None:
    verdict = assess(
        assigned, unassigned_since=unassigned_since, group=group, now=now, stall_after=STALL
    )
    assert verdict.state == state, verdict.detail
    assert verdict.healthy == (state in ("ok", "starting", "standby"))


def test_a_stall_names_the_partition_the_lag_and_the_time() -> None:
    verdict = assess(
        {P0: track(0, 999.0), P1: track(7, 880.0)},
        unassigned_since=None,
        group={},
        now=1000.0,
        stall_after=STALL,
    )

    assert verdict.detail == "no progress for 120s: keepword.messages.v1[1] (7 waiting)"
    assert (verdict.lag, verdict.stalled_for) == (7, 120.0)


STALLED = Verdict("stalled", "no progress", lag=3, stalled_for=70)

# verdict, restarts so far, last restart, now -> action (max 3 restarts)
RECOVER = [
    ("healthy", Verdict("ok", "caught up"), 0, None, 1000.0, "wait"),
    (
        "handler failing: a restart would not help",
        Verdict("failing", "db"),
        0,
        None,
        1000.0,
        "wait",
    ),
    ("first stall", STALLED, 0, None, 1000.0, "restart"),
    ("restarted a moment ago", STALLED, 1, 990.0, 1000.0, "wait"),
    ("restart did not help", STALLED, 1, 930.0, 1000.0, "restart"),
    ("third restart did not help", STALLED, 3, 930.0, 1000.0, "give_up"),
]


@pytest.mark.parametrize(
    ("verdict", "restarts", "last_restart_at", "now", "action"),
    [row[1:] for row in RECOVER],
    ids=[row[0] for row in RECOVER],
)
def test_recover(
    verdict: Verdict, restarts: int, last_restart_at: float | None, now: float, action: str
) -> None:
    assert (
        recover(
            verdict,
            restarts=restarts,
            last_restart_at=last_restart_at,
            now=now,
            stall_after=STALL,
            max_restarts=3,
        )
        == action
    )


def test_no_restarts_allowed_gives_up_at_once() -> None:
    assert (
        recover(
            STALLED, restarts=0, last_restart_at=None, now=1.0, stall_after=STALL, max_restarts=0
        )
        == "give_up"
    )
