"""Wiring an EventConsumer and an OutboxRelay into a service's FastStream broker."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Union

import structlog
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from keepword_events import Envelope, Event, models_on_topic
from pydantic import SkipValidation

from keepword_platform.database import Connection
from keepword_platform.health.consumer_monitor import activity_of
from keepword_platform.kafka_security import kafka_client_options
from keepword_platform.messaging import store
from keepword_platform.messaging.consumer import EventConsumer, outgoing
from keepword_platform.messaging.relay import OutboxRelay
from keepword_platform.messaging.timers import (
    Ahead,
    BatchTimerHandler,
    TimerHandler,
    TimerHealth,
    one_by_one,
    run_timers,
)
from keepword_platform.producer import FailFastProducer
from keepword_platform.service import Extension, Runtime

log = structlog.get_logger(__name__)


def subscribe(
    broker: KafkaBroker,
    consumer: EventConsumer,
    topics: Sequence[str],
    *,
    max_records: int = 500,
    description: str = "",
    documented: bool = True,
) -> Any:
    """Feed batches of `topics` to `consumer`, acknowledging each batch once it is committed.

    NACK_ON_ERROR: when `handle_batch` raises (database unavailable), FastStream seeks back and
    the batch comes again; nothing is acknowledged that was not committed. `earliest`: a new
    consumer group starts from the beginning of the topics rather than skipping what is there.
    The range assignor gives each member the same partition numbers of every topic, so the
    events of one thread (co-partitioned by key) reach one member whatever the topic. It is the
    only one offered: aiokafka (0.14) sends a JoinGroup for each assignor in turn, each with
    one more protocol than the last, and the coordinator takes the second for changed metadata
    and starts the rebalance again; members joining together did so thousands of times, and a
    start could hang (a group whose older members offer round robin alone refuses a new
    member: stop those before starting these). `documented`: whether AsyncAPI shows it (one of
    a process's several members is).
    Returns the FastStream subscriber; the service's progress monitor watches it (and learns from
    the subscription when records reach the handler).
    """
    subscriber = broker.subscriber(
        *topics,
        group_id=f"keepword-{consumer.service}",
        batch=True,
        max_records=max_records,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        partition_assignment_strategy=(RangePartitionAssignor,),
        # A member joining (a process starts its members one after another) waits for the
        # others to rejoin, which they learn from a heartbeat: 3 s by default, per start.
        heartbeat_interval_ms=250,
        description=description or None,
        include_in_schema=documented,
        parser=tolerant_parser,
        decoder=_undecoded,
    )
    activity = activity_of(subscriber)

    async def on_records(body: Any, message: KafkaMessage) -> None:
        raw: Any = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        activity.delivered(records)
        await consumer.handle_batch(records)

    on_records.__name__ = f"on_{consumer.service}_events"
    # What FastStream documents (AsyncAPI) is the type of the body; it depends on the topics.
    on_records.__annotations__["body"] = documented_payload(topics)
    subscriber(on_records)
    return subscriber


def documented_payload(topics: Sequence[str]) -> Any:
    """The body type a subscriber to `topics` declares: any event model of those topics.

    FastStream documents the payload from it, and `SkipValidation` keeps it at that: the body is
    not validated against the models at run time, since the consumer decodes each record itself
    (CloudEvents binary mode: the envelope is in the headers) and dead-letters what it cannot.
    """
    models = tuple(dict.fromkeys(model for topic in topics for model in models_on_topic(topic)))
    if not models:
        return Any  # not a topic of the contract: nothing to say about its records
    payload: Any = Union[models]  # noqa: UP007 (built at run time)
    return Annotated[payload, SkipValidation]


Parse = Callable[[Any], Awaitable[Any]]


async def tolerant_parser(raw: Any, parse: Parse) -> Any:
    """FastStream's own parsing of `raw` (a record or a batch), which never fails on a record.

    FastStream decodes every header value as UTF-8 before the handler runs; one value it cannot
    read (not UTF-8, or null) would fail the whole batch, which is then acknowledged unhandled.
    Then it parses copies that keep only the headers it can read, and hands the handler the
    records as they came: the consumer reads each one itself and dead-letters the unreadable.
    """
    try:
        return await parse(raw)
    except Exception:  # a header FastStream cannot read; nothing else in a record is parsed
        batch = raw if isinstance(raw, tuple) else (raw,)
        log.warning(
            "records with unreadable headers; the consumer dead-letters them",
            records=[
                f"{r.topic}[{r.partition}]@{r.offset}" for r in batch if not _readable(r.headers)
            ][:20],
        )
        readable = tuple(_with_readable_headers(record) for record in batch)
        message = await parse(readable if isinstance(raw, tuple) else readable[0])
        message.raw_message = raw
        return message


def _is_text(value: bytes | None) -> bool:
    if value is None:
        return False
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


def _readable(headers: Sequence[tuple[str, bytes | None]]) -> bool:
    return all(_is_text(value) for _name, value in headers)


def _with_readable_headers(record: ConsumerRecord[Any, Any]) -> ConsumerRecord[Any, Any]:
    if _readable(record.headers):
        return record
    return dataclasses.replace(
        record, headers=[(name, value) for name, value in record.headers if _is_text(value)]
    )


async def _undecoded(message: Any) -> Any:
    # The consumer decodes CloudEvents itself (and dead-letters what it cannot read); FastStream's
    # own JSON decoding of every body would be wasted work, and would fail on a poison record.
    return message.body


def relay_extension(schema: str, **options: Any) -> Extension:
    """Run the outbox relay of `schema` for the service's lifetime."""

    async def work(runtime: Runtime) -> None:
        settings = runtime.settings
        # The relay's own producer: discarded and replaced when a batch fails, which a
        # producer shared with FastStream's broker could not be.
        producer = FailFastProducer(
            settings.kafka_bootstrap,
            client_id=f"keepword-{runtime.name}-relay",
            timeout_seconds=settings.kafka_request_timeout_ms / 1000,
            **kafka_client_options(settings),
        )
        relay = OutboxRelay(runtime.db, schema, producer, **options)
        runtime.extras["relay"] = relay
        runtime.readiness["outbox"] = outbox_check(
            relay, settings.outbox_stall_seconds, lambda: runtime.db
        )
        try:
            await relay.run()
        finally:
            await producer.discard()  # what it held is still in the outbox

    return background_task(f"outbox-relay-{schema}", work)


