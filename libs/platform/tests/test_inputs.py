"""A consuming service's table of inputs: topics, `wants` and dispatch all come from it."""

from __future__ import annotations

from typing import Any, cast

import pytest
from keepword_events import (
    CommitmentCancelled,
    CommitmentFulfilled,
    Envelope,
    EscalationOpened,
    Event,
    MessageReceived,
    Person,
    ReplySent,
    Role,
    new_envelope,
    topics,
)
from keepword_platform.database import Connection
from keepword_platform.messaging.consumer import Caused
from keepword_platform.messaging.inputs import Inputs, on

CONN = cast(Connection, object())  # the steps below never touch it
STAFF = Person(email="pat@brightline.example", role=Role.SERVICE)


class Desk:
    """A handler object that notes what each step saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def cancelled(self, conn: Connection, event: Envelope[CommitmentCancelled]) -> Caused:
        assert conn is CONN
        self.seen.append(("cancelled", event.data.reason))
        return [event.data]

    async def anything(self, conn: Connection, event: Envelope[Event]) -> Caused:
        self.seen.append(("anything", event.type))
        return []


INPUTS: Inputs[Desk] = Inputs(
    on(CommitmentCancelled, Desk.cancelled),
    on(MessageReceived, Desk.anything),
    on(ReplySent, Desk.anything),
    on(EscalationOpened, Desk.anything),
)


def _cancelled(reason: str = "refunded") -> Envelope[CommitmentCancelled]:
    event = CommitmentCancelled(
        thread_id="thr-1",
        correlation_id="thr-1",
        commitment_id="cmt-1",
        cancelled_by=STAFF,
        reason=reason,
    )
    return new_envelope(event, source="/keepword/test")


def _fulfilled() -> Envelope[CommitmentFulfilled]:
    event = CommitmentFulfilled(
        thread_id="thr-1",
        correlation_id="thr-1",
        commitment_id="cmt-1",
        reported_by=STAFF,
        kept=True,
    )
    return new_envelope(event, source="/keepword/test")


def test_the_topics_are_those_of_the_events_in_the_order_they_first_appear() -> None:
    assert INPUTS.topics == (topics.COMMITMENT_REQUESTS, topics.MESSAGES, topics.ESCALATIONS)


def test_the_service_wants_exactly_the_events_of_the_table() -> None:
    assert INPUTS.wants(_cancelled())
    assert not INPUTS.wants(_fulfilled())  # same topic, not in the table: no inbox row


async def test_an_event_goes_to_its_step_with_the_target_and_what_it_causes_comes_back() -> None:
    desk = Desk()
    caused = await INPUTS.handle(desk, CONN, _cancelled("customer refunded"))
    assert desk.seen == [("cancelled", "customer refunded")]
    assert [type(event) for event in caused] == [CommitmentCancelled]


async def test_an_event_not_in_the_table_causes_nothing_and_reaches_no_step() -> None:
    desk = Desk()
    assert await INPUTS.handle(desk, CONN, _fulfilled()) == []
    assert desk.seen == []


async def test_the_consumer_handler_is_the_table_bound_to_one_target() -> None:
    desk = Desk()
    handler = INPUTS.handler(desk)
    await handler(CONN, _cancelled("first"))
    await handler(CONN, _fulfilled())
    await handler(CONN, _cancelled("second"))
    assert desk.seen == [("cancelled", "first"), ("cancelled", "second")]


def test_an_event_type_with_two_steps_is_refused() -> None:
    with pytest.raises(ValueError, match="CommitmentCancelled has two steps"):
        Inputs[Desk](
            on(CommitmentCancelled, Desk.cancelled), on(CommitmentCancelled, Desk.anything)
        )


def test_a_subclass_of_an_event_in_the_table_goes_to_its_step() -> None:
    class LaterCancelled(CommitmentCancelled):
        pass

    data: Any = _cancelled().data.model_dump()
    later = new_envelope(LaterCancelled(**data), source="/keepword/test")
    assert INPUTS.wants(later)
    assert INPUTS.step_for(later.data) is Desk.cancelled
