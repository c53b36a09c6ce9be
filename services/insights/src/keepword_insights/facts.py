"""What each event adds to the facts: pure functions from an event (and the fact it changes) to
fact rows. No SQL, no clock: times come from the events themselves, so reading the same topics
again builds the same facts.

Customer waits follow escalation's thread clock: a wait begins with the first customer message
nobody has answered yet (its `received_at`) and ends with the first reply by a person that
reached the customer (its `sent_at`; an automatic acknowledgement, an internal note or an
unproven sender ends nothing). A wait after an earlier answer is a next-reply wait.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from keepword_events import (
    CommitmentAnswered,
    CommitmentStatus,
    CommitmentStatusChanged,
    CustomerRated,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    MessageReceived,
    NotificationFailed,
    NotificationSent,
    OptionKind,
    ReplySent,
)
from keepword_events.escalations import EscalationFacts

VERDICTS = frozenset(
    {CommitmentStatus.CONFIRMED, CommitmentStatus.REJECTED, CommitmentStatus.COUNTERED}
)


@dataclass(frozen=True, slots=True)
class Thread:
    """A customer conversation, and the wait open on it now (if any)."""

    thread_id: str
    customer: str | None = None  # their name, else their address, as first known
    first_customer_at: datetime | None = None
    first_reply_at: datetime | None = None
    last_reply_at: datetime | None = None
    replies: int = 0
    customer_messages: int = 0
    waiting_since: datetime | None = None
    unanswered: int = 0
    answered_before: bool = False  # of the open wait: a person answered earlier
    deposit_amount: Decimal | None = None
    deposit_currency: str | None = None
    last_replier_role: str | None = None  # the team of the person who replied last


@dataclass(frozen=True, slots=True)
class Wait:
    """A wait a person's reply ended."""

    thread_id: str
    began_at: datetime
    answered_before: bool
    messages: int
    replied_at: datetime
    replier_email: str
    replier_role: str


def customer_wrote(thread: Thread | None, message: MessageReceived) -> Thread:
    """The customer wrote: the first unanswered message begins a wait, later ones add to it."""
    at = message.received_at
    thread = thread or Thread(message.thread_id)
    deposit = message.deposit
    known = message.customer.name or message.customer.email
    thread = replace(
        thread,
        customer=thread.customer or (str(known) if known else None),
        first_customer_at=thread.first_customer_at or at,
        customer_messages=thread.customer_messages + 1,
        unanswered=thread.unanswered + 1,
        deposit_amount=deposit.amount if deposit else thread.deposit_amount,
        deposit_currency=deposit.currency if deposit else thread.deposit_currency,
    )
    if thread.waiting_since is None:
        thread = replace(thread, waiting_since=at, answered_before=thread.replies > 0)
    return thread


def counts_as_reply(reply: ReplySent) -> bool:
    """Whether the reply ends the customer's wait (as it does escalation's clock)."""
    return reply.sender_verified and reply.reached_the_customer


def person_replied(thread: Thread | None, reply: ReplySent) -> tuple[Thread, Wait | None]:
    """A person answered the customer: the open wait (if any) ends here."""
    at = reply.sent_at
    thread = thread or Thread(reply.thread_id)
    ended = None
    if thread.waiting_since is not None:
        ended = Wait(
            thread_id=thread.thread_id,
            began_at=thread.waiting_since,
            answered_before=thread.answered_before,
            messages=thread.unanswered,
            replied_at=at,
            replier_email=str(reply.author.email).lower(),
            replier_role=reply.author.role.value,
        )
    after = replace(
        thread,
        first_reply_at=thread.first_reply_at or at,
        last_reply_at=at,
        replies=thread.replies + 1,
        last_replier_role=reply.author.role.value,
        waiting_since=None,
        unanswered=0,
        answered_before=False,
    )
    return after, ended


@dataclass(frozen=True, slots=True)
class Promise:
    """A promise as the ledger last stated it."""

    commitment_id: str
    thread_id: str
    kind: str
    maker_email: str
    maker_role: str
    made_at: datetime
    status: str
    at_risk: bool
    verdict: str | None  # production's latest answer: confirmed, rejected or countered
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class PromiseMove:
    """One move of a promise's status history."""

    event_id: str
    commitment_id: str
    at: datetime
    from_status: str | None
    to_status: str
    at_risk: bool


