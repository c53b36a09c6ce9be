"""When a person's reply to a waiting customer is due: one rule for two services.

Escalation's thread clock warns and escalates by this deadline; the notifier's acknowledgement
tells the customer this same time. Both call `reply_deadline` with the same inputs, read from the
same topic in the same order (a thread's messages and replies share a key): when the wait began
(the first message nobody answered yet, not the latest) and whether a person had answered the
customer on the thread before (then `next_reply` applies, else `first_reply`), counted in the
company's business time. Pure: the caller passes the times, the SLA and the calendar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .business_hours import add_business_time, calendar_for
from .company import CompanyConfig, Sla

# Adds business time to an instant (`add_business_time` bound to a calendar).
DueIn = Callable[[datetime, timedelta], datetime]


@dataclass(frozen=True, slots=True)
class ReplySla:
    """The part of the SLA that sets reply deadlines."""

    first_reply: timedelta
    next_reply: timedelta
    warn_fraction: float

    @classmethod
    def of(cls, sla: Sla) -> ReplySla:
        """The reply terms of the company's SLA."""
        return cls(
            first_reply=sla.first_reply, next_reply=sla.next_reply, warn_fraction=sla.warn_at
        )


@dataclass(frozen=True, slots=True)
class ReplyDeadline:
    """When the reply is due, and when to warn that it soon is."""

    due_at: datetime
    warn_at: datetime


def reply_deadline(
    wait_began: datetime, *, answered_before: bool, sla: ReplySla, due_in: DueIn
) -> ReplyDeadline:
    """The deadline of a wait that began at `wait_began`.

    `answered_before`: a person's reply reached the customer on this thread before the wait
    began (a follow-up conversation gets `next_reply`, a first contact `first_reply`).
    """
    allowed = sla.next_reply if answered_before else sla.first_reply
    return ReplyDeadline(
        due_at=due_in(wait_began, allowed),
        warn_at=due_in(wait_began, allowed * sla.warn_fraction),
    )


def business_due_in(config: CompanyConfig) -> DueIn:
    """Business time on the company's calendar (its hours, time zone and holidays)."""
    calendar = calendar_for(config.sla.business_hours, config.company.timezone)

    def due_in(start: datetime, duration: timedelta) -> datetime:
        return add_business_time(start, duration, calendar)

    return due_in


def company_reply_deadline(
    config: CompanyConfig, wait_began: datetime, *, answered_before: bool
) -> ReplyDeadline:
    """`reply_deadline` under the company's SLA and calendar."""
    return reply_deadline(
        wait_began,
        answered_before=answered_before,
        sla=ReplySla.of(config.sla),
        due_in=business_due_in(config),
    )
