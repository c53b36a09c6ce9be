"""A thread's clock: who wrote last, how long the customer has waited, when a reply is due.
Pure: the deadline is the platform's `reply_deadline` (the notifier's acknowledgement states
the same one), counted by a `due_in` function the caller builds from the SLA and calendar."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from keepword_events import Customer, Money, PreferredChannel
from keepword_platform.reply_deadline import DueIn, ReplySla, reply_deadline

__all__ = [
    "DueIn",
    "ReplySla",
    "ThreadClock",
    "customer_wrote",
    "follow_ups_allowed",
    "person_replied",
    "too_many_follow_ups",
]


@dataclass(frozen=True, slots=True)
class ThreadClock:
    """What escalation knows of a customer conversation."""

    thread_id: str
    customer: Customer
    deposit: Money | None = None
    first_contact_at: datetime | None = None
    last_customer_at: datetime | None = None
    last_reply_at: datetime | None = None
    unanswered: int = 0  # customer messages since the last reply by a person
    waiting_since: datetime | None = None
    reply_due_at: datetime | None = None
    warn_at: datetime | None = None

    @property
    def waiting(self) -> bool:
        """The customer is waiting for a person's reply."""
        return self.unanswered > 0


def customer_wrote(
    clock: ThreadClock | None,
    *,
    thread_id: str,
    customer: Customer,
    deposit: Money | None,
    at: datetime,
    sla: ReplySla,
    due_in: DueIn,
) -> ThreadClock:
    """The customer wrote. The first unanswered message starts the reply clock; later ones
    count as follow-ups but do not move the deadline (waiting longer is not a new wait)."""
    clock = clock or ThreadClock(thread_id=thread_id, customer=customer, first_contact_at=at)
    clock = replace(
        clock,
        customer=_merge(clock.customer, customer),
        deposit=deposit or clock.deposit,
        last_customer_at=at,
        unanswered=clock.unanswered + 1,
    )
    if clock.unanswered > 1:
        return clock
    deadline = reply_deadline(
        at, answered_before=clock.last_reply_at is not None, sla=sla, due_in=due_in
    )
    return replace(clock, waiting_since=at, reply_due_at=deadline.due_at, warn_at=deadline.warn_at)


def person_replied(clock: ThreadClock, *, at: datetime) -> ThreadClock:
    """A person answered the customer: the wait is over."""
    return replace(
        clock, last_reply_at=at, unanswered=0, waiting_since=None, reply_due_at=None, warn_at=None
    )


def follow_ups_allowed(clock: ThreadClock, max_unanswered_followups: int) -> int:
    """How many follow-ups without an answer are tolerated; a paid deposit tolerates one less."""
    allowed = max_unanswered_followups - (1 if clock.deposit is not None else 0)
    return max(allowed, 1)


def too_many_follow_ups(clock: ThreadClock, max_unanswered_followups: int) -> bool:
    """The customer wrote again more times than allowed without an answer."""
    follow_ups = clock.unanswered - 1
    return follow_ups >= follow_ups_allowed(clock, max_unanswered_followups)


def _merge(known: Customer, new: Customer) -> Customer:
    # Later messages may add a phone number or a name; they never erase what we knew.
    return Customer(
        email=new.email or known.email,
        name=new.name or known.name,
        phone=new.phone or known.phone,
        # Once a customer said they prefer the phone, that stands.
        preferred_channel=PreferredChannel.PHONE
        if PreferredChannel.PHONE in (new.preferred_channel, known.preferred_channel)
        else PreferredChannel.EMAIL,
    )