def outbox_check(
    relay: OutboxRelay, stall_after: float, pool: Callable[[], Any]
) -> Callable[[], Coroutine[Any, Any, str]]:
    """Readiness of an outbox: "ok" unless a row has waited `stall_after` seconds unpublished.

    Only the instance holding the relay's lock answers for the outbox: the others cannot help it
    drain (they take over when the leader goes away).
    """

    async def check() -> str:
        if not relay.is_leader:
            return "ok"
        age = await store.oldest_unpublished_age(pool(), relay.schema)
        if age is None or age < stall_after:
            return "ok"
        return f"not draining: the oldest unpublished row is {age:.0f}s old"

    return check


def background_task(name: str, work: Callable[[Runtime], Coroutine[Any, Any, None]]) -> Extension:
    """Run `work(runtime)` as a task for the service's lifetime; cancel it at shutdown."""

    @contextlib.asynccontextmanager
    async def lifetime(runtime: Runtime) -> AsyncIterator[None]:
        task = asyncio.create_task(work(runtime), name=name)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifetime


def timers_extension(
    schema: str,
    source: str,
    on_timer: TimerHandler | None = None,
    *,
    on_timers: BatchTimerHandler | None = None,
    ahead: frozenset[str] = frozenset(),
) -> Extension:
    """Fire `schema`'s durable timers; what they cause goes to the outbox.

    `on_timers` takes a whole batch of due timers (a service with many deadlines falling due at
    once saves round trips); `on_timer` takes them one at a time. Timers of the kinds `ahead`
    are fired up to `timers_prepare_seconds` ahead and committed when due (`prepare_due`).
    """
    if on_timers is not None and on_timer is None:
        handler = on_timers
    elif on_timer is not None and on_timers is None:
        handler = one_by_one(on_timer)
    else:
        raise ValueError("give exactly one of on_timer and on_timers")

    async def enqueue(conn: Connection, caused: Sequence[Event | Envelope[Event]]) -> None:
        await store.enqueue(conn, schema, [outgoing(item, source) for item in caused])

    async def work(runtime: Runtime) -> None:
        health = TimerHealth()
        runtime.readiness["timers"] = timers_check(health, runtime.settings.timers_stall_seconds)
        await run_timers(
            lambda: runtime.db,
            schema,
            handler,
            enqueue,
            lambda: datetime.now(UTC),
            health=health,
            ahead=Ahead(ahead, runtime.settings.timers_prepare_seconds),
        )

    return background_task(f"{schema}-timers", work)


def timers_check(health: TimerHealth, window: float) -> Callable[[], Coroutine[Any, Any, str]]:
    """Readiness of a service's timers: "ok" unless they cannot be fired (see `TimerHealth`)."""

    async def check() -> str:
        return health.problem(window) or "ok"

    return check
