"""The one way to assemble a consuming service: what the spec says becomes the app's wiring."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from fastapi import APIRouter
from faststream.kafka.subscriber.usecase import LogicSubscriber
from keepword_events import CommitmentCancelled, Envelope, EscalationOpened, Event, topics
from keepword_platform.consuming import ConsumingService
from keepword_platform.database import Connection
from keepword_platform.messaging.consumer import Caused
from keepword_platform.messaging.inputs import Inputs, on
from keepword_platform.messaging.timers import Timer
from keepword_platform.service import Runtime, check_names
from keepword_platform.settings import ServiceSettings
from pydantic import Field


class DeskSettings(ServiceSettings):
    http_port: int = Field(default=8099, validation_alias="KEEPWORD_DESK_PORT")


class Desk:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def on_event(self, conn: Connection, event: Envelope[Event]) -> Caused:
        return []

    async def on_timer(self, conn: Connection, timer: Timer) -> Caused:
        return []

    async def on_timers(self, conn: Connection, due: Sequence[Timer]) -> Caused:
        return []


INPUTS: Inputs[Desk] = Inputs(
    on(EscalationOpened, Desk.on_event), on(CommitmentCancelled, Desk.on_event)
)
built: list[Desk] = []


def _desk(runtime: Runtime, settings: DeskSettings) -> Desk:
    desk = Desk(runtime)
    runtime.extras["desk"] = desk  # what routes would read
    built.append(desk)
    return desk


SPEC = ConsumingService(
    name="desk",
    schema="desk",
    settings=DeskSettings,
    inputs=INPUTS,
    handler=_desk,
    on_timer=Desk.on_timer,
    migrations="keepword_desk",
    routers=(APIRouter(),),
    title="Keepword desk",
    description="A service of the tests.",
    summary="Reads escalations and cancellations.",
    consumes="Escalations and cancellations.",
)


def test_the_subscription_reads_the_topics_of_the_inputs_in_one_consumer_group() -> None:
    _app, broker = SPEC.wire(DeskSettings(consumers_per_process=1))
    [subscriber] = broker.subscribers
    assert isinstance(subscriber, LogicSubscriber)
    assert subscriber.topic_names == [topics.ESCALATIONS, topics.COMMITMENT_REQUESTS]
    assert getattr(subscriber, "group_id", None) == "keepword-desk"
    assert SPEC.topics == (topics.ESCALATIONS, topics.COMMITMENT_REQUESTS)


def test_a_process_runs_several_members_of_the_group_and_documents_one() -> None:
    assert DeskSettings().consumers_per_process == 1
    _app, broker = SPEC.wire(DeskSettings(consumers_per_process=3))
    members = list(broker.subscribers)
    assert len(members) == 3
    assert {getattr(member, "group_id", None) for member in members} == {"keepword-desk"}
    assert sorted(m.specification.include_in_schema for m in members) == [False, False, True]
    # Each member is fed by its own EventConsumer: its own record of the input in hand.
    for member in members:
        assert isinstance(member, LogicSubscriber)
        assert member.topic_names == [topics.ESCALATIONS, topics.COMMITMENT_REQUESTS]
        # Range alone: a member holds the same partition numbers of every topic it reads (and
        # a second assignor sets aiokafka's members rebalancing each other without end).
        strategy = member._connection_args["partition_assignment_strategy"]
        assert strategy == (RangePartitionAssignor,)


def test_the_health_checks_name_each_member() -> None:
    assert check_names(0) == []  # intake consumes nothing
    assert check_names(1) == ["consumer"]
    assert check_names(3) == ["consumer", "consumer 2", "consumer 3"]


def test_the_handler_is_built_once_with_the_runtime_the_app_fills_in() -> None:
    built.clear()
    app, _broker = SPEC.wire(DeskSettings())
    runtime: Runtime = app.state.runtime
    assert built == [runtime.extras["desk"]]
    assert built[0].runtime is runtime
    assert runtime.settings.http_port == 8099  # type: ignore[attr-defined]


def test_the_schema_is_built_by_the_messaging_tables_then_the_service_s_own() -> None:
    assert SPEC.migrations_packages == ("keepword_platform.messaging", "keepword_desk")
    assert SPEC.source == "/keepword/desk"


def test_a_spec_with_both_kinds_of_timer_step_is_refused() -> None:
    both = ConsumingService(
        name="desk",
        schema="desk",
        settings=DeskSettings,
        inputs=INPUTS,
        handler=_desk,
        on_timer=Desk.on_timer,
        on_timers=Desk.on_timers,
        migrations="keepword_desk",
        title="",
        description="",
        summary="",
        consumes="",
    )
    with pytest.raises(ValueError, match="at most one of on_timer and on_timers"):
        both.wire(DeskSettings())
