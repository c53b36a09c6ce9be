"""The harness of the services' batch tests: records handed to the platform's consumer as Kafka
hands them over, the service's steps counted (and one event made to fail, as a bug would), and
the same records handled as one batch and then one by one, each time from a clean slate, so a
test can compare what the two leave in the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import asyncpg
from keepword_events import Envelope, Event, encode
from keepword_platform.database import Connection
from keepword_platform.messaging.consumer import Caused, EventConsumer

Snapshot = TypeVar("Snapshot")


@dataclass
class FakeRecord:
    """What the consumer reads of a Kafka record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


def consumed(envelopes: Sequence[Envelope[Event]], first_offset: int = 0) -> list[FakeRecord]:
    """`envelopes` as the records of one partition, from `first_offset` on."""
    records = []
    for offset, envelope in enumerate(envelopes, start=first_offset):
        r = encode(envelope)
        records.append(FakeRecord(r.topic, 0, offset, r.key, r.value, r.headers))
    return records


class Poisoned(Exception):
    """A step failing on one event, as a bug or bad data would."""


class ServiceSteps(Protocol):
    """A service's steps for a batch of events and for one event."""

    async def on_events(self, conn: Connection, envelopes: Sequence[Envelope[Event]]) -> Caused: ...

    async def on_event(self, conn: Connection, envelope: Envelope[Event]) -> Caused: ...


@dataclass
class Steps:
    """A service's steps as the consumer calls them, counted; `poison` fails its event (after
    the step has done its work, so only the rollback undoes it)."""

    service: ServiceSteps
    poison: str | None = None
    batches: int = 0
    singles: int = 0

    async def on_events(self, conn: Connection, envelopes: Sequence[Envelope[Event]]) -> Caused:
        self.batches += 1
        caused = await self.service.on_events(conn, envelopes)
        if any(e.id == self.poison for e in envelopes):
            raise Poisoned(self.poison)
        return caused

    async def on_event(self, conn: Connection, envelope: Envelope[Event]) -> Caused:
        self.singles += 1
        caused = await self.service.on_event(conn, envelope)
        if envelope.id == self.poison:
            raise Poisoned(self.poison)
        return caused


@dataclass(frozen=True)
class BatchHarness:
    """One service's consumer, wired as the service wires it, over counted steps."""

    service: str
    schema: str  # the service's own constant, never input: the queries below name it
    pool: Callable[[], asyncpg.Pool]
    wants: Callable[[Envelope[Event]], bool]

    def consumer(self, steps: Steps, *, batched: bool) -> EventConsumer:
        """A consumer calling `steps` (`on_events` for a batch when `batched`), without pauses
        between retries."""
        return EventConsumer(
            self.service,
            self.schema,
            self.pool,
            steps.on_event,
            wants=self.wants,
            batch_handler=steps.on_events if batched else None,
            retry_pause_seconds=0,
        )

    async def last_outbox_id(self, conn: Connection) -> int:
        """The id of the service's newest outbox row (0 when there is none)."""
        newest = f"SELECT coalesce(max(id), 0) FROM {self.schema}.outbox"  # noqa: S608
        return int(await conn.fetchval(newest))

    async def inbox(
        self, conn: Connection, envelopes: Sequence[Envelope[Event]]
    ) -> list[asyncpg.Record]:
        """The inbox rows (`event_id`, `outcome`) of `envelopes`."""
        outcomes = f"SELECT event_id, outcome FROM {self.schema}.inbox"  # noqa: S608
        rows: list[asyncpg.Record] = await conn.fetch(
            f"{outcomes} WHERE event_id = ANY($1)", [e.id for e in envelopes]
        )
        return rows

    async def batch_then_each(
        self,
        records: Sequence[FakeRecord],
        batched: Steps,
        single: Steps,
        *,
        snapshot: Callable[[Connection, int], Awaitable[Snapshot]],
        forget: Callable[[Connection], Awaitable[None]],
    ) -> tuple[Snapshot, Snapshot]:
        """What `records` leave handled as one batch over `batched`, and then, once `forget`
        has removed that, handled one record at a time over `single`: `snapshot` taken after
        each, given the last outbox id from before."""
        async with self.pool().acquire() as conn:
            mark = await self.last_outbox_id(conn)
            await self.consumer(batched, batched=True).handle_batch(records)
            as_batch = await snapshot(conn, mark)
            await forget(conn)
            mark = await self.last_outbox_id(conn)
            one_by_one = self.consumer(single, batched=False)
            for record in records:
                await one_by_one.handle_batch([record])
            each = await snapshot(conn, mark)
        return as_batch, each
