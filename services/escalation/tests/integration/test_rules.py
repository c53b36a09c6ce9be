"""Each rule firing on a realistic thread (SLAs in seconds), and not firing when staff answered
in time; "handle it" raised to level 2; a real decision stops the clock."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from keepword_events import (
    Channel,
    CommitmentKind,
    CommitmentSource,
    CommitmentStatus,
    CommitmentStatusChanged,
    Customer,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    EscalationRule,
    EscalationWarned,
    Event,
    MessageReceived,
    Money,
    OptionKind,
    Person,
    PreferredChannel,
    ReplySent,
    Role,
)

from .conftest import Escalation

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

DANA = Customer(email="dana@example.com", name="Dana Whitfield", phone="+1 555 0100")
CUSTOMER = Person(email="dana@example.com", name="Dana Whitfield", role=Role.CUSTOMER)
CASEY = Person(email="casey.service@brightline.example", name="Casey Brooks", role=Role.SERVICE)
MORGAN = Person(email="morgan.lead@brightline.example", name="Morgan Reyes", role=Role.MANAGEMENT)


def thread() -> str:
    return f"thr-{uuid.uuid4().hex[:16]}"


def customer_message(
    t: str, body: str = "Hello, where is my report?", **extra: Any
) -> MessageReceived:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "thread_id": t,
        "correlation_id": t,
        "message_id": f"msg-{uuid.uuid4().hex}",
        "channel": Channel.EMAIL,
        "customer": DANA,
        "author": CUSTOMER,
        "subject": "My report",
        "body": body,
        "sent_at": now,
        "received_at": now,
    }
    return MessageReceived(**(fields | extra))


def reply(t: str, author: Person = CASEY, body: str = "Here it is.", **extra: Any) -> ReplySent:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "thread_id": t,
        "correlation_id": t,
        "message_id": f"msg-{uuid.uuid4().hex}",
        "channel": Channel.EMAIL,
        "customer": DANA,
        "author": author,
        "body": body,
        "sent_at": now,
        "received_at": now,
    }
    return ReplySent(**(fields | extra))


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


async def test_a_stalled_thread_warns_then_opens_an_escalation(escalation: Escalation) -> None:
    t = thread()
    await escalation.send(customer_message(t))

    events = await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))

    warned, opened = events[0], events[1]
    assert isinstance(warned, EscalationWarned)
    assert isinstance(opened, EscalationOpened)
    assert opened.escalation_id == warned.escalation_id
    assert opened.rule is EscalationRule.STALLED
    assert (opened.level, opened.manager.email) == (1, "morgan.lead@brightline.example")
    assert "first reply" in opened.reason
    assert [o.kind for o in opened.options][:2] == [OptionKind.REFUND, OptionKind.PHONE_CALL]
    assert any("Customer wrote" in item.what for item in opened.evidence)


async def test_no_escalation_when_staff_answered_in_time(escalation: Escalation) -> None:
    t = thread()
    await escalation.send(customer_message(t))
    await asyncio.sleep(1)
    await escalation.send(reply(t))
    await asyncio.sleep(6)  # past the 4 s deadline

    assert await escalation.said(t) == []
    view = (await escalation.http.get(f"/v1/threads/{t}")).json()
    assert view["unanswered"] == 0
    assert view["escalations"] == []


async def test_repeated_contact_weighs_a_paid_deposit(escalation: Escalation) -> None:
    t = thread()
    deposit = Money(amount=Decimal("1500.00"), currency="USD")
    await escalation.send(customer_message(t, deposit=deposit))
    await escalation.send(customer_message(t, body="Any news?"))

    events = await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))

    opened = next(e for e in events if isinstance(e, EscalationOpened))
    assert opened.rule is EscalationRule.REPEATED_CONTACT
    assert opened.unanswered_messages == 2
    assert opened.deposit == deposit
    refund = next(o for o in opened.options if o.kind is OptionKind.REFUND)
    assert refund.refund == deposit


async def test_a_promise_gap_offers_productions_terms(escalation: Escalation) -> None:
    t = thread()
    feasible = datetime.now(UTC) + timedelta(days=60)
    await escalation.send(customer_message(t, body="When will I be on page one?"))
    await escalation.send(reply(t, body="We guarantee first-page rankings in 30 days."))
    await escalation.send(
        CommitmentStatusChanged(
            thread_id=t,
            correlation_id=t,
            commitment_id=f"cmt-{t}",
            status=CommitmentStatus.COUNTERED,
            previous_status=CommitmentStatus.AWAITING_CONFIRMATION,
            kind=CommitmentKind.OUTCOME,
            text="Guaranteed first-page rankings in 30 days",
            made_by=CASEY,
            customer=DANA,
            due_at=datetime.now(UTC) + timedelta(days=30),
            feasible_due_at=feasible,
            production_note="Page two in 60 days is feasible.",
            source=CommitmentSource(kind="extracted"),
            reason="production countered",
            changed_at=datetime.now(UTC),
        )
    )

    events = await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))

    opened = next(e for e in events if isinstance(e, EscalationOpened))
    assert opened.rule is EscalationRule.PROMISE_GAP
    renegotiate = next(o for o in opened.options if o.kind is OptionKind.RENEGOTIATE)
    assert renegotiate.feasible_due_at == feasible
    assert "Page two in 60 days" in opened.reason
    # the email's reader may see this event before the ledger's: it carries the promise
    assert opened.promise is not None
    assert opened.promise.text == "Guaranteed first-page rankings in 30 days"
    assert opened.promise.production_note == "Page two in 60 days is feasible."


async def test_only_a_reply_sent_after_the_cause_settles_it(escalation: Escalation) -> None:
    # Topics are not ordered among themselves: a reply can be read after the promise broke
    # although it was sent before. It answered something else, not the broken promise.
    t = thread()
    broke_at = datetime.now(UTC)
    await escalation.send(
        CommitmentStatusChanged(
            thread_id=t,
            correlation_id=t,
            commitment_id=f"cmt-{t}",
            status=CommitmentStatus.REJECTED,
            previous_status=CommitmentStatus.AWAITING_CONFIRMATION,
            kind=CommitmentKind.DELIVERY,
            text="Delivery within a week",
            made_by=CASEY,
            customer=DANA,
            due_at=broke_at + timedelta(days=7),
            source=CommitmentSource(kind="declared"),
            reason="production rejected",
            changed_at=broke_at,
        )
    )
    await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))

    earlier = broke_at - timedelta(seconds=30)
    await escalation.send(reply(t, sent_at=earlier, received_at=earlier))
    await escalation.send(reply(t, body="The delivery moves; here is what we will do."))

    events = await escalation.wait_for(
        t, lambda e: any(isinstance(x, EscalationResolved) for x in e)
    )
    assert kinds(events) == ["EscalationOpened", "EscalationResolved"]
    resolved = events[1]
    assert isinstance(resolved, EscalationResolved)
    assert resolved.causation_id is not None
    timeline = (await escalation.http.get(f"/v1/threads/{t}")).json()["timeline"]
    replies = [line["what"] for line in timeline if "replied to the customer" in line["what"]]
    # both replies are in the story; only the later one resolved
    assert replies == [
        "Casey Brooks replied to the customer",
        "Casey Brooks replied to the customer",
        "Resolved: Casey Brooks replied to the customer",
    ]


async def test_handle_it_is_raised_to_level_two_and_a_decision_stops_it(
    escalation: Escalation,
) -> None:
    t = thread()
    await escalation.send(customer_message(t))
    events = await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))
    opened = next(e for e in events if isinstance(e, EscalationOpened))

    internal = Customer()  # the manager answers the escalation email, not the customer
    await escalation.send(reply(t, author=MORGAN, body="Handle it.", customer=internal))
    events = await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationRaised) for x in e))

    delegated = next(e for e in events if isinstance(e, EscalationDecided))
    raised = next(e for e in events if isinstance(e, EscalationRaised))
    assert delegated.option is OptionKind.HANDLE_IT
    assert (raised.escalation_id, raised.level) == (opened.escalation_id, 2)
    assert raised.manager.email == "drew.director@brightline.example"
    assert raised.previous_manager is not None
    assert "handle it" in raised.reason

    runtime = escalation.app.state.runtime
    watch = runtime.extras["watch"]
    director = Person(email="drew.director@brightline.example", role=Role.MANAGEMENT)
    async with runtime.db.acquire() as conn, conn.transaction():
        from keepword_platform.messaging import store
        from keepword_platform.messaging.consumer import outgoing

        caused = await watch.decide(conn, opened.escalation_id, OptionKind.REFUND, director, None)
        await store.enqueue(conn, "escalation", [outgoing(e, "/test") for e in caused])
    events = await escalation.wait_for(
        t, lambda e: any(isinstance(x, EscalationResolved) for x in e)
    )
    await asyncio.sleep(4)  # past another decision time: nothing more may happen
    after = await escalation.said(t)

    assert kinds(after[-2:]) == ["EscalationDecided", "EscalationResolved"]
    assert kinds(after).count("EscalationRaised") == 1


async def test_a_difficult_conversation_recommends_a_call_and_a_call_settles_it(
    escalation: Escalation,
) -> None:
    t = thread()
    angry = customer_message(
        t,
        body="This is unacceptable. I want my money back or I will talk to my lawyer.",
        customer=Customer(
            email="dana@example.com", phone="+1 555 0100", preferred_channel=PreferredChannel.PHONE
        ),
    )
    await escalation.send(angry)
    events = await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))
    opened = next(e for e in events if isinstance(e, EscalationOpened))
    assert opened.rule is EscalationRule.DIFFICULT_CONVERSATION
    assert opened.options[0].kind is OptionKind.PHONE_CALL
    assert "call rather than email" in opened.reason

    await escalation.send(reply(t, body="Reply by email."))
    await asyncio.sleep(1)
    assert not any(isinstance(e, EscalationResolved) for e in await escalation.said(t))

    await escalation.send(reply(t, body="Called Dana, agreed a refund.", channel=Channel.PHONE))
    events = await escalation.wait_for(
        t, lambda e: any(isinstance(x, EscalationResolved) for x in e)
    )
    assert (
        "called the customer"
        in next(e for e in events if isinstance(e, EscalationResolved)).resolution
    )


async def test_unverified_mail_settles_nothing_and_decides_nothing(escalation: Escalation) -> None:
    t = thread()
    await escalation.send(customer_message(t))
    events = await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))
    opened = next(e for e in events if isinstance(e, EscalationOpened))

    # Mail claiming the manager's and the service person's addresses without proof.
    internal = Customer()
    await escalation.send(
        reply(t, author=MORGAN, body="Handle it.", customer=internal, sender_verified=False)
    )
    await escalation.send(reply(t, body="Sorted, refund sent.", sender_verified=False))
    await escalation.send(reply(t, body="Here is your report."))  # the proven reply, last
    events = await escalation.wait_for(
        t, lambda e: any(isinstance(x, EscalationResolved) for x in e)
    )

    assert not any(isinstance(e, EscalationDecided | EscalationRaised) for e in events)
    resolved = next(e for e in events if isinstance(e, EscalationResolved))
    assert resolved.escalation_id == opened.escalation_id
    view = (await escalation.http.get(f"/v1/threads/{t}")).json()
    lines = [str(item) for item in view.get("timeline", [])]
    assert sum("Unverified mail claiming to be from" in line for line in lines) == 2
