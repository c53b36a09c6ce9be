"""Feedback against the real broker and database: the customer of an answered, quiet thread is
asked once; a resolution asks at once; a low rating opens an unhappy-customer escalation with
the comment, and a changed, good rating withdraws it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from keepword_events import (
    CustomerRated,
    EscalationOpened,
    EscalationResolved,
    EscalationRule,
    FeedbackOccasion,
    FeedbackRequested,
)

from .conftest import FAST_SLA, Escalation
from .test_rules import DANA, customer_message, kinds, reply, thread

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def company_toml() -> str:
    return FAST_SLA + '\n[feedback]\nenabled = true\nask_after = "2s"\n'


def rating(t: str, value: int, comment: str | None = None, revision: int = 1) -> CustomerRated:
    return CustomerRated(
        thread_id=t,
        correlation_id=t,
        rating=value,
        comment=comment,
        rated_at=datetime.now(UTC),
        revision=revision,
    )


def asks(events: object) -> list[FeedbackRequested]:
    assert isinstance(events, list)
    return [e for e in events if isinstance(e, FeedbackRequested)]


async def test_an_answered_quiet_thread_is_asked_once(escalation: Escalation) -> None:
    t = thread()
    await escalation.send(customer_message(t))
    await escalation.send(reply(t))

    events = await escalation.wait_for(t, lambda e: bool(asks(e)))
    await escalation.send(reply(t, body="One more thing."))  # quiet again: no second ask
    await asyncio.sleep(4)

    events = await escalation.said(t)
    assert kinds(events) == ["FeedbackRequested"]
    asked = asks(events)[0]
    assert (asked.occasion, asked.customer) == (FeedbackOccasion.ANSWERED, DANA)


async def test_a_resolved_escalation_asks_at_once(escalation: Escalation) -> None:
    t = thread()
    await escalation.send(customer_message(t))
    await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))
    await escalation.send(reply(t, body="Sorry for the wait: here it is."))

    events = await escalation.wait_for(t, lambda e: bool(asks(e)))

    assert kinds(events)[-2:] == ["EscalationResolved", "FeedbackRequested"]
    assert asks(events)[0].occasion is FeedbackOccasion.RESOLVED


async def test_a_low_rating_escalates_and_a_better_one_withdraws_it(
    escalation: Escalation,
) -> None:
    t = thread()
    await escalation.send(customer_message(t))
    await escalation.send(reply(t))
    await escalation.wait_for(t, lambda e: bool(asks(e)))
    await escalation.send(rating(t, 1, "You promised a call and nobody rang."))

    events = await escalation.wait_for(t, lambda e: any(isinstance(x, EscalationOpened) for x in e))
    opened = next(e for e in events if isinstance(e, EscalationOpened))
    assert opened.rule is EscalationRule.UNHAPPY_CUSTOMER
    assert opened.customer_comment == "You promised a call and nobody rang."
    assert "rated how well we kept our word 1 out of 5" in opened.reason
    assert any(item.what.startswith("Customer rated us 1 of 5") for item in opened.evidence)

    await escalation.send(rating(t, 1, revision=1))  # a stale revision read late: nothing
    await escalation.send(rating(t, 4, revision=2))
    events = await escalation.wait_for(
        t, lambda e: any(isinstance(x, EscalationResolved) for x in e)
    )
    resolved = next(e for e in events if isinstance(e, EscalationResolved))
    assert resolved.escalation_id == opened.escalation_id
    assert "changed their rating to 4" in resolved.resolution
    assert kinds(events) == ["FeedbackRequested", "EscalationOpened", "EscalationResolved"]
