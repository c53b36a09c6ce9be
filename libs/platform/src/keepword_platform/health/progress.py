"""Is a Kafka consumer making progress? Pure decisions; the monitor does the looking.

aiokafka can stall silently after a broker restart: no error, no records, the group apparently
joined. What gives it away is records waiting (the broker's end offset ahead of the consumer's
position) while the position does not move. Time is the caller's clock (monotonic seconds).

- `follow` turns one look at a partition into what is remembered of it between looks;
- `assess` judges a consumer from what is remembered of its partitions;
- `recover` picks what to do about a stall: wait, restart the consumer in-process, or give up
  (liveness fails, so the orchestrator restarts the process).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

# A partition as (topic, partition number).
Partition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Look:
    """One look at a partition: the consumer's position and the end of the log, when known."""

    position: int | None  # next offset the consumer will read; None while it does not know
    end_offset: int | None  # offset the next record written will get; None: broker not asked
    delivered_at: float | None = None  # when records of it last reached the handler


@dataclass(frozen=True, slots=True)
class Track:
    """What is remembered of a partition between looks."""

    best_position: int | None
    progress_at: float  # last time it moved forward, had nothing waiting, or could not be judged
    lag: int | None  # records waiting; None when unknown
    delivered_at: float | None


def lag_of(look: Look) -> int | None:
    """Records waiting for the consumer; None when the end of the log is unknown.

    A consumer that does not know its position yet has everything up to the end waiting as far
    as anyone can tell, so a position that stays unknown counts as a stall too.
    """
    if look.end_offset is None:
        return None
    if look.position is None:
        return look.end_offset
    return max(0, look.end_offset - look.position)


def follow(previous: Track | None, look: Look, now: float) -> Track:
    """Remember `look`: progress is a position beyond the best seen, or nothing waiting.

    A lag that cannot be measured (the broker did not answer) is not held against the consumer:
    its stall clock starts again when the lag can be measured, so a consumer gets a full window
    to resume after a broker outage.
    """
    lag = lag_of(look)
    best = previous.best_position if previous is not None else None
    moved = look.position is not None and (best is None or look.position > best)
    if moved:
        best = look.position
    if previous is None or moved or lag is None or lag == 0:
        progress_at = now
    else:
        progress_at = previous.progress_at
    return Track(
        best_position=best, progress_at=progress_at, lag=lag, delivered_at=look.delivered_at
    )


State = Literal["ok", "starting", "standby", "failing", "stalled"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a consumer is doing; `state` "ok", "starting" and "standby" are healthy."""

    state: State
    detail: str
    lag: int = 0  # records known to wait on its own partitions
    stalled_for: float = 0.0  # longest time a partition has waited without progress

    @property
    def healthy(self) -> bool:
        """Whether the consumer counts as ready."""
        return self.state in ("ok", "starting", "standby")


def _label(partition: Partition) -> str:
    return f"{partition[0]}[{partition[1]}]"


def _stalled(
    tracks: Mapping[Partition, Track], now: float, stall_after: float
) -> list[tuple[Partition, Track]]:
    return sorted(
        (
            (partition, track)
            for partition, track in tracks.items()
            if track.lag and now - track.progress_at >= stall_after
        ),
        key=lambda item: item[1].progress_at,
    )


def assess(
    assigned: Mapping[Partition, Track],
    *,
    unassigned_since: float | None,
    group: Mapping[Partition, Track],
    now: float,
    stall_after: float,
) -> Verdict:
    """Judge a consumer.

    - Assigned partitions with records waiting and no progress for `stall_after`: "stalled" when
      nothing reached the handler in that time (the Kafka side is stuck: restarting helps), or
      "failing" when records did reach it and none were committed (the handler fails, say the
      database is down: restarting the consumer would not help).
    - No partitions for `stall_after`: "stalled" when the group's committed offsets (`group`)
      show records waiting that nobody moves; otherwise "standby" — another instance of the
      service holds the partitions, or there is nothing to do. So a spare replica stays ready,
      and a lone instance that lost its assignment is caught as soon as anything waits.
    """
    if unassigned_since is not None:
        waited = now - unassigned_since
        if waited < stall_after:
            return Verdict("starting", f"waiting for partitions ({waited:.0f}s)")
        stuck = _stalled(group, now, stall_after)
        if not stuck:
            return Verdict("standby", f"no partitions assigned ({waited:.0f}s); nothing waits")
        waiting = sum(track.lag or 0 for _partition, track in stuck)
        oldest = now - stuck[0][1].progress_at
        return Verdict(
            "stalled",
            f"no partitions assigned for {waited:.0f}s while {waiting} records wait on "
            f"{', '.join(_label(p) for p, _t in stuck)} with no progress for {oldest:.0f}s",
            lag=0,
            stalled_for=min(waited, oldest),
        )
    lag = sum(track.lag or 0 for track in assigned.values())
    stuck = _stalled(assigned, now, stall_after)
    if not stuck:
        detail = f"{lag} records behind, moving" if lag else "caught up"
        return Verdict("ok", detail, lag=lag)
    oldest = now - stuck[0][1].progress_at
    where = ", ".join(f"{_label(p)} ({t.lag} waiting)" for p, t in stuck)
    delivered = [
        t.delivered_at
        for _p, t in stuck
        if t.delivered_at is not None and now - t.delivered_at < stall_after
    ]
    if delivered:
        return Verdict(
            "failing",
            f"records reach the handler but none are committed for {oldest:.0f}s: {where}",
            lag=lag,
            stalled_for=oldest,
        )
    return Verdict(
        "stalled", f"no progress for {oldest:.0f}s: {where}", lag=lag, stalled_for=oldest
    )


Action = Literal["wait", "restart", "give_up"]


def recover(
    verdict: Verdict,
    *,
    restarts: int,
    last_restart_at: float | None,
    now: float,
    stall_after: float,
    max_restarts: int,
) -> Action:
    """What to do about `verdict`, given the in-process restarts tried since the last progress.

    Only a stall is acted on. A restarted consumer gets a full `stall_after` before the next
    step; after `max_restarts` restarts that did not help, the process gives up (liveness).
    """
    if verdict.state != "stalled":
        return "wait"
    if last_restart_at is not None and now - last_restart_at < stall_after:
        return "wait"
    return "restart" if restarts < max_restarts else "give_up"
