"""Handling consumed records exactly once in effect: decode, dedup, handle, record, acknowledge.

A batch of records is handled in one database transaction. Each event gets a savepoint: its inbox
row, its state changes and the events it causes (outbox rows) commit together or not at all. The
caller acknowledges the batch to Kafka only after the commit, so a crash anywhere means the batch
comes back and the inbox skips what was already done.

What goes wrong is sorted three ways:
- the record is not an event (bad bytes, bad headers, invalid data): a dead letter, at once;
- the handler refuses it (`Rejected`: an illegal transition, an unknown commitment): a dead
  letter with the handler's reason, at once — retrying cannot help;
- the handler fails otherwise (a bug): retried `max_attempts` times, then a dead letter;
- the database or the broker is unavailable: nothing is recorded; the whole batch is retried
  after a backoff, for as long as it takes (infrastructure failures are never dead-lettered).

A dead letter that ops replays (`keepword dlq replay`: the same event id, a `keepword-replay-of`
header, a new offset) is taken up again by the service that set it aside: its inbox row is
claimed anew, and the event is handled this time or dead-lettered again with the new reason.
An event once handled is never handled again, and Kafka redelivering a record changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from keepword_events import (
    Envelope,
    Event,
    EventDecodeError,
    UnknownEventType,
    decode,
    encode,
    new_envelope,
)
from prometheus_client import Counter

from keepword_platform.database import Connection

from . import store
from .records import ConsumedRecord, Outgoing, dead_letter, is_replay

log = structlog.get_logger(__name__)

HANDLED = Counter(
    "keepword_events_handled_total", "Consumed events, by outcome.", ["service", "outcome"]
)

# Errors that mean "the infrastructure is unavailable", not "this record is bad".
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)


class Rejected(Exception):
    """The handler refuses the event for a business reason; it goes to the dead-letter topic."""


# What a handler causes: events (enveloped here) or envelopes it made itself to know their ids.
Caused = Sequence[Event | Envelope[Event]]
Handler = Callable[[Connection, Envelope[Event]], Awaitable[Caused]]


def outgoing(item: Event | Envelope[Event], source: str) -> Outgoing:
    """The outbox row of something a handler caused."""
    envelope = item if isinstance(item, Envelope) else new_envelope(item, source=source)
    return Outgoing(event_id=envelope.id, record=encode(envelope))


@dataclass
class EventConsumer:
    """Applies `handler` to consumed records of one service, exactly once per event id."""

    service: str
    schema: str
    pool: Callable[[], asyncpg.Pool]
    handler: Handler
    wants: Callable[[Envelope[Event]], bool] = lambda _envelope: True
    max_attempts: int = 3
    retry_pause_seconds: float = 2.0

    @property
    def source(self) -> str:
        """CloudEvents source of the events this service publishes."""
        return f"/keepword/{self.service}"

    async def handle_batch(self, records: Sequence[ConsumedRecord]) -> None:
        """Handle `records`; returns once their effects are committed (then ack the batch).

        Raises (after a pause) when the database is unavailable, so the batch is redelivered.
        """
        try:
            async with self.pool().acquire() as conn, conn.transaction():
                for record in records:
                    await self._handle_one(conn, record)
        except INFRASTRUCTURE_ERRORS:
            log.warning("batch not handled; will retry", service=self.service, exc_info=True)
            await asyncio.sleep(self.retry_pause_seconds)
            raise

    async def _handle_one(self, conn: Connection, record: ConsumedRecord) -> None:
        try:
            envelope = decode(record.value, record.headers)
        except UnknownEventType:
            HANDLED.labels(service=self.service, outcome="ignored").inc()
            return  # a newer producer's type: not for us
        except EventDecodeError as error:
            await self._dead_letter(conn, record, None, f"undecodable: {error.reason}", attempts=1)
            return
        if not self.wants(envelope):
            HANDLED.labels(service=self.service, outcome="ignored").inc()
            return  # not an event this service acts on: no inbox row, no transaction
        replay = is_replay(record)
        for attempt in range(1, self.max_attempts + 1):
            try:
                async with conn.transaction():  # a savepoint: this event's effects, or none
                    if not await store.claim_event(
                        conn, self.schema, envelope.id, record, "handled", retake_dead_letter=replay
                    ):
                        HANDLED.labels(service=self.service, outcome="duplicate").inc()
                        return
                    caused = await self.handler(conn, envelope)
                    await store.enqueue(
                        conn, self.schema, [outgoing(item, self.source) for item in caused]
                    )
                HANDLED.labels(service=self.service, outcome="handled").inc()
                return
            except Rejected as refusal:
                await self._dead_letter(conn, record, envelope, f"rejected: {refusal}", attempt)
                return
            except INFRASTRUCTURE_ERRORS:
                raise
            except Exception as error:  # a bug in a handler: retry a little, then set it aside
                log.exception(
                    "event handler failed",
                    event_id=envelope.id,
                    attempt=attempt,
                    type=envelope.type,
                )
                if attempt == self.max_attempts:
                    reason = f"handler failed {attempt} times: {error!r}"
                    await self._dead_letter(conn, record, envelope, reason, attempt)

    async def _dead_letter(
        self,
        conn: Connection,
        record: ConsumedRecord,
        envelope: Envelope[Event] | None,
        reason: str,
        attempts: int,
    ) -> None:
        letter = dead_letter(record, reason, service=self.service, attempts=attempts)
        # A record that is no event has no event id: its position stands in for one, so a
        # redelivered poison record is not dead-lettered twice (and its replay, at another
        # position, is dead-lettered again if it still cannot be read).
        claimed_as = envelope.id if envelope is not None else letter.event_id
        async with conn.transaction():
            if not await store.claim_event(
                conn,
                self.schema,
                claimed_as,
                record,
                "dead_lettered",
                retake_dead_letter=is_replay(record),
            ):
                return
            await store.enqueue(conn, self.schema, [letter])
        HANDLED.labels(service=self.service, outcome="dead_lettered").inc()
        log.warning(
            "record dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )
