"""Asking the customer how well we kept our word, and what their rating calls for. Pure:
`watch` passes the thread's clock, its active escalation, whether it was asked already and the
time.

Once per thread, never while the customer waits for an answer or an escalation is still open:
when an escalation is resolved, or once the thread was answered and stayed quiet `ask_after`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from keepword_events import CustomerRated, EscalationRule, FeedbackOccasion, FeedbackRequested
from keepword_events.feedback import HIGHEST_RATING

from .clocks import ThreadClock
from .escalations import Escalation, State
from .rules import Ask

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


# ----- a customer rated us -------------------------------------------------------------------


def is_low(rating: int, low_at_most: int) -> bool:
    """A rating that calls for a manager (1 or 2 out of 5 by default)."""
    return rating <= low_at_most


def rating_line(rated: CustomerRated) -> str:
    """The rating as the timeline tells it (the comment's start; the email quotes it whole)."""
    changed = " (changed)" if rated.revision > 1 else ""
    said = ""
    if rated.comment:
        words = " ".join(rated.comment.split())
        said = f': "{words[:200]}{"…" if len(words) > 200 else ""}"'
    return f"Customer rated us {rated.rating} of {HIGHEST_RATING}{changed}{said}"


def unhappy_ask(
    clock: ThreadClock, rated: CustomerRated, *, low_at_most: int, event_id: str
) -> Ask | None:
    """A low rating asks for a manager, with the customer's comment; None for a good one."""
    if not is_low(rated.rating, low_at_most):
        return None
    wrote = " and wrote why" if rated.comment else ""
    return Ask(
        clock,
        EscalationRule.UNHAPPY_CUSTOMER,
        f"The customer rated how well we kept our word {rated.rating} out of "
        f"{HIGHEST_RATING}{wrote}.",
        caused_at=rated.rated_at,
        causation_id=event_id,
        comment=rated.comment,
    )


def withdrawn(active: Escalation | None, rated: CustomerRated, *, low_at_most: int) -> bool:
    """A changed rating that is no longer low withdraws the unhappy-customer escalation it
    opened, while no manager has decided yet (a decided call or refund still happens)."""
    return (
        active is not None
        and active.rule is EscalationRule.UNHAPPY_CUSTOMER
        and active.state in (State.OPEN, State.DELEGATED)
        and not is_low(rated.rating, low_at_most)
    )
