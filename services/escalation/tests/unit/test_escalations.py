from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from keepword_escalation import escalations
from keepword_escalation.escalations import DecisionRefused, State
from keepword_events import Customer, EscalationRule, Money, OptionKind, PreferredChannel

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DANA = Customer(
    email="dana@example.com",
    name="Dana",
    phone="+1 555 0100",
    preferred_channel=PreferredChannel.PHONE,
)


def opened(**changes: object) -> escalations.Escalation:
    options = escalations.options_for(
        DANA,
        deposit=Money(amount=Decimal("1500.00"), currency="USD"),
        feasible_due_at=T0 + 60 * 24 * HOUR,
        owner=None,
    )
    return escalations.open_escalation(
        escalation_id="esc-1",
        thread_id="thr-1",
        rule=EscalationRule.PROMISE_GAP,
        manager_email="morgan@b.example",
        reason="r",
        at=T0,
        decision_time=4 * HOUR,
        options=options,
        evidence=(),
    )


def test_options_are_concrete_and_a_phone_person_gets_the_call_first() -> None:
    kinds = [o.kind for o in opened().options]
    assert kinds == [
        OptionKind.PHONE_CALL,
        OptionKind.REFUND,
        OptionKind.RENEGOTIATE,
        OptionKind.REASSIGN,
        OptionKind.HANDLE_IT,
    ]
    refund = opened().options[1]
    assert refund.refund is not None
    assert refund.summary == "Refund the deposit of 1500.00 USD"
    assert opened().options[0].phone == "+1 555 0100"


def test_handle_it_keeps_the_clock_running_and_a_real_decision_stops_it() -> None:
    delegated = escalations.decide(
        opened(),
        option=OptionKind.HANDLE_IT,
        by="morgan@b.example",
        at=T0 + HOUR,
        decision_time=4 * HOUR,
    )
    assert delegated.state is State.DELEGATED
    assert escalations.needs_raising(delegated, T0 + 5 * HOUR)
    assert not escalations.needs_raising(delegated, T0 + 4 * HOUR)
    decided = escalations.decide(
        delegated,
        option=OptionKind.PHONE_CALL,
        by="morgan@b.example",
        at=T0 + 2 * HOUR,
        decision_time=4 * HOUR,
    )
    assert decided.state is State.DECIDED
    assert not escalations.needs_raising(decided, T0 + 100 * HOUR)


def test_raising_asks_the_next_level_anew() -> None:
    raised = escalations.raise_to(
        opened(),
        level=2,
        manager_email="drew@b.example",
        at=T0 + 4 * HOUR,
        decision_time=4 * HOUR,
    )
    assert (raised.level, raised.manager_email, raised.state) == (2, "drew@b.example", State.OPEN)
    assert raised.decide_by == T0 + 8 * HOUR


def test_a_refund_decision_settles_it_and_names_the_amount() -> None:
    decided = escalations.decide(
        opened(), option=OptionKind.REFUND, by="m", at=T0, decision_time=HOUR
    )
    assert escalations.resolved_by_decision(decided)
    assert escalations.refund_amount(decided) == Decimal("1500.00")


def test_decisions_on_resolved_escalations_or_unknown_options_are_refused() -> None:
    with pytest.raises(DecisionRefused, match="already resolved"):
        escalations.decide(
            escalations.resolve(opened()),
            option=OptionKind.REFUND,
            by="m",
            at=T0,
            decision_time=HOUR,
        )
    bare = escalations.open_escalation(
        escalation_id="esc-2",
        thread_id="t",
        rule=EscalationRule.STALLED,
        manager_email="m",
        reason="r",
        at=T0,
        decision_time=HOUR,
        options=(),
        evidence=(),
    )
    with pytest.raises(DecisionRefused, match="not an option"):
        escalations.decide(bare, option=OptionKind.REFUND, by="m", at=T0, decision_time=HOUR)
