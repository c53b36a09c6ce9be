"""What a fault run expects of its threads, and how a run's result is kept: shared by the fault
run on one broker and its variant on a three-broker cluster."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .outcome import Outcome
from .workload import Kind, Plan

# Emails each kind of thread causes (the clean run must show exactly these).
EMAILS_PER_KIND = {Kind.UNANSWERED: 2, Kind.ANSWERED: 0, Kind.PROMISE_REJECTED: 3}


@dataclass
class Run:
    """What one run produced, and how long its faults took to recover from."""

    outcome: Outcome = field(default_factory=Outcome)
    recovery: dict[str, float] = field(default_factory=dict)
    retries: int = 0
    seconds: float = 0.0


def expected_emails(workload: list[Plan]) -> int:
    return sum(EMAILS_PER_KIND[plan.kind] for plan in workload)


def unexpected_emails(outcome: Outcome, workload: list[Plan]) -> list[str]:
    """Threads whose email count is not their kind's, with the subjects they got."""
    subjects: dict[str, list[str]] = {plan.label: [] for plan in workload}
    for email, count in outcome.emails.items():
        label = next((lb for lb in subjects if f"[#{lb}]" in email.subject), "?")
        subjects.setdefault(label, []).extend([f"{email.to}: {email.subject}"] * count)
    kinds = {plan.label: plan.kind for plan in workload}
    return [
        f"{label} ({kinds.get(label)}): {got}"
        for label, got in sorted(subjects.items())
        if label not in kinds or len(got) != EMAILS_PER_KIND[kinds[label]]
    ]


async def wait_until(check: Callable[[], bool], within: float, what: str) -> None:
    """Wait until `check()` (run in a thread every half second); TimeoutError after `within`."""
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.5)