def promise_moved(
    before: Promise | None, change: CommitmentStatusChanged, event_id: str
) -> tuple[Promise, PromiseMove]:
    """The ledger moved a promise: its state now, and the move for its history."""
    move = PromiseMove(
        event_id=event_id,
        commitment_id=change.commitment_id,
        at=change.changed_at,
        from_status=change.previous_status.value if change.previous_status else None,
        to_status=change.status.value,
        at_risk=change.at_risk,
    )
    verdict = change.status.value if change.status in VERDICTS else None
    if before is not None and change.changed_at < before.changed_at:
        return before, move  # an older statement adds to the history, not to the state
    now = Promise(
        commitment_id=change.commitment_id,
        thread_id=change.thread_id,
        kind=change.kind.value,
        maker_email=str(change.made_by.email).lower(),
        maker_role=change.made_by.role.value,
        made_at=before.made_at if before else change.changed_at,
        status=change.status.value,
        at_risk=change.at_risk,
        verdict=verdict or (before.verdict if before else None),
        changed_at=change.changed_at,
    )
    return now, move


@dataclass(frozen=True, slots=True)
class ProductionAnswer:
    """Production's answer to a promise, as requested."""

    event_id: str
    commitment_id: str
    verdict: str
    answered_by: str
    at: datetime


def production_answered(
    answer: CommitmentAnswered, event_id: str, at: datetime
) -> ProductionAnswer:
    """The fact of a production answer (`at`: when it was published)."""
    return ProductionAnswer(
        event_id=event_id,
        commitment_id=answer.commitment_id,
        verdict=answer.verdict.value,
        answered_by=str(answer.answered_by.email).lower(),
        at=at,
    )


@dataclass(frozen=True, slots=True)
class Escalation:
    """An escalation: why it opened, how high it went, its decision and how it ended."""

    escalation_id: str
    thread_id: str
    rule: str
    opened_at: datetime | None
    level: int
    decided_at: datetime | None = None
    option: str | None = None
    decided_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None


@dataclass(frozen=True, slots=True)
class Raise:
    """An escalation went up a level, or reminded the top of the chain (`reminder` > 0)."""

    event_id: str
    escalation_id: str
    level: int
    reminder: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    """A manager's decision; "handle it" included."""

    event_id: str
    escalation_id: str
    option: str
    decided_by: str
    refund_amount: Decimal | None
    at: datetime


def _escalation(before: Escalation | None, event: EscalationFacts) -> Escalation:
    if before is None:
        return Escalation(event.escalation_id, event.thread_id, event.rule.value, None, event.level)
    return replace(before, level=max(before.level, event.level))


def escalation_opened(
    before: Escalation | None, event: EscalationOpened, at: datetime
) -> Escalation:
    """An escalation opened (`at`: when it was published)."""
    return replace(_escalation(before, event), rule=event.rule.value, opened_at=at)


def escalation_raised(
    before: Escalation | None, event: EscalationRaised, event_id: str, at: datetime
) -> tuple[Escalation, Raise]:
    """An escalation went up the chain."""
    raised = Raise(event_id, event.escalation_id, event.level, event.reminder, at)
    return _escalation(before, event), raised


def escalation_decided(
    before: Escalation | None, event: EscalationDecided, event_id: str, at: datetime
) -> tuple[Escalation, Decision]:
    """A manager decided. "Handle it" decides nothing: the escalation stays undecided."""
    decision = Decision(
        event_id=event_id,
        escalation_id=event.escalation_id,
        option=event.option.value,
        decided_by=str(event.decided_by.email).lower(),
        refund_amount=event.refund_amount,
        at=at,
    )
    escalation = _escalation(before, event)
    if event.option is not OptionKind.HANDLE_IT and escalation.decided_at is None:
        escalation = replace(
            escalation, decided_at=at, option=decision.option, decided_by=decision.decided_by
        )
    return escalation, decision


def escalation_resolved(
    before: Escalation | None, event: EscalationResolved, at: datetime
) -> Escalation:
    """The thread got its concrete action: the escalation is closed."""
    return replace(_escalation(before, event), resolved_at=at, resolution=event.resolution)


@dataclass(frozen=True, slots=True)
class Notification:
    """The outcome of one email."""

    event_id: str
    template: str
    recipient_role: str
    sent: bool
    at: datetime


def notified(
    event: NotificationSent | NotificationFailed, event_id: str, at: datetime
) -> Notification:
    """The fact of an email sent or failed."""
    return Notification(
        event_id=event_id,
        template=event.template,
        recipient_role=event.recipient_role.value,
        sent=isinstance(event, NotificationSent),
        at=at,
    )


@dataclass(frozen=True, slots=True)
class Rating:
    """A customer's rating of a thread: its latest revision."""

    thread_id: str
    rating: int
    revision: int
    rated_at: datetime


def customer_rated(before: Rating | None, rated: CustomerRated) -> Rating:
    """The customer rated the thread: the highest revision stands (an older one read late, or
    the same one read again, changes nothing). The comment is not kept: the indices need none."""
    if before is not None and rated.revision <= before.revision:
        return before
    return Rating(rated.thread_id, rated.rating, rated.revision, rated.rated_at)
