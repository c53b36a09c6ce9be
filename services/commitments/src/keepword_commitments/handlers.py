"""What the ledger does with each input event and each timer (the I/O around `domain`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog
from keepword_events import (
    CommitmentAnswered,
    CommitmentCancelled,
    CommitmentDeclared,
    CommitmentFulfilled,
    CommitmentSource,
    CommitmentStatusChanged,
    Envelope,
    Event,
    ReplySent,
    Role,
    VagueTimePromised,
    new_envelope,
)
from keepword_platform.company import CompanyConfig
from keepword_platform.database import Connection
from keepword_platform.messaging import timers
from keepword_platform.messaging.consumer import Caused, Rejected
from keepword_platform.messaging.inputs import Inputs, on

from . import domain, repository
from .domain import Change, IllegalTransition
from .extraction import Reading, read_reply
from .vague_times import vague_times_told

SCHEMA = "commitments"
SOURCE = "/keepword/commitments"
DUE = "due"
WARN = "warn"
PROMISING_ROLES = frozenset({Role.SALES, Role.MARKETING, Role.SERVICE})
_EXTRACTED = uuid.UUID("a5d3c1e2-7b4f-4c59-8e0a-2f6b9d1c3e47")

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
        """One input event (customer messages and the ledger's own events change nothing)."""
        return await INPUTS.handle(self, conn, envelope)

    async def declared(self, conn: Connection, event: Envelope[CommitmentDeclared]) -> Caused:
        """A promise made through the API: recorded, and the one it replaces superseded."""
        return await self._applied(conn, await self._declared(conn, event.data, event.time), event)

    async def answered(self, conn: Connection, event: Envelope[CommitmentAnswered]) -> Caused:
        """Production's verdict on a promise."""
        data = event.data
        move = await self._move(
            conn,
            data.commitment_id,
            lambda c: domain.answer(
                c,
                verdict=data.verdict,
                note=data.note,
                feasible_due_at=data.feasible_due_at,
                at=event.time,
            ),
        )
        return await self._applied(conn, [move], event)

    async def fulfilled(self, conn: Connection, event: Envelope[CommitmentFulfilled]) -> Caused:
        """A promise kept, or not."""
        data = event.data
        move = await self._move(
            conn,
            data.commitment_id,
            lambda c: domain.fulfil(c, kept=data.kept, note=data.note, at=event.time),
        )
        return await self._applied(conn, [move], event)

    async def cancelled(self, conn: Connection, event: Envelope[CommitmentCancelled]) -> Caused:
        """A promise withdrawn."""
        data = event.data
        move = await self._move(
            conn, data.commitment_id, lambda c: domain.cancel(c, reason=data.reason, at=event.time)
        )
        return await self._applied(conn, [move], event)

    async def replied(self, conn: Connection, event: Envelope[ReplySent]) -> Caused:
        """A reply: it may answer open promises, and a person's may make new ones. A reply
        whose sender was not proven (intake never publishes one) does neither."""
        if not event.data.sender_verified:
            return []
        moves, vague = await self._reply(conn, event.data, event.id)
        return [*await self._applied(conn, moves, event), *vague]

    async def _applied(
        self, conn: Connection, moves: Sequence[Change], cause: Envelope[Event]
    ) -> Caused:
        return [await self._apply(conn, move, cause.id) for move in moves]

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
        return [await self._apply(conn, move, None)] if move else []

    async def _declared(
        self, conn: Connection, data: CommitmentDeclared, at: datetime
    ) -> list[Change]:
        if await repository.load_for_update(conn, data.commitment_id) is not None:
            raise Rejected(f"commitment {data.commitment_id} was already declared")
        moves = []
        if data.supersedes:
            moves.append(
                await self._move(
                    conn,
                    data.supersedes,
                    lambda c: domain.supersede(c, by=data.commitment_id, at=at),
                )
            )
        moves.append(
            domain.declare(
                commitment_id=data.commitment_id,
                thread_id=data.thread_id,
                kind=data.kind,
                text=data.text,
                made_by=data.made_by,
                customer=data.customer,
                due_at=data.due_at,
                source=CommitmentSource(kind="declared"),
                at=at,
            )
        )
        return moves

    async def _reply(
        self, conn: Connection, reply: ReplySent, event_id: str
    ) -> tuple[list[Change], list[VagueTimePromised]]:
        moves = []
        for commitment in await repository.open_on_thread(conn, reply.thread_id):
            move = domain.reply_sent(
                commitment, channel=reply.channel, by_person=not reply.automatic, at=reply.sent_at
            )
            if move:
                moves.append(move)
        if reply.automatic or reply.author.role not in PROMISING_ROLES:
            return moves, []
        company = self._company().company
        reading = await promises_in_time(reply, timezone=company.timezone, event_id=event_id)
        recorded = {
            found: f"cmt-{uuid.uuid5(_EXTRACTED, f'{event_id}:{index}').hex}"
            for index, found in enumerate(reading.promises)
        }
        for found, commitment_id in recorded.items():
            moves.append(
                domain.declare(
                    commitment_id=commitment_id,
                    thread_id=reply.thread_id,
                    kind=found.kind,
                    text=found.sentence,
                    made_by=reply.author,
                    customer=reply.customer,
                    due_at=found.due_at,
                    source=CommitmentSource(
                        kind="extracted",
                        message_id=reply.message_id,
                        matched_text=reply.body[found.span[0] : found.span[1]],
                    ),
                    at=reply.sent_at,
                )
            )
        return moves, vague_times_told(reading, reply, event_id=event_id, recorded=recorded)

    async def _move(
        self, conn: Connection, commitment_id: str, rule: Callable[[domain.Commitment], Change]
    ) -> Change:
        commitment = await repository.load_for_update(conn, commitment_id)
        if commitment is None:
            raise Rejected(f"unknown commitment {commitment_id}")
        try:
            return rule(commitment)
        except IllegalTransition as refusal:
            raise Rejected(str(refusal)) from None

    async def _apply(self, conn: Connection, move: Change, cause: str | None) -> Envelope[Event]:
        envelope = new_envelope(status_changed(move, causation_id=cause), source=SOURCE)
        await repository.record(conn, move, envelope.id)
        await self._schedule(conn, move)
        return envelope

    async def _schedule(self, conn: Connection, move: Change) -> None:
        c = move.after
        if not c.is_open:
            await timers.cancel_timers(conn, SCHEMA, c.commitment_id)
            return
        if move.before is None and c.due_at is not None:
            warn_at = domain.warning_time(c.created_at, c.due_at, self._company().sla.warn_at)
            await timers.set_timers(
                conn, SCHEMA, [(DUE, c.commitment_id, c.due_at), (WARN, c.commitment_id, warn_at)]
            )


INPUTS: Inputs[Ledger] = Inputs(
    on(CommitmentDeclared, Ledger.declared),
    on(CommitmentAnswered, Ledger.answered),
    on(CommitmentFulfilled, Ledger.fulfilled),
    on(CommitmentCancelled, Ledger.cancelled),
    on(ReplySent, Ledger.replied),
)
"""What the ledger consumes: promises, answers, fulfilments, cancellations and staff replies."""
