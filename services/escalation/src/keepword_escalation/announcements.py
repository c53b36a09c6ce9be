"""The events escalation publishes, built from what its rules decided. Pure."""

from __future__ import annotations

from keepword_events import (
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    EscalationRule,
    EscalationWarned,
    Event,
    OptionKind,
    Person,
    PromiseInQuestion,
)

from . import escalations
from .clocks import ThreadClock
from .escalations import Escalation
from .rules import Opening, Raise, Warning, person


def warned(warning: Warning) -> Event:
    """A reply soon due."""
    clock = warning.clock
    return EscalationWarned(
        thread_id=clock.thread_id,
        correlation_id=clock.thread_id,
        escalation_id=warning.escalation_id,
        rule=EscalationRule.STALLED,
        level=1,
        reason=f"The {warning.kind} reply to the customer is due at "
        f"{warning.due_at:%Y-%m-%d %H:%M:%S} UTC.",
        due_at=warning.due_at,
    )


def opened(opening: Opening, manager: Person) -> Event:
    """An escalation opened to the first manager of the chain."""
    escalation, clock = opening.escalation, opening.ask.clock
    return EscalationOpened(
        thread_id=clock.thread_id,
        correlation_id=clock.thread_id,
        causation_id=opening.ask.causation_id,
        escalation_id=escalation.escalation_id,
        rule=escalation.rule,
        level=1,
        manager=manager,
        customer=clock.customer,
        reason=escalation.reason,
        evidence=escalation.evidence,
        options=escalation.options,
        decide_by=escalation.decide_by,
        unanswered_messages=clock.unanswered,
        deposit=clock.deposit,
        promise=opening.promise,
        customer_comment=opening.ask.comment,
    )


def raised(raise_: Raise, clock: ThreadClock | None, promise: PromiseInQuestion | None) -> Event:
    """An escalation asked of the next level, or of the top of the chain again."""
    now = raise_.escalation
    return EscalationRaised(
        thread_id=now.thread_id,
        correlation_id=now.thread_id,
        escalation_id=now.escalation_id,
        rule=now.rule,
        level=now.level,
        manager=person(raise_.manager),
        previous_manager=person(raise_.previous) if raise_.previous else None,
        reason=raise_.reason,
        decide_by=now.decide_by,
        reminder=now.reminders,
        customer=clock.customer if clock else None,
        evidence=now.evidence,
        options=now.options,
        unanswered_messages=clock.unanswered if clock else 0,
        deposit=clock.deposit if clock else None,
        promise=promise,
    )


def decided(
    escalation: Escalation, by: Person, note: str | None, causation_id: str | None
) -> Event:
    """A manager's decision ("handle it" included)."""
    return EscalationDecided(
        thread_id=escalation.thread_id,
        correlation_id=escalation.thread_id,
        causation_id=causation_id,
        escalation_id=escalation.escalation_id,
        rule=escalation.rule,
        level=escalation.level,
        option=escalation.decided_option or OptionKind.HANDLE_IT,
        decided_by=by,
        note=note,
        refund_amount=escalations.refund_amount(escalation)
        if escalation.decided_option is OptionKind.REFUND
        else None,
    )


def resolved(escalation: Escalation, resolution: str, causation_id: str | None) -> Event:
    """The cause is gone."""
    return EscalationResolved(
        thread_id=escalation.thread_id,
        correlation_id=escalation.thread_id,
        causation_id=causation_id,
        escalation_id=escalation.escalation_id,
        rule=escalation.rule,
        level=escalation.level,
        resolution=resolution,
    )
