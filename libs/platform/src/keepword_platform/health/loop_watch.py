"""Is the event loop turning? Pure decisions; the watchdog thread does the looking.

The loop beats (a task stamps the monotonic clock every fraction of a second); a thread of its
own compares the last beat with the clock. A loop that has not beaten for the stall window is
blocked: something runs on it without ever awaiting (CPU-bound work, a blocking call), so
nothing else — HTTP, the consumer, the health checks — can run. The block is an episode: it
starts when the window is crossed, names the input being handled then (if the consumer was the
one running), and ends when the loop beats again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal


@dataclass(frozen=True, slots=True)
class Input:
    """A consumed record being handled: where it is, and its event id once decoded."""

    service: str
    schema: str
    topic: str
    partition: int
    offset: int
    event_id: str | None = None

    @property
    def position(self) -> tuple[str, int, int]:
        """(topic, partition, offset): what identifies the record in Kafka."""
        return (self.topic, self.partition, self.offset)

    def describe(self) -> str:
        """Where it is, for logs and health answers (no payload: no personal data)."""
        where = f"{self.topic}[{self.partition}]@{self.offset}"
        return f"{where} (event {self.event_id})" if self.event_id else where


@dataclass(frozen=True, slots=True)
class Block:
    """One episode of a blocked loop."""

    since: float  # the last beat before it (monotonic seconds)
    blocked_for: float  # seconds without a beat, as of the latest look
    suspect: Input | None  # the input whose handling was running on the loop, if any
    ended: bool = False


Change = Literal["none", "blocked", "still_blocked", "turned"]


def blocked_for(last_beat: float, now: float) -> float:
    """Seconds since the loop last beat."""
    return max(0.0, now - last_beat)


def step(
    current: Block | None,
    *,
    last_beat: float,
    now: float,
    stall_after: float,
    suspect: Input | None,
) -> tuple[Block | None, Change]:
    """The episode after one look, and what changed.

    - No episode and the loop silent for `stall_after`: an episode starts ("blocked"), blaming
      `suspect` (what the caller found running on the loop; None when it was not an input).
    - An open episode and the loop still silent: it goes on ("still_blocked"), blame unchanged.
    - An open episode and a beat after it started: it ends ("turned"), kept for the record.
    - An ended episode is replaced by the next block, else left as it is.
    """
    silent = blocked_for(last_beat, now)
    open_episode = current is not None and not current.ended
    if open_episode and current is not None:
        if last_beat > current.since:  # the first beat after the block marks its end
            lasted = max(current.blocked_for, last_beat - current.since)
            return replace(current, ended=True, blocked_for=lasted), "turned"
        return replace(current, blocked_for=silent), "still_blocked"
    if silent >= stall_after:
        return Block(since=last_beat, blocked_for=silent, suspect=suspect), "blocked"
    return current, "none"


def liveness(current: Block | None, *, now: float, remember_for: float) -> str:
    """What `/healthz/live` says. It only ever runs on a turning loop, so the loop is live.

    A block that ended within `remember_for` seconds is told after "ok;" (still healthy), so
    whoever looks after a restart-free recovery learns what happened.
    """
    if current is None:
        return "ok"
    ended_at = current.since + current.blocked_for
    if now - ended_at > remember_for:
        return "ok"
    on = f" while handling {current.suspect.describe()}" if current.suspect else ""
    ago = max(0.0, now - ended_at)
    return f"ok; the event loop was blocked for {current.blocked_for:.0f}s{on}, {ago:.0f}s ago"


def reason(blocked_seconds: float) -> str:
    """The dead-letter reason of a suspect read again after a restart."""
    return f"blocked the event loop for {blocked_seconds:.0f} s"
