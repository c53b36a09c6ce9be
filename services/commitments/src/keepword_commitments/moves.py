"""What each input does to the ledger, folded over the commitments a batch touches. Pure: the
commitments are loaded before and the moves written after, by the caller.

A batch's inputs are applied in the order of their records to a `Book` of the commitments
they touch, so the second event of a commitment sees what the first one made of it, exactly as
if each had been handled in a transaction of its own. Every step reads the book as it stood
before its event and returns that event's moves; the caller applies them before the next one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from keepword_events import (
    CommitmentAnswered,
    CommitmentCancelled,
    CommitmentDeclared,
    CommitmentFulfilled,
    CommitmentSource,
    ReplySent,
    Role,
)

from . import domain
from .domain import Change, Commitment
from .extraction import FoundPromise, Reading

DUE: Final = "due"
WARN: Final = "warn"
PROMISING_ROLES: Final = frozenset({Role.SALES, Role.MARKETING, Role.SERVICE})
_EXTRACTED: Final = uuid.UUID("a5d3c1e2-7b4f-4c59-8e0a-2f6b9d1c3e47")


class UnknownCommitment(ValueError):
    """The input names a commitment the ledger does not have; nothing changes."""


@dataclass
class Book:
    """The commitments a batch touches, as they stand after the moves applied so far.

    It must hold every commitment an input of the batch names, and for each thread a reply of
    the batch is on, every commitment of it that was open when loaded."""

    commitments: dict[str, Commitment] = field(default_factory=dict)

    @classmethod
    def of(cls, commitments: Iterable[Commitment]) -> Book:
        """A book of `commitments`, by id."""
        return cls({c.commitment_id: c for c in commitments})

    def get(self, commitment_id: str) -> Commitment:
        """The commitment as it stands; `UnknownCommitment` when there is none."""
        found = self.commitments.get(commitment_id)
        if found is None:
            raise UnknownCommitment(f"unknown commitment {commitment_id}")
        return found

    def open_on_thread(self, thread_id: str) -> list[Commitment]:
        """The thread's commitments not final yet, oldest first (as the ledger lists them)."""
        return sorted(
            (c for c in self.commitments.values() if c.thread_id == thread_id and c.is_open),
            key=lambda c: (c.created_at, c.commitment_id),
        )

    def apply(self, moves: Iterable[Change]) -> None:
        """Each commitment as its move leaves it."""
        for move in moves:
            self.commitments[move.after.commitment_id] = move.after


def declared(book: Book, data: CommitmentDeclared, *, at: datetime) -> list[Change]:
    """A promise made through the API, and the one it replaces superseded."""
    if data.commitment_id in book.commitments:
        raise domain.IllegalTransition(f"commitment {data.commitment_id} was already declared")
    moves = []
    if data.supersedes:
        moves.append(domain.supersede(book.get(data.supersedes), by=data.commitment_id, at=at))
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


def answered(book: Book, data: CommitmentAnswered, *, at: datetime) -> list[Change]:
    """Production's verdict on a promise."""
    commitment = book.get(data.commitment_id)
    return [
        domain.answer(
            commitment,
            verdict=data.verdict,
            note=data.note,
            feasible_due_at=data.feasible_due_at,
            at=at,
        )
    ]


def fulfilled(book: Book, data: CommitmentFulfilled, *, at: datetime) -> list[Change]:
    """A promise kept, or not."""
    return [domain.fulfil(book.get(data.commitment_id), kept=data.kept, note=data.note, at=at)]


def cancelled(book: Book, data: CommitmentCancelled, *, at: datetime) -> list[Change]:
    """A promise withdrawn."""
    return [domain.cancel(book.get(data.commitment_id), reason=data.reason, at=at)]


def is_read_for_promises(reply: ReplySent) -> bool:
    """Whether the reply may make promises: a proven person's of a role that makes them."""
    return reply.sender_verified and not reply.automatic and reply.author.role in PROMISING_ROLES


def extracted_ids(reading: Reading, event_id: str) -> dict[FoundPromise, str]:
    """The commitment id of each promise found in the reply `event_id` (the same every time
    the reply is read, so a redone batch records the same commitments)."""
    return {
        found: f"cmt-{uuid.uuid5(_EXTRACTED, f'{event_id}:{index}').hex}"
        for index, found in enumerate(reading.promises)
    }


def replied(book: Book, reply: ReplySent, recorded: Mapping[FoundPromise, str]) -> list[Change]:
    """A reply: it may keep the thread's open promises, and the promises found in it
    (`recorded`, with their ids) are declared. A reply whose sender was not proven does
    neither."""
    if not reply.sender_verified:
        return []
    moves = []
    for commitment in book.open_on_thread(reply.thread_id):
        move = domain.reply_sent(
            commitment, channel=reply.channel, by_person=not reply.automatic, at=reply.sent_at
        )
        if move:
            moves.append(move)
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
    return moves


@dataclass(frozen=True, slots=True)
class TimerPlan:
    """The timers to write after some moves: subjects whose timers go, and timers to set."""

    cancelled: list[str]
    due: list[tuple[str, str, datetime]]  # (kind, subject, fire at)


def timer_plan(moves: Sequence[Change], warn_at: float) -> TimerPlan:
    """A closed commitment's timers go; a new one with a due time gets its due and warning
    timers. Over several moves of one commitment the last that says anything wins."""
    last: dict[str, list[tuple[str, str, datetime]] | None] = {}
    for move in moves:
        c = move.after
        if not c.is_open:
            last[c.commitment_id] = None
        elif move.before is None and c.due_at is not None:
            warning = domain.warning_time(c.created_at, c.due_at, warn_at)
            last[c.commitment_id] = [
                (DUE, c.commitment_id, c.due_at),
                (WARN, c.commitment_id, warning),
            ]
    return TimerPlan(
        cancelled=[subject for subject, timers in last.items() if timers is None],
        due=[timer for timers in last.values() if timers for timer in timers],
    )
