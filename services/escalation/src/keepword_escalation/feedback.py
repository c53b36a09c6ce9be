"""When escalation asks the customer how well we kept our word. Pure: `watch` passes the
thread's clock, its active escalation, whether it was asked already and the time.

Once per thread, never while the customer waits for an answer or an escalation is still open:
when an escalation is resolved, or once the thread was answered and stayed quiet `ask_after`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from keepword_events import FeedbackOccasion, FeedbackRequested

from .clocks import ThreadClock
from .escalations import Escalation

FEEDBACK_ASK = "feedback_ask"  # the timer kind; its subject is the thread id


def quiet_from(clock: ThreadClock, ask_after: timedelta) -> datetime | None:
    """When the answered thread will have been quiet long enough to ask; None while the
    customer waits or before anyone answered."""
    if clock.waiting or clock.last_reply_at is None:
        return None
    return clock.last_reply_at + ask_after


def may_ask(
    clock: ThreadClock | None,
    *,
    active: Escalation | None,
    asked: bool,
    occasion: FeedbackOccasion,
    now: datetime,
    ask_after: timedelta,
) -> bool:
    """Whether to ask now: not asked before, someone to ask, nobody waiting, nothing open, and
    for a quiet thread, quiet since the last answer for `ask_after`."""
    if asked or clock is None or clock.customer.email is None or clock.waiting:
        return False
    if active is not None:
        return False  # its resolution asks
    if occasion is FeedbackOccasion.RESOLVED:
        return True
    due = quiet_from(clock, ask_after)
    return due is not None and now >= due


def request(clock: ThreadClock, occasion: FeedbackOccasion, now: datetime) -> FeedbackRequested:
    """The ask, for the notifier to email."""
    return FeedbackRequested(
        thread_id=clock.thread_id,
        correlation_id=clock.thread_id,
        customer=clock.customer,
        occasion=occasion,
        requested_at=now,
    )
