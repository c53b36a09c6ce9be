"""Handling consumed records exactly once in effect: decode, dedup, handle, record, acknowledge.

A batch of records is handled in one database transaction: each event's inbox row, its state
changes and the events it causes (outbox rows) commit together, and the outbox relay is woken
once per batch. The caller acknowledges the batch to Kafka only after the commit, so a crash
anywhere means the batch comes back and the inbox skips what was already done.

Savepoints cost two round trips per event, so the batch is first tried without them. If anything
in it fails (a refusal, a bug), that attempt is rolled back as a whole and the batch is handled
again event by event, each in a savepoint of its own: the failing event is isolated and set
aside, every other event is handled once, in the order of the records.

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

A record whose handling blocked the event loop (the watchdog recorded it as a suspect, see
`health.watchdog`) is dead-lettered when it comes again, wherever it is in its batch, without
being decoded or handled: handling it again would block the service again, forever. The
consumer tells the watchdog which record it is handling (`in_hand`) for that purpose, and in
which frame it handles them (`handling`): a process may run several consumers at once.

A service whose step is cheaper per batch than per event (a read model: load what the batch
touches, fold the events in memory, write it back in a few statements) gives a `batch_handler`
too. The first attempt then claims the batch's events in one statement and hands the step every
event it claimed at once, in the order of the records; the event-by-event attempt still hands
`handler` one event at a time, so a failing event is isolated as before. While the batch step
runs the watchdog is told of no record in hand: a batch step must not block the loop.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

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
from keepword_events.envelope import H_ID
from prometheus_client import Counter

from keepword_platform.database import Connection
from keepword_platform.health import block_hook
from keepword_platform.health.loop_watch import Input, reason
from keepword_platform.health.watchdog import HANDLING, Handling, InHand

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
# A step for a whole batch: the events the inbox let through, in the order of their records.
BatchHandler = Callable[[Connection, Sequence[Envelope[Event]]], Awaitable[Caused]]


def outgoing(item: Event | Envelope[Event], source: str) -> Outgoing:
    """The outbox row of something a handler caused."""
    envelope = item if isinstance(item, Envelope) else new_envelope(item, source=source)
    return Outgoing(event_id=envelope.id, record=encode(envelope))


def suspect_of(
    suspects: Mapping[store.Position, store.LoopSuspect], record: ConsumedRecord
) -> store.LoopSuspect | None:
    """The suspect that `record` is (it blocked the event loop when handled before), or None.

    The position names the record; the event id (read from its header, the body is left alone:
    it may be what blocks) confirms it is the same one, not another record at a position reused
    by a topic created anew.
    """
    suspect = suspects.get((record.topic, record.partition, record.offset))
    if suspect is None:
        return None
    if suspect.event_id is not None:
        ids = [value for name, value in record.headers if name == H_ID]
        if ids != [suspect.event_id.encode()]:
            return None
    return suspect


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
    in_hand: InHand = field(default_factory=InHand)
    handling: Handling = field(default_factory=lambda: HANDLING)
    batch_handler: BatchHandler | None = None
    # Positions of records that blocked the loop, and for how long: loaded with the first batch.
    _suspects: dict[store.Position, store.LoopSuspect] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def source(self) -> str:
        """CloudEvents source of the events this service publishes."""
        return f"/keepword/{self.service}"

    async def handle_batch(self, records: Sequence[ConsumedRecord]) -> None:
        """Handle `records`; returns once their effects are committed (then ack the batch).

        Raises (after a pause) when the database is unavailable, so the batch is redelivered.
        """
        try:
            try:
                outcomes = await self._in_one_transaction(records, isolated=False)
            except INFRASTRUCTURE_ERRORS:
                raise
            except Exception:  # a refusal or a bug: redo it event by event to isolate the cause
                log.info(
                    "batch failed as a whole; handling it event by event",
                    service=self.service,
                    records=len(records),
                    exc_info=True,
                )
                outcomes = await self._in_one_transaction(records, isolated=True)
        except INFRASTRUCTURE_ERRORS:
            log.warning("batch not handled; will retry", service=self.service, exc_info=True)
            await asyncio.sleep(self.retry_pause_seconds)
            raise
        for outcome in outcomes:  # counted once committed: a rolled-back attempt counts nothing
            HANDLED.labels(service=self.service, outcome=outcome).inc()

    async def _in_one_transaction(
        self, records: Sequence[ConsumedRecord], *, isolated: bool
    ) -> list[str]:
        """Each record's outcome, all committed together (or none of them, on an exception).

        Not `isolated`, any failure propagates (the caller rolls back and tries `isolated`);
        `isolated`, each event is handled in a savepoint and a failure sets only it aside.
        """
        async with self.pool().acquire() as conn, conn.transaction():
            suspects = await self._known_suspects(conn)
            frame = sys._getframe()  # this coroutine's: the watchdog finds it on the stack
            self.handling.enter(frame, self.in_hand)
            try:
                if not isolated and self.batch_handler is not None:
                    outcomes = await self._handle_all(conn, records, suspects, self.batch_handler)
                else:
                    outcomes = await self._handle_each(conn, records, suspects, isolated=isolated)
            finally:
                self.handling.leave(frame)
                self.in_hand.clear()
            if "handled" in outcomes or "dead_lettered" in outcomes:
                await store.notify_relay(conn, self.schema)  # delivered on commit
        return outcomes

    async def _handle_each(
        self,
        conn: Connection,
        records: Sequence[ConsumedRecord],
        suspects: Mapping[store.Position, store.LoopSuspect],
        *,
        isolated: bool,
    ) -> list[str]:
        outcomes: list[str] = []
        handle = self._handle_isolated if isolated else self._handle
        for record in records:
            self.in_hand.take(
                Input(self.service, self.schema, record.topic, record.partition, record.offset)
            )
            suspect = suspect_of(suspects, record)
            if suspect is not None:
                outcome = await self._dead_letter(
                    conn,
                    record,
                    None,
                    reason(suspect.blocked_seconds),
                    attempts=1,
                    event_id=suspect.event_id,
                )
            else:
                outcome = await handle(conn, record)
            outcomes.append(outcome)
        return outcomes

    async def _handle_all(
        self,
        conn: Connection,
        records: Sequence[ConsumedRecord],
        suspects: Mapping[store.Position, store.LoopSuspect],
        batch_handler: BatchHandler,
    ) -> list[str]:
        """`records` in the caller's transaction: the wanted events claimed in one statement and
        handed to `batch_handler` together. A failure raises, as in `_handle`."""
        outcomes: list[str] = []
        claims: dict[str, tuple[int, Envelope[Event], ConsumedRecord]] = {}
        for record in records:
            self.in_hand.take(
                Input(self.service, self.schema, record.topic, record.partition, record.offset)
            )
            suspect = suspect_of(suspects, record)
            envelope = None if suspect is not None else self._decoded(record)
            if suspect is not None:
                outcome = await self._dead_letter(
                    conn,
                    record,
                    None,
                    reason(suspect.blocked_seconds),
                    attempts=1,
                    event_id=suspect.event_id,
                )
            elif envelope is None:
                outcome = "ignored"
            elif isinstance(envelope, str):
                outcome = await self._dead_letter(conn, record, None, envelope, attempts=1)
            elif envelope.id in claims:
                outcome = "duplicate"  # the same event twice in one batch: the first counts
            elif is_replay(record):  # rare: claimed on its own, as it may retake a dead letter
                claimed = await store.claim_event(
                    conn, self.schema, envelope.id, record, "handled", retake_dead_letter=True
                )
                outcome = "claimed" if claimed else "duplicate"
                claims[envelope.id] = (len(outcomes), envelope, record)
            else:
                outcome = "unclaimed"
                claims[envelope.id] = (len(outcomes), envelope, record)
            outcomes.append(outcome)
        claimed_now = await store.claim_events(
            conn,
            self.schema,
            [(e.id, r) for i, e, r in claims.values() if outcomes[i] == "unclaimed"],
        )
        taken: list[Envelope[Event]] = []
        for index, envelope, record in claims.values():  # in the order of the records
            if outcomes[index] == "claimed" or envelope.id in claimed_now:
                outcomes[index] = "handled"
                self.in_hand.take(
                    Input(self.service, self.schema, record.topic, record.partition, record.offset)
                )
                self.in_hand.identify(envelope.id)
                block_hook.block_if_asked(record.headers, offset=record.offset)
                taken.append(envelope)
            else:
                outcomes[index] = "duplicate"
        self.in_hand.clear()
        if taken:
            caused = await batch_handler(conn, taken)
            await store.enqueue(
                conn, self.schema, [outgoing(item, self.source) for item in caused], notify=False
            )
        return outcomes

    async def _known_suspects(self, conn: Connection) -> dict[store.Position, store.LoopSuspect]:
        if self._suspects is None:
            self._suspects = await store.loop_suspects(conn, self.schema)
            if self._suspects:
                log.warning(
                    "records that blocked the event loop will be dead-lettered if read again",
                    service=self.service,
                    count=len(self._suspects),
                    first=[f"{t}[{p}]@{o}" for t, p, o in list(self._suspects)[:10]],
                )
        return self._suspects

    def _decoded(self, record: ConsumedRecord) -> Envelope[Event] | str | None:
        """The event of `record`; None when not ours to handle; the reason when unreadable."""
        try:
            envelope = decode(record.value, record.headers)
        except UnknownEventType:
            return None  # a newer producer's type: not for us
        except EventDecodeError as error:
            return f"undecodable: {error.reason}"
        if not self.wants(envelope):
            return None  # not an event this service acts on: no inbox row
        return envelope

    async def _handle(self, conn: Connection, record: ConsumedRecord) -> str:
        """`record` in the caller's transaction, no savepoint: a failure raises."""
        envelope = self._decoded(record)
        if envelope is None:
            return "ignored"
        if isinstance(envelope, str):
            return await self._dead_letter(conn, record, None, envelope, attempts=1)
        return await self._claim_and_handle(conn, envelope, record)

    async def _claim_and_handle(
        self, conn: Connection, envelope: Envelope[Event], record: ConsumedRecord
    ) -> str:
        self.in_hand.identify(envelope.id)
        if not await store.claim_event(
            conn, self.schema, envelope.id, record, "handled", retake_dead_letter=is_replay(record)
        ):
            return "duplicate"
        block_hook.block_if_asked(record.headers, offset=record.offset)
        caused = await self.handler(conn, envelope)
        await store.enqueue(
            conn, self.schema, [outgoing(item, self.source) for item in caused], notify=False
        )
        return "handled"

    async def _handle_isolated(self, conn: Connection, record: ConsumedRecord) -> str:
        """`record` in a savepoint of its own: refused or failing, it is dead-lettered alone."""
        envelope = self._decoded(record)
        if envelope is None:
            return "ignored"
        if isinstance(envelope, str):
            return await self._dead_letter(conn, record, None, envelope, attempts=1)
        for attempt in range(1, self.max_attempts + 1):
            try:
                async with conn.transaction():  # a savepoint: this event's effects, or none
                    return await self._claim_and_handle(conn, envelope, record)
            except Rejected as refusal:
                return await self._dead_letter(
                    conn, record, envelope, f"rejected: {refusal}", attempt
                )
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
                    return await self._dead_letter(conn, record, envelope, reason, attempt)
        raise AssertionError("unreachable: the last attempt returns")

    async def _dead_letter(
        self,
        conn: Connection,
        record: ConsumedRecord,
        envelope: Envelope[Event] | None,
        reason: str,
        attempts: int,
        *,
        event_id: str | None = None,
    ) -> str:
        letter = dead_letter(record, reason, service=self.service, attempts=attempts)
        # A record that is no event has no event id: its position stands in for one, so a
        # redelivered poison record is not dead-lettered twice (and its replay, at another
        # position, is dead-lettered again if it still cannot be read).
        # A suspect is not decoded again (that may be what blocks): its recorded id is used.
        claimed_as = envelope.id if envelope is not None else event_id or letter.event_id
        # Its inbox row and its letter together, or neither.
        async with conn.transaction():
            if not await store.claim_event(
                conn,
                self.schema,
                claimed_as,
                record,
                "dead_lettered",
                retake_dead_letter=is_replay(record),
            ):
                return "duplicate"
            await store.enqueue(conn, self.schema, [letter], notify=False)
        log.warning(
            "record dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )
        return "dead_lettered"
