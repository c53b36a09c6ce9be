"""Where the watch reads and writes the state of threads: straight in the database
(`DirectStore`, for deadlines and decisions), or in memory for a batch of input events
(`BatchStore`: the batch's threads loaded and locked in a few statements, its events folded over
them, what changed written back with one statement per table).

Both keep the database's semantics: a thread's promise or feedback mark needs its row; a
rating older than the one kept changes nothing; `cancel_timers` drops every timer of a subject,
those set before it in the same batch too; times read back are in UTC, as the database gives them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from keepword_events import CustomerRated, EvidenceItem, PromiseInQuestion
from keepword_platform.database import Connection
from keepword_platform.messaging import timers

from . import repository
from .clocks import ThreadClock
from .escalations import Escalation, State
from .rules import Line, Terms

__all__ = ["BatchStore", "DirectStore", "Store", "TimerSet"]

TimerSet = tuple[str, str, datetime]
"""A timer to set: (kind, subject, fire_at)."""

EVIDENCE_LINES = 50
"""The latest timeline lines an escalation shows (`repository.timelines`' default)."""

_D = TypeVar("_D", ThreadClock, Escalation)


class Store(Protocol):
    """The state of threads the watch's steps read and change."""

    async def clock(self, thread_id: str) -> ThreadClock | None: ...
    async def save_clock(self, clock: ThreadClock) -> None: ...
    async def terms(self, thread_ids: Sequence[str]) -> dict[str, Terms]: ...
    async def note_promise(
        self, thread_id: str, promise: PromiseInQuestion, feasible_due_at: datetime | None
    ) -> None: ...
    async def timelines(self, thread_ids: Sequence[str]) -> dict[str, tuple[EvidenceItem, ...]]: ...
    async def add_lines(self, lines: Sequence[Line]) -> None: ...
    async def active(self, thread_ids: Sequence[str]) -> dict[str, Escalation]: ...
    async def save_escalations(self, escalations: Sequence[Escalation]) -> None: ...
    async def note_rating(self, rated: CustomerRated) -> bool: ...
    async def feedback_asked(self, thread_id: str) -> bool: ...
    async def mark_feedback_asked(self, thread_id: str, at: datetime) -> bool: ...
    async def set_timers(self, due: Sequence[TimerSet]) -> None: ...
    async def cancel_timers(self, subject: str) -> None: ...


class DirectStore:
    """Each read and write a statement of its own, in the caller's transaction."""

    def __init__(self, conn: Connection, schema: str) -> None:
        self._conn = conn
        self._schema = schema

    async def clock(self, thread_id: str) -> ThreadClock | None:
        return await repository.load_clock(self._conn, thread_id)

    async def save_clock(self, clock: ThreadClock) -> None:
        await repository.save_clock(self._conn, clock)

    async def terms(self, thread_ids: Sequence[str]) -> dict[str, Terms]:
        return await repository.terms(self._conn, thread_ids)

    async def note_promise(
        self, thread_id: str, promise: PromiseInQuestion, feasible_due_at: datetime | None
    ) -> None:
        await repository.note_promise(self._conn, thread_id, promise, feasible_due_at)

    async def timelines(self, thread_ids: Sequence[str]) -> dict[str, tuple[EvidenceItem, ...]]:
        return await repository.timelines(self._conn, thread_ids, EVIDENCE_LINES)

    async def add_lines(self, lines: Sequence[Line]) -> None:
        await repository.add_to_timelines(self._conn, lines)

    async def active(self, thread_ids: Sequence[str]) -> dict[str, Escalation]:
        return await repository.active_escalations(self._conn, thread_ids)

    async def save_escalations(self, escalations: Sequence[Escalation]) -> None:
        await repository.save_escalations(self._conn, escalations)

    async def note_rating(self, rated: CustomerRated) -> bool:
        return await repository.note_rating(self._conn, rated)

    async def feedback_asked(self, thread_id: str) -> bool:
        return await repository.feedback_asked(self._conn, thread_id)

    async def mark_feedback_asked(self, thread_id: str, at: datetime) -> bool:
        return await repository.mark_feedback_asked(self._conn, thread_id, at)

    async def set_timers(self, due: Sequence[TimerSet]) -> None:
        await timers.set_timers(self._conn, self._schema, due)

    async def cancel_timers(self, subject: str) -> None:
        await timers.cancel_timers(self._conn, self._schema, subject)


@dataclass(slots=True)
class _Thread:
    """A thread's row as the batch sees it."""

    clock: ThreadClock
    terms: Terms
    feedback_asked_at: datetime | None
    changed: bool = False


@dataclass(slots=True)
class BatchStore:
    """The threads of a batch in memory (`load`), written back by `flush`."""

    conn: Connection
    schema: str
    threads: dict[str, _Thread]
    escalations: dict[str, Escalation]  # the active one of each thread, by thread
    named: tuple[str, ...] = ()  # the threads of the batch, in order
    # Their kept ratings, read when first needed (a rating, or feedback asked).
    ratings: dict[str, repository.Rating] | None = None
    _saved: dict[str, Escalation] = field(default_factory=dict)  # by id, first save first
    _rated: dict[str, repository.Rating] = field(default_factory=dict)
    _lines: list[Line] = field(default_factory=list)
    _read: dict[str, list[EvidenceItem]] = field(default_factory=dict)  # timelines read
    _cancelled: set[str] = field(default_factory=set)
    _timers: dict[tuple[str, str], datetime] = field(default_factory=dict)

    @classmethod
    async def load(cls, conn: Connection, schema: str, thread_ids: Sequence[str]) -> BatchStore:
        """The threads' timers, rows and active escalations, locked in that order as firing
        deadlines locks them (each in thread order, as another batch does)."""
        ordered = sorted(set(thread_ids))
        await repository.lock_timers(conn, ordered)
        rows = await repository.load_threads(conn, ordered)
        return cls(
            conn=conn,
            schema=schema,
            threads={t: _Thread(clock, terms, asked) for t, (clock, terms, asked) in rows.items()},
            escalations=await repository.active_escalations(conn, ordered),
            named=tuple(ordered),
        )

    async def clock(self, thread_id: str) -> ThreadClock | None:
        thread = self.threads.get(thread_id)
        return thread.clock if thread else None

    async def save_clock(self, clock: ThreadClock) -> None:
        clock = _in_utc(clock)
        thread = self.threads.get(clock.thread_id)
        if thread is None:
            self.threads[clock.thread_id] = _Thread(clock, Terms(), None, changed=True)
        else:
            # The row's first contact stays as stored (`repository.save_clock`).
            first = thread.clock.first_contact_at
            thread.clock = dataclasses.replace(clock, first_contact_at=first)
            thread.changed = True

    async def terms(self, thread_ids: Sequence[str]) -> dict[str, Terms]:
        return {
            t: thread.terms
            for t in thread_ids
            if (thread := self.threads.get(t))
            and (thread.terms.promise is not None or thread.terms.feasible_due_at is not None)
        }

    async def note_promise(
        self, thread_id: str, promise: PromiseInQuestion, feasible_due_at: datetime | None
    ) -> None:
        thread = self.threads.get(thread_id)
        if thread is not None:
            feasible = _utc(feasible_due_at) if feasible_due_at else thread.terms.feasible_due_at
            thread.terms = Terms(promise, feasible)
            thread.changed = True

    async def timelines(self, thread_ids: Sequence[str]) -> dict[str, tuple[EvidenceItem, ...]]:
        unread = [t for t in dict.fromkeys(thread_ids) if t not in self._read]
        if unread:
            stored = await repository.timelines(self.conn, unread, EVIDENCE_LINES)
            for thread_id in unread:
                self._read[thread_id] = list(stored.get(thread_id, ()))
                # Lines added by the batch before this read are newer than those stored.
                self._read[thread_id] += [
                    _item(line) for line in self._lines if line.thread_id == thread_id
                ]
        return {t: _latest(self._read[t]) for t in thread_ids if self._read.get(t)}

    async def add_lines(self, lines: Sequence[Line]) -> None:
        for line in lines:
            line = Line(line.thread_id, _utc(line.at), line.what[:2000], line.event_id)
            self._lines.append(line)
            if line.thread_id in self._read:
                self._read[line.thread_id].append(_item(line))

    async def active(self, thread_ids: Sequence[str]) -> dict[str, Escalation]:
        return {t: self.escalations[t] for t in thread_ids if t in self.escalations}

    async def save_escalations(self, escalations: Sequence[Escalation]) -> None:
        for escalation in escalations:
            escalation = _in_utc(escalation)
            self._saved[escalation.escalation_id] = escalation
            known = self.escalations.get(escalation.thread_id)
            if escalation.state is not State.RESOLVED:
                self.escalations[escalation.thread_id] = escalation
            elif known is not None and known.escalation_id == escalation.escalation_id:
                del self.escalations[escalation.thread_id]

    async def note_rating(self, rated: CustomerRated) -> bool:
        ratings = await self._ratings()
        kept = ratings.get(rated.thread_id)
        rating = repository.Rating(rated.rating, rated.revision, _utc(rated.rated_at))
        if kept is not None and (kept.revision, kept.rated_at) >= (
            rating.revision,
            rating.rated_at,
        ):
            return False
        ratings[rated.thread_id] = self._rated[rated.thread_id] = rating
        return True

    async def feedback_asked(self, thread_id: str) -> bool:
        thread = self.threads.get(thread_id)
        asked = thread is not None and thread.feedback_asked_at is not None
        return asked or thread_id in await self._ratings()

    async def _ratings(self) -> dict[str, repository.Rating]:
        if self.ratings is None:
            self.ratings = await repository.ratings(self.conn, self.named)
        return self.ratings

    async def mark_feedback_asked(self, thread_id: str, at: datetime) -> bool:
        thread = self.threads.get(thread_id)
        if thread is None or thread.feedback_asked_at is not None:
            return False
        thread.feedback_asked_at = _utc(at)
        thread.changed = True
        return True

    async def set_timers(self, due: Sequence[TimerSet]) -> None:
        for kind, subject, fire_at in due:
            self._timers[(kind, subject)] = fire_at

    async def cancel_timers(self, subject: str) -> None:
        self._cancelled.add(subject)
        for key in [key for key in self._timers if key[1] == subject]:
            del self._timers[key]

    async def flush(self) -> None:
        """What the batch changed, with one statement per table (rows in thread order)."""
        changed = sorted((t for t in self.threads.values() if t.changed), key=_thread_id)
        await repository.save_threads(
            self.conn, [(t.clock, t.terms, t.feedback_asked_at) for t in changed]
        )
        await repository.save_ratings(self.conn, sorted(self._rated.items()))
        await repository.save_escalations(self.conn, list(self._saved.values()))
        await repository.add_to_timelines(self.conn, self._lines)
        await repository.cancel_timers(self.conn, sorted(self._cancelled))
        await timers.set_timers(
            self.conn,
            self.schema,
            [(kind, subject, at) for (kind, subject), at in sorted(self._timers.items())],
        )


def _thread_id(thread: _Thread) -> str:
    return thread.clock.thread_id


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _in_utc(value: _D) -> _D:
    """`value` with its times in UTC, as read back from the database."""
    times: dict[str, Any] = {
        f.name: _utc(v)
        for f in dataclasses.fields(value)
        if isinstance(v := getattr(value, f.name), datetime)
    }
    return dataclasses.replace(value, **times)


def _item(line: Line) -> EvidenceItem:
    return EvidenceItem(at=line.at, what=line.what, event_id=line.event_id)


def _latest(items: list[EvidenceItem]) -> tuple[EvidenceItem, ...]:
    """The latest `EVIDENCE_LINES`, oldest first: by time, then in the order written."""
    ordered = sorted(items, key=lambda item: item.at)  # stable: the order written breaks ties
    return tuple(ordered[-EVIDENCE_LINES:])
