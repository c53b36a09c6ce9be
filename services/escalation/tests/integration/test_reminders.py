"""Nobody at the top of the chain decides: through the real broker and database, the top is
reminded less often each time instead of once per decision time (SLAs in seconds)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from keepword_escalation.escalations import ReminderPolicy, reminder_interval
from keepword_events import (
    Channel,
    Customer,
    Envelope,
    EscalationOpened,
    EscalationRaised,
    Event,
    MessageReceived,
    Person,
    Role,
    decode,
    topics,
)

from .conftest import FAST_SLA, Escalation

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

DECISION = timedelta(seconds=1)
LONGEST = timedelta(seconds=4)
MORGAN = "morgan.lead@brightline.example"
DREW = "drew.director@brightline.example"  # the top of the chain


@pytest.fixture
def company_toml() -> str:
    return FAST_SLA.replace(
        'manager_decision = "3s"', 'manager_decision = "1s"\nmanager_reminder_max = "4s"'
    )


def customer_message(thread: str) -> MessageReceived:
    now = datetime.now(UTC)
    return MessageReceived(
        thread_id=thread,
        correlation_id=thread,
        message_id=f"msg-{uuid.uuid4().hex}",
        channel=Channel.EMAIL,
        customer=Customer(email="dana@example.com", name="Dana Whitfield"),
        author=Person(email="dana@example.com", name="Dana Whitfield", role=Role.CUSTOMER),
        subject="My report",
        body="Hello, where is my report?",
        sent_at=now,
        received_at=now,
    )


async def envelopes(escalation: Escalation, thread: str) -> list[Envelope[Event]]:
    return [
        decode(r.value, r.headers)
        for r in await escalation.probe.records()
        if r.topic == topics.ESCALATIONS and r.key == thread.encode()
    ]


def planned_asks(first_at: datetime, until: datetime) -> int:
    """How many times the rule asks (the raise, then the reminders) from `first_at` to `until`
    when every deadline fires on time; late firing only pushes the later ones back."""
    policy = ReminderPolicy(decision_time=DECISION, longest=LONGEST)
    at, asks = first_at, 0
    while at <= until:
        at += reminder_interval(policy, asks)
        asks += 1
    return asks


async def test_the_top_of_the_chain_is_reminded_less_often_each_time(
    escalation: Escalation,
) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    await escalation.send(customer_message(thread))

    def reminded_four_times(events: list[Event]) -> bool:
        return sum(isinstance(e, EscalationRaised) for e in events) >= 5

    await escalation.wait_for(thread, reminded_four_times, within=90)
    seen = await envelopes(escalation, thread)
    opened = next(e.data for e in seen if isinstance(e.data, EscalationOpened))
    asked = [e for e in seen if isinstance(e.data, EscalationRaised)]
    raised = [e.data for e in asked if isinstance(e.data, EscalationRaised)]

    # Raised once to Drew, then reminders numbered 1, 2, 3 ... all to Drew; the raise names
    # Morgan as asked before, a reminder names Drew himself (the email words it as a reminder).
    assert [r.reminder for r in raised] == list(range(len(raised)))
    assert {(r.level, str(r.manager.email)) for r in raised} == {(2, DREW)}
    previous = [str(r.previous_manager.email) if r.previous_manager else None for r in raised]
    assert previous == [MORGAN] + [DREW] * (len(raised) - 1)
    assert raised[1].reason.startswith("Reminder 1:")
    assert "Top of the chain" in raised[1].reason
    # Each deadline is at least twice the one before, up to the longest: once per decision
    # time, they would be one second apart.
    gaps = [later.decide_by - earlier.decide_by for earlier, later in pairwise(raised)]
    wanted = [min(DECISION * 2 ** (n + 1), LONGEST) for n in range(len(gaps))]
    assert all(gap >= least for gap, least in zip(gaps, wanted, strict=True)), gaps
    # Counted over the time it took: no more asks than the back-off plans, far fewer than one
    # per decision time.
    until = asked[-1].time
    assert len(raised) <= planned_asks(opened.decide_by, until)
    assert len(raised) < (until - opened.decide_by) / DECISION

    timeline = (await escalation.http.get(f"/v1/threads/{thread}")).json()["timeline"]
    lines = [line["what"] for line in timeline]
    assert sum(line.startswith(f"Raised to {DREW}") for line in lines) == 1
    assert sum(line.startswith(f"Reminded {DREW}: Reminder ") for line in lines) >= 4
