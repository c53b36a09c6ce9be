"""Events escalation publishes on `keepword.escalations.v1`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from . import topics
from .base import Event, Identifier
from .checks import BodyText
from .common import Customer, Money, Person, Value


class EscalationRule(StrEnum):
    """Which rule opened the escalation."""

    STALLED = "stalled"
    REPEATED_CONTACT = "repeated_contact"
    PROMISE_GAP = "promise_gap"
    HANDLE_IT = "handle_it"
    DIFFICULT_CONVERSATION = "difficult_conversation"
    UNHAPPY_CUSTOMER = "unhappy_customer"


class OptionKind(StrEnum):
    """What a manager can decide."""

    REFUND = "refund"
    PHONE_CALL = "phone_call"
    RENEGOTIATE = "renegotiate"
    REASSIGN = "reassign"
    HANDLE_IT = "handle_it"


class Option(Value):
    """A concrete option put in front of a manager."""

    kind: OptionKind
    summary: str = Field(max_length=1000)
    refund: Money | None = None
    phone: str | None = None
    feasible_due_at: datetime | None = None


class EvidenceItem(Value):
    """One entry of the timeline that made the rule fire."""

    at: datetime
    what: str = Field(max_length=2000)
    event_id: str | None = None


class PromiseInQuestion(Value):
    """The promise a promise-gap escalation is about, as the ledger last stated it.

    Carried by the escalation events themselves: a reader of `keepword.escalations.v1` (the
    notifier) may read them before the ledger's events on another topic.
    """

    commitment_id: Identifier
    text: str = Field(max_length=5000)
    made_by: Person | None = None
    production_note: str | None = Field(default=None, max_length=5000)


class EscalationFacts(Event):
    """What every escalation event names."""

    escalation_id: Identifier
    rule: EscalationRule
    level: int = Field(ge=1, description="Management chain level now asked to decide.")


class EscalationOpened(EscalationFacts):
    """A thread needs a manager's decision."""

    ce_type: ClassVar[str] = "keepword.escalation.opened.v1"
    topic: ClassVar[str] = topics.ESCALATIONS

    manager: Person
    customer: Customer
    reason: str = Field(max_length=2000)
    evidence: tuple[EvidenceItem, ...] = ()
    options: tuple[Option, ...] = ()
    decide_by: datetime
    unanswered_messages: int = Field(default=0, ge=0)
    deposit: Money | None = None
    promise: PromiseInQuestion | None = None
    customer_comment: Annotated[BodyText, Field(max_length=2000)] | None = Field(
        default=None,
        description="What the customer wrote with a low rating (rule unhappy_customer).",
    )


class EscalationWarned(EscalationFacts):
    """A deadline is near: the warning fraction of its time has passed."""

    ce_type: ClassVar[str] = "keepword.escalation.warned.v1"
    topic: ClassVar[str] = topics.ESCALATIONS

    reason: str = Field(max_length=2000)
    due_at: datetime


class EscalationRaised(EscalationFacts):
    """No concrete action followed in time: the next management level is asked."""

    ce_type: ClassVar[str] = "keepword.escalation.raised.v1"
    topic: ClassVar[str] = topics.ESCALATIONS

    manager: Person
    previous_manager: Person | None = None
    reason: str = Field(max_length=2000)
    decide_by: datetime
    reminder: int = Field(
        default=0,
        ge=0,
        description="0: raised to this manager now; n: the n-th reminder to the same manager, "
        "at the top of the chain (each waits longer than the one before).",
    )
    customer: Customer | None = None
    evidence: tuple[EvidenceItem, ...] = ()
    options: tuple[Option, ...] = ()
    unanswered_messages: int = Field(default=0, ge=0)
    deposit: Money | None = None
    promise: PromiseInQuestion | None = None


class EscalationDecided(EscalationFacts):
    """A manager picked an option."""

    ce_type: ClassVar[str] = "keepword.escalation.decided.v1"
    topic: ClassVar[str] = topics.ESCALATIONS

    option: OptionKind
    decided_by: Person
    note: str | None = Field(default=None, max_length=5000)
    refund_amount: Decimal | None = None


class EscalationResolved(EscalationFacts):
    """The thread got the concrete action it needed; the escalation is closed."""

    ce_type: ClassVar[str] = "keepword.escalation.resolved.v1"
    topic: ClassVar[str] = topics.ESCALATIONS

    resolution: str = Field(max_length=2000)
