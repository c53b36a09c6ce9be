"""What the ledger does with its input events and its timers (the I/O around `moves`).

A batch of events is handled in a few statements whatever its size: the commitments it touches
are loaded (and locked) with one SELECT, its events folded over them in memory in the order of
their records, and what moved written back with one statement per table (ledger, history,
timers). A single event, as the consumer hands it when it redoes a failed batch event by event,
is a batch of one: the same steps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog
from keepword_events import (
    CommitmentAnswered,
    CommitmentCancelled,
    CommitmentDeclared,
    CommitmentFulfilled,
    CommitmentStatusChanged,
    Envelope,
    Event,
    ReplySent,
    new_envelope,
)
from keepword_platform.company import CompanyConfig
from keepword_platform.database import Connection
from keepword_platform.messaging import timers
from keepword_platform.messaging.consumer import Caused, Rejected
from keepword_platform.messaging.inputs import Inputs, on

from . import domain, moves, repository
from .domain import Change, IllegalTransition
from .extraction import FoundPromise, Reading, read_reply
from .moves import DUE, WARN, Book, UnknownCommitment
from .vague_times import vague_times_told

SCHEMA = "commitments"
SOURCE = "/keepword/commitments"
__all__ = ["DUE", "INPUTS", "SCHEMA", "SOURCE", "WARN", "Ledger", "status_changed"]

EXTRACTION_BUDGET_SECONDS = 5.0
"""How long reading a reply for promises may take in its worker thread. The extractor's input
bounds keep the worst reply measured near 1 s; past the budget the reply is handled without
extracted promises (logged), rather than holding up the partition."""

log = structlog.get_logger(__name__)


async def promises_in_time(
    reply: ReplySent,
    *,
    timezone: str,
    event_id: str,
    budget: float = EXTRACTION_BUDGET_SECONDS,
) -> Reading:
    """`read_reply` on the reply's body in a worker thread; nothing found when over `budget`.

    The thread cannot be stopped and finishes on its own: the extractor's bounds keep it short.
    """
    try:
        async with asyncio.timeout(budget):
            return await asyncio.to_thread(
                read_reply, reply.body, sent_at=reply.sent_at, timezone=timezone
            )
    except TimeoutError:
        log.warning(
            "reply not read for promises within its budget: none extracted",
            thread_id=reply.thread_id,
            event_id=event_id,
            body_chars=len(reply.body),
            budget_seconds=budget,
        )
        return Reading(promises=[], vague=[])


def status_changed(change: Change, *, causation_id: str | None) -> CommitmentStatusChanged:
    """The event that announces a move of the ledger (the whole commitment as it now stands)."""
    c = change.after
    return CommitmentStatusChanged(
        thread_id=c.thread_id,
        correlation_id=c.thread_id,
        causation_id=causation_id,
        commitment_id=c.commitment_id,
        status=c.status,
        previous_status=change.previous_status,
        at_risk=c.at_risk,
        kind=c.kind,
        text=c.text,
        made_by=c.made_by,
        customer=c.customer,
        due_at=c.due_at,
        feasible_due_at=c.feasible_due_at,
        production_note=c.production_note,
        source=c.source,
        reason=change.reason,
        changed_at=change.at,
    )


class Ledger:
    """Handles input events and timers; returns the events to publish (through the outbox)."""

    def __init__(
        self, company: Callable[[], CompanyConfig], clock: Callable[[], datetime] | None = None
    ) -> None:
        self._company = company
        self._clock = clock or (lambda: datetime.now(UTC))

    async def on_event(self, conn: Connection, envelope: Envelope[Event]) -> Caused:
        """One input event: a batch of one."""
        return await self.on_events(conn, [envelope])

    async def on_events(self, conn: Connection, envelopes: Sequence[Envelope[Event]]) -> Caused:
        """A batch of input events, in the order of their records (customer messages and the
        ledger's own events change nothing). An event the rules refuse fails the batch
        (`Rejected`): the consumer then redoes it event by event and sets that one aside."""
        # Replies are read for promises before any commitment is locked: it takes a while.
        found = {
            e.id: await self._promises_in(e.data, e.id)
            for e in envelopes
            if isinstance(e.data, ReplySent) and moves.is_read_for_promises(e.data)
        }
        book = Book.of(await repository.touched_for_update(conn, *_touched(envelopes)))
        caused: list[Event | Envelope[Event]] = []
        announced: list[tuple[Change, str]] = []
        for envelope in envelopes:
            promised, notices = found.get(envelope.id, ({}, []))
            made = _moves_of(book, envelope, promised)
            book.apply(made)
            for move in made:
                out = new_envelope(status_changed(move, causation_id=envelope.id), source=SOURCE)
                announced.append((move, out.id))
                caused.append(out)
            caused.extend(notices)
        await self._write(conn, announced)
        return caused

    async def on_timer(self, conn: Connection, timer: timers.Timer) -> Sequence[Envelope[Event]]:
        """A due or warning time passed."""
        commitment = await repository.load_for_update(conn, timer.subject)
        if commitment is None:
            return []
        at = self._clock()
        move = (
            domain.fall_due(commitment, at=at)
            if timer.kind == DUE
            else domain.warn(commitment, at=at)
        )
        if move is None:
            return []
        out = new_envelope(status_changed(move, causation_id=None), source=SOURCE)
        await self._write(conn, [(move, out.id)])
        return [out]

    async def _promises_in(
        self, reply: ReplySent, event_id: str
    ) -> tuple[dict[FoundPromise, str], list[Event]]:
        """The promises found in `reply` with the ids they are recorded under, and the notices
        of those that named only a vague time."""
        timezone = self._company().company.timezone
        reading = await promises_in_time(reply, timezone=timezone, event_id=event_id)
        recorded = moves.extracted_ids(reading, event_id)
        return recorded, [*vague_times_told(reading, reply, event_id=event_id, recorded=recorded)]

    async def _write(self, conn: Connection, announced: Sequence[tuple[Change, str]]) -> None:
        """The moves, each with the id of the event announcing it, into the ledger and its
        history, and the timers they call for."""
        await repository.record_moves(conn, announced)
        plan = moves.timer_plan([move for move, _ in announced], self._company().sla.warn_at)
        await repository.cancel_timers(conn, plan.cancelled)
        await timers.set_timers(conn, SCHEMA, plan.due)


def _touched(envelopes: Sequence[Envelope[Event]]) -> tuple[set[str], set[str]]:
    """The commitments the events name, and the threads whose open ones a reply may keep."""
    ids: set[str] = set()
    threads: set[str] = set()
    for envelope in envelopes:
        match envelope.data:
            case CommitmentDeclared(commitment_id=named, supersedes=replaced):
                ids.update(c for c in (named, replaced) if c)
            case CommitmentAnswered() | CommitmentFulfilled() | CommitmentCancelled():
                ids.add(envelope.data.commitment_id)
            case ReplySent(sender_verified=True, thread_id=thread):
                threads.add(thread)
    return ids, threads


def _moves_of(
    book: Book, envelope: Envelope[Event], recorded: dict[FoundPromise, str]
) -> list[Change]:
    """The moves of one event over `book`; a refusal of the rules is `Rejected`."""
    at = envelope.time
    try:
        match envelope.data:
            case CommitmentDeclared() as data:
                return moves.declared(book, data, at=at)
            case CommitmentAnswered() as data:
                return moves.answered(book, data, at=at)
            case CommitmentFulfilled() as data:
                return moves.fulfilled(book, data, at=at)
            case CommitmentCancelled() as data:
                return moves.cancelled(book, data, at=at)
            case ReplySent() as data:
                return moves.replied(book, data, recorded)
            case _:
                return []
    except (IllegalTransition, UnknownCommitment) as refusal:
        raise Rejected(str(refusal)) from None


INPUTS: Inputs[Ledger] = Inputs(
    *(
        on(kind, Ledger.on_event)
        for kind in (
            CommitmentDeclared,
            CommitmentAnswered,
            CommitmentFulfilled,
            CommitmentCancelled,
            ReplySent,
        )
    )
)
"""What the ledger consumes: promises, answers, fulfilments, cancellations and staff replies."""
