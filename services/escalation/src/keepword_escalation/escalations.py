"""An escalation's life: opened to a manager with options, decided (or delegated with "handle
it"), raised up the chain when no concrete action follows in time (the top of the chain is
reminded, less often each time), resolved when its cause is gone. Pure rules over plain data;
the caller supplies times, managers and options."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from keepword_events import (
    Customer,
    EscalationRule,
    EvidenceItem,
    Money,
    Option,
    OptionKind,
    PreferredChannel,
)


class State(StrEnum):
    """Where an escalation stands."""

    OPEN = "open"  # a manager must pick an option
    DELEGATED = "delegated"  # "handle it": the clock runs until a concrete action follows
    DECIDED = "decided"  # an option was picked; waiting for it to happen
    RESOLVED = "resolved"


# Decisions whose own recording is the concrete action (nothing more must be seen on the thread).
SELF_RESOLVING = frozenset({OptionKind.REFUND})


class Refusal(StrEnum):
    """Why a decision is refused (the decision pages and the API each say it their way)."""

    UNKNOWN = "invalid"  # no such escalation
    CLOSED = "closed"
    NOT_OFFERED = "not offered"
    NOT_YOURS = "not yours"


class DecisionRefused(ValueError):
    """The decision cannot be taken (unknown option, escalation already closed, not yours)."""

    def __init__(self, message: str, why: Refusal = Refusal.CLOSED) -> None:
        super().__init__(message)
        self.why = why


@dataclass(frozen=True, slots=True)
class Escalation:
    """One escalation of a thread."""

    escalation_id: str
    thread_id: str
    rule: EscalationRule
    level: int
    manager_email: str
    state: State
    reason: str
    opened_at: datetime
    decide_by: datetime
    options: tuple[Option, ...]
    evidence: tuple[EvidenceItem, ...]
    decided_option: OptionKind | None = None
    decided_by: str | None = None
    # When the cause happened (the customer's message, production's answer), in event time:
    # only a person's reply sent after it removes the cause.
    caused_at: datetime | None = None
    # Reminders sent to the manager now asked, at the top of the chain (0: none yet).
    reminders: int = 0

    @property
    def active(self) -> bool:
        """Not yet resolved."""
        return self.state is not State.RESOLVED


def options_for(
    customer: Customer,
    *,
    deposit: Money | None,
    feasible_due_at: datetime | None,
    owner: str | None,
) -> tuple[Option, ...]:
    """Concrete options to put in front of a manager, most specific first."""
    found: list[Option] = []
    if deposit is not None:
        found.append(
            Option(
                kind=OptionKind.REFUND,
                summary=f"Refund the deposit of {deposit.amount} {deposit.currency}",
                refund=deposit,
            )
        )
    else:
        found.append(Option(kind=OptionKind.REFUND, summary="Refund the disputed amount"))
    phone_first = customer.preferred_channel is PreferredChannel.PHONE
    call = "prefers the phone" if phone_first else "prefers email; a call still shows we care"
    found.append(
        Option(
            kind=OptionKind.PHONE_CALL,
            summary=f"Call {customer.name or 'the customer'} ({call})",
            phone=customer.phone,
        )
    )
    if feasible_due_at is not None:
        found.append(
            Option(
                kind=OptionKind.RENEGOTIATE,
                summary="Renegotiate to production's feasible terms: thank the customer, give "
                "the news plainly, say what we will do",
                feasible_due_at=feasible_due_at,
            )
        )
    else:
        found.append(
            Option(kind=OptionKind.RENEGOTIATE, summary="Renegotiate the promise with the customer")
        )
    found.append(
        Option(
            kind=OptionKind.REASSIGN,
            summary=f"Reassign the thread to {owner}" if owner else "Reassign to an owner",
        )
    )
    found.append(Option(kind=OptionKind.HANDLE_IT, summary="Handle it (no decision)"))
    if phone_first:  # put the call first for customers who prefer it
        found.insert(0, found.pop(1))
    return tuple(found)


def open_escalation(
    *,
    escalation_id: str,
    thread_id: str,
    rule: EscalationRule,
    manager_email: str,
    reason: str,
    at: datetime,
    decision_time: timedelta,
    options: tuple[Option, ...],
    evidence: tuple[EvidenceItem, ...],
    caused_at: datetime | None = None,
) -> Escalation:
    """A new escalation at level 1."""
    return Escalation(
        escalation_id=escalation_id,
        thread_id=thread_id,
        rule=rule,
        level=1,
        manager_email=manager_email,
        state=State.OPEN,
        reason=reason,
        opened_at=at,
        decide_by=at + decision_time,
        options=options,
        evidence=evidence,
        caused_at=caused_at,
    )


def refusal(escalation: Escalation, *, option: str, by: str) -> DecisionRefused | None:
    """The decision policy, for every way a decision arrives (a page, the API, a manager's
    "handle it" by email): only the manager the escalation is with now may decide, only while
    it is not resolved, and only an option it offers. None when `by` may pick `option`."""
    if not escalation.active:
        return DecisionRefused(
            f"escalation {escalation.escalation_id} is already resolved", Refusal.CLOSED
        )
    if option not in {o.kind.value for o in escalation.options}:
        return DecisionRefused(
            f"{option} is not an option of {escalation.escalation_id}", Refusal.NOT_OFFERED
        )
    if by.lower() != escalation.manager_email.lower():
        return DecisionRefused(
            f"{escalation.escalation_id} is for {escalation.manager_email} to decide, not {by}",
            Refusal.NOT_YOURS,
        )
    return None


def decide(
    escalation: Escalation,
    *,
    option: OptionKind,
    by: str,
    at: datetime,
    decision_time: timedelta,
) -> Escalation:
    """A manager picks an option (who may is `refusal`'s to say). "Handle it" is no decision:
    the clock keeps running."""
    refused = refusal(escalation, option=option.value, by=escalation.manager_email)
    if refused is not None:
        raise refused
    if option is OptionKind.HANDLE_IT:
        return replace(
            escalation,
            state=State.DELEGATED,
            decided_option=option,
            decided_by=by,
            decide_by=at + decision_time,
        )
    return replace(escalation, state=State.DECIDED, decided_option=option, decided_by=by)


def raise_to(
    escalation: Escalation,
    *,
    level: int,
    manager_email: str,
    at: datetime,
    decision_time: timedelta,
) -> Escalation:
    """No concrete action in time: the next level (or the top one again) must decide anew."""
    return replace(
        escalation,
        level=level,
        manager_email=manager_email,
        state=State.OPEN,
        decided_option=None,
        decided_by=None,
        decide_by=at + decision_time,
        reminders=0,
    )


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """How the top of the chain is asked again while it does not decide."""

    decision_time: timedelta  # the manager_decision SLA: the first wait, doubled each time
    longest: timedelta  # reminders are never further apart than this (nor closer than the SLA)


def reminder_interval(policy: ReminderPolicy, reminders: int) -> timedelta:
    """The time the top manager has after the `reminders`-th reminder (0: when first asked):
    the decision time, doubled with each reminder, up to `policy.longest`."""
    longest = max(policy.longest, policy.decision_time)
    interval = policy.decision_time
    for _ in range(reminders):  # doubling, not 2**n: a long-ignored escalation cannot overflow
        if interval >= longest:
            break
        interval *= 2
    return min(interval, longest)


def ask_again(
    escalation: Escalation,
    *,
    level: int,
    manager_email: str,
    at: datetime,
    policy: ReminderPolicy,
) -> Escalation:
    """Past its decision time: `manager_email` (the next level up, or the top of the chain) is
    asked. Someone new gets the full decision time; the manager already asked, at the top, is
    reminded, and has longer each time before the next reminder."""
    if manager_email.lower() != escalation.manager_email.lower():
        return raise_to(
            escalation,
            level=level,
            manager_email=manager_email,
            at=at,
            decision_time=policy.decision_time,
        )
    reminders = escalation.reminders + 1
    reminded = raise_to(
        escalation,
        level=level,
        manager_email=escalation.manager_email,
        at=at,
        decision_time=reminder_interval(policy, reminders),
    )
    return replace(reminded, reminders=reminders)


def needs_raising(escalation: Escalation, at: datetime) -> bool:
    """Open or delegated past its decision time (a real decision stops the clock)."""
    return escalation.state in (State.OPEN, State.DELEGATED) and at >= escalation.decide_by


def resolved_by_decision(escalation: Escalation) -> bool:
    """The decision itself settles the matter (a refund decided is a refund confirmed)."""
    return escalation.state is State.DECIDED and escalation.decided_option in SELF_RESOLVING


def refund_amount(escalation: Escalation) -> Decimal | None:
    """The refund the options suggested, if any."""
    refund = next((o.refund for o in escalation.options if o.kind is OptionKind.REFUND), None)
    return refund.amount if refund else None


def resolve(escalation: Escalation) -> Escalation:
    """The cause is gone."""
    return replace(escalation, state=State.RESOLVED)
