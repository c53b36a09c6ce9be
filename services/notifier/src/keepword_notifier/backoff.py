"""When to try a temporarily refused email again: exponential backoff with full jitter."""

from __future__ import annotations

import random
from datetime import timedelta


def retry_delay(
    attempt: int,
    *,
    base: timedelta = timedelta(seconds=2),
    cap: timedelta = timedelta(minutes=15),
    draw: float | None = None,
) -> timedelta:
    """The pause after `attempt` failed tries (1, 2, …). Jitter spreads retries of many emails
    so a server coming back is not hit by all of them at once; `draw` fixes it for tests."""
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** max(attempt - 1, 0))
    share = random.random() if draw is None else draw
    return timedelta(seconds=max(base.total_seconds() / 2, ceiling * share))
