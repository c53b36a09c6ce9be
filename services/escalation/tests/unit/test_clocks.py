from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from keepword_escalation import clocks
from keepword_escalation.clocks import ReplySla
from keepword_events import Customer, Money, PreferredChannel

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SLA = ReplySla(first_reply=timedelta(hours=24), next_reply=timedelta(hours=4), warn_fraction=0.75)
DANA = Customer(email="dana@example.com", name="Dana")


def plain(start: datetime, span: timedelta) -> datetime:
    return start + span


def wrote(clock: clocks.ThreadClock | None, at: datetime, **extra: object) -> clocks.ThreadClock:
    return clocks.customer_wrote(
        clock,
        thread_id="thr-1",
        customer=extra.get("customer", DANA),  # type: ignore[arg-type]
        deposit=extra.get("deposit"),  # type: ignore[arg-type]
        at=at,
        sla=SLA,
        due_in=plain,
    )


def test_first_contact_starts_the_first_reply_clock() -> None:
    clock = wrote(None, T0)
    assert (clock.unanswered, clock.waiting_since) == (1, T0)
    assert clock.reply_due_at == T0 + timedelta(hours=24)
    assert clock.warn_at == T0 + timedelta(hours=18)


def test_follow_ups_count_but_do_not_move_the_deadline() -> None:
    clock = wrote(wrote(None, T0), T0 + timedelta(hours=2))
    assert clock.unanswered == 2
    assert clock.reply_due_at == T0 + timedelta(hours=24)


def test_after_a_reply_the_next_message_gets_the_next_reply_time() -> None:
    answered = clocks.person_replied(wrote(None, T0), at=T0 + timedelta(hours=1))
    assert not answered.waiting
    again = wrote(answered, T0 + timedelta(hours=5))
    assert again.reply_due_at == T0 + timedelta(hours=9)


def test_a_paid_deposit_tolerates_one_follow_up_less() -> None:
    two = wrote(wrote(None, T0), T0)
    assert not clocks.too_many_follow_ups(two, 2)
    deposit = Money(amount=Decimal("100"), currency="USD")
    paid = wrote(wrote(None, T0, deposit=deposit), T0)
    assert clocks.too_many_follow_ups(paid, 2)
    assert clocks.too_many_follow_ups(wrote(two, T0), 2)


def test_what_we_know_of_the_customer_only_grows() -> None:
    first = wrote(
        None,
        T0,
        customer=Customer(
            email="dana@example.com", phone="+1 555 0100", preferred_channel=PreferredChannel.PHONE
        ),
    )
    later = wrote(first, T0, customer=Customer(email="dana@example.com", name="Dana W."))
    assert later.customer.phone == "+1 555 0100"
    assert later.customer.name == "Dana W."
    assert later.customer.preferred_channel is PreferredChannel.PHONE
