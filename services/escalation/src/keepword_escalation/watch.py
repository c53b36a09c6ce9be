"""What escalation does with its input events and deadlines: load the threads, apply the rules
(`rules`, `escalations`, `clocks`), save what they decided and publish it (`announcements`).

Input events come in consumed batches: the threads a batch names are loaded and locked in a few
statements, its events folded over them in record order, and what changed written back with one
statement per table (`store.BatchStore`); a single event is a batch of one. Deadlines and
managers' decisions read and write the database directly (`store.DirectStore`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from keepword_events import (
    Channel,
    CommitmentStatusChanged,
    Customer,
    CustomerRated,
    Envelope,
    Event,
    FeedbackOccasion,
    MessageReceived,
    OptionKind,
    Person,
    ReplySent,
    Role,
)
from keepword_platform.company import CompanyConfig
from keepword_platform.database import Connection
from keepword_platform.messaging import timers
from keepword_platform.messaging.inputs import Inputs, on
from keepword_platform.reply_deadline import ReplySla, business_due_in

from . import announcements, clocks, escalations, feedback, repository, rules
from .clocks import ThreadClock
from .escalations import Escalation, State
from .feedback import FEEDBACK_ASK
from .rules import REPLY_DUE, REPLY_WARN, Ask, Line, escalation_id_for, who
from .store import BatchStore, DirectStore, Store
from .tone import is_non_decision_in_time, read_customer_message_in_time
from .tone.readings import ToneReading

__all__ = [
    "DECISION_DUE",
    "FEEDBACK_ASK",
    "INPUTS",
    "REPLY_DUE",
    "REPLY_WARN",
    "SCHEMA",
    "SOURCE",
    "Watch",
    "escalation_id_for",
]

SCHEMA = "escalation"
SOURCE = "/keepword/escalation"
DECISION_DUE = "decision_due"

Caused = list[Event]


INPUTS: Inputs[Watch] = Inputs(
    on(MessageReceived, lambda watch, conn, e: watch.on_events(conn, [e])),
    on(ReplySent, lambda watch, conn, e: watch.on_events(conn, [e])),
    on(CommitmentStatusChanged, lambda watch, conn, e: watch.on_events(conn, [e])),
    on(CustomerRated, lambda watch, conn, e: watch.on_events(conn, [e])),
)
"""What escalation watches: messages, replies, the ledger's changes and customers' ratings
(each alone a batch of one)."""


@dataclass(frozen=True, slots=True)
class _Readings:
    """What the tone readers made of a batch's texts, by event id (read before any lock)."""

    messages: dict[str, ToneReading]
    non_decisions: dict[str, bool]


class Watch:
    """Thread clocks, the rules that open or raise escalations, and decisions."""

    def __init__(
        self, company: Callable[[], CompanyConfig], clock: Callable[[], datetime] | None = None
    ) -> None:
        self._company = company
        self._now = clock or (lambda: datetime.now(UTC))

    # ----- inputs -------------------------------------------------------------------------

    async def on_event(
        self, conn: Connection, envelope: Envelope[Event]
    ) -> Sequence[Event | Envelope[Event]]:
        """One input event: a batch of one."""
        return await INPUTS.handle(self, conn, envelope)

    async def on_events(
        self, conn: Connection, envelopes: Sequence[Envelope[Event]]
    ) -> Sequence[Event | Envelope[Event]]:
        """A batch of input events, in the order of their records: the threads they name loaded
        and locked in a few statements (`BatchStore`), the events folded over them in order by
        the same steps as one by one, and what changed written back with one statement per
        table. When it fails the consumer redoes the batch event by event (a batch of one each)."""
        readings = await _read(envelopes)
        store = await BatchStore.load(conn, SCHEMA, [_thread_of(e.data) for e in envelopes])
        caused: Caused = []
        for envelope in envelopes:
            caused += await self._step(store, envelope, readings)
        await store.flush()
        return caused

    async def _step(self, store: Store, envelope: Envelope[Event], readings: _Readings) -> Caused:
        match envelope.data:
            case MessageReceived() as m:
                return await self._customer_wrote(store, m, envelope.id, readings)
            case ReplySent() as r:
                return await self._staff_replied(store, r, envelope.id, readings)
            case CommitmentStatusChanged() as c:
                return await self._promise_moved(store, c, envelope.id)
            case CustomerRated() as rated:
                return await self._customer_rated(store, rated, envelope.id)
        return []

    async def _customer_wrote(
        self, store: Store, m: MessageReceived, event_id: str, readings: _Readings
    ) -> Caused:
        config = self._company()
        before = await store.clock(m.thread_id)
        clock = clocks.customer_wrote(
            before,
            thread_id=m.thread_id,
            customer=m.customer,
            deposit=m.deposit,
            at=m.received_at,
            sla=ReplySla.of(config.sla),
            due_in=business_due_in(config),
        )
        await store.save_clock(clock)
        await _line(
            store,
            m.thread_id,
            m.received_at,
            f"Customer wrote ({clock.unanswered} unanswered): {m.subject or '(no subject)'}"
            if m.sender_verified
            else rules.unverified_line(m.author.email),
            event_id,
        )
        if clock.unanswered == 1 and clock.reply_due_at and clock.warn_at:
            await store.set_timers(
                [
                    (REPLY_WARN, m.thread_id, clock.warn_at),
                    (REPLY_DUE, m.thread_id, clock.reply_due_at),
                ]
            )
        reading = readings.messages[event_id]
        asks = rules.message_asks(
            clock,
            difficult=reading.reasons if reading.difficult else None,
            max_unanswered_followups=config.sla.max_unanswered_followups,
            at=m.received_at,
            event_id=event_id,
        )
        return await self._escalate(store, asks)

    async def _staff_replied(
        self, store: Store, r: ReplySent, event_id: str, readings: _Readings
    ) -> Caused:
        if not r.sender_verified:
            # Intake publishes unproven staff mail as a customer's message; a reply flagged so
            # anyway settles no wait and decides nothing (defence in depth).
            await _line(
                store, r.thread_id, r.sent_at, rules.unverified_line(r.author.email), event_id
            )
            return []
        active = (await store.active([r.thread_id])).get(r.thread_id)
        if readings.non_decisions.get(event_id, False):
            await _line(
                store, r.thread_id, r.sent_at, f"{who(r.author)} replied without deciding", event_id
            )
            option = rules.delegation(active, str(r.author.email))
            if active is None or option is None:
                return []
            delegated = escalations.decide(
                active,
                option=option,
                by=str(r.author.email),
                at=r.sent_at,
                decision_time=self._company().sla.manager_decision,
            )
            return await self._decided(store, delegated, r.author, "said: handle it", event_id)
        clock = await store.clock(r.thread_id)
        if not r.reached_the_customer:
            return []  # an automatic acknowledgement, or an internal note: not a reply
        if clock is not None:
            clock = clocks.person_replied(clock, at=r.sent_at)
            await store.save_clock(clock)
            await store.cancel_timers(r.thread_id)
            await self._ask_when_quiet(store, clock)
        how = "called the customer" if r.channel is Channel.PHONE else "replied to the customer"
        await _line(store, r.thread_id, r.sent_at, f"{who(r.author)} {how}", event_id)
        if active is not None and rules.settles(active, r.channel, r.sent_at):
            return await self._resolve(store, active, f"{who(r.author)} {how}", event_id)
        return []

    async def _promise_moved(
        self, store: Store, c: CommitmentStatusChanged, event_id: str
    ) -> Caused:
        what = rules.promise_gap(c)
        if what is None:
            return []
        await _line(store, c.thread_id, c.changed_at, what, event_id)
        clock = await store.clock(c.thread_id)
        if clock is None:  # a promise on a thread we have not seen a message of yet
            clock = ThreadClock(thread_id=c.thread_id, customer=c.customer or Customer())
            await store.save_clock(clock)
        # Noted after the row exists: topics are not ordered.
        await store.note_promise(c.thread_id, rules.in_question(c), c.feasible_due_at)
        return await self._escalate(store, [rules.gap_ask(clock, c, what, event_id)])

    async def _customer_rated(self, store: Store, rated: CustomerRated, event_id: str) -> Caused:
        if not await store.note_rating(rated):
            return []  # an older revision, read after a newer one
        await _line(store, rated.thread_id, rated.rated_at, feedback.rating_line(rated), event_id)
        low_at_most = self._company().feedback.low_at_most
        active = (await store.active([rated.thread_id])).get(rated.thread_id)
        if feedback.withdrawn(active, rated, low_at_most=low_at_most):
            assert active is not None
            what = f"the customer changed their rating to {rated.rating}"
            return await self._resolve(store, active, what, event_id)
        clock = await store.clock(rated.thread_id)
        if clock is None:  # a rating of a thread we have not seen a message of
            clock = ThreadClock(thread_id=rated.thread_id, customer=Customer())
            await store.save_clock(clock)
        ask = feedback.unhappy_ask(clock, rated, low_at_most=low_at_most, event_id=event_id)
        return await self._escalate(store, [ask] if ask else [])

    # ----- deadlines ----------------------------------------------------------------------

    async def on_timer(self, conn: Connection, timer: timers.Timer) -> Sequence[Event]:
        """A reply warning, a reply deadline or a manager's decision time passed."""
        return await self.on_timers(conn, [timer])

    async def on_timers(self, conn: Connection, due: Sequence[timers.Timer]) -> Sequence[Event]:
        """Deadlines that fell due, as one batch: a few round trips for the whole batch.

        Thousands of reply deadlines can fall due at once (a Monday morning): the clocks, the
        timelines and the active escalations of the batch are read in one query each, and what
        the batch causes is written in one statement per table. Fired ahead of time (the
        platform's `prepare_due`), the batch is handled as of when its deadlines fall due.
        """
        now = max(self._now(), *(t.fire_at for t in due)) if due else self._now()
        store = DirectStore(conn, SCHEMA)
        caused: Caused = []
        for timer in due:
            if timer.kind == DECISION_DUE:
                caused += await self._decision_due(conn, store, timer.subject, now)
            elif timer.kind == FEEDBACK_ASK:
                caused += await self._ask_feedback(
                    store, timer.subject, FeedbackOccasion.ANSWERED, now=now
                )
        replies = [t for t in due if t.kind in (REPLY_WARN, REPLY_DUE)]
        waiting = await repository.load_clocks(conn, [t.subject for t in replies])
        overdue = rules.replies_overdue([(t.kind, waiting.get(t.subject)) for t in replies], now)
        caused += [announcements.warned(w) for w in overdue.warnings]
        await repository.add_to_timelines(conn, overdue.lines)
        return caused + await self._escalate(store, overdue.stalls, at=now)

    async def _decision_due(
        self, conn: Connection, store: Store, escalation_id: str, now: datetime
    ) -> Caused:
        escalation = await repository.load_escalation(conn, escalation_id)
        if escalation is None or not escalations.needs_raising(escalation, now):
            return []
        config = self._company()
        policy = escalations.ReminderPolicy(
            config.sla.manager_decision, config.sla.manager_reminder_max
        )
        raise_ = rules.raise_up(
            escalation,
            chain=config.management_chain(),
            at=now,
            policy=policy,
            evidence=await repository.timeline(conn, escalation.thread_id),
        )
        if raise_ is None:
            return []
        raised = raise_.escalation
        await store.save_escalations([raised])
        await store.set_timers([(DECISION_DUE, raised.escalation_id, raised.decide_by)])
        await _line(store, raised.thread_id, now, raise_.line, None)
        clock = await store.clock(raised.thread_id)
        terms = await store.terms([raised.thread_id])
        promise = terms.get(raised.thread_id, rules.NO_TERMS).promise
        return [announcements.raised(raise_, clock, promise)]

    # ----- decisions ----------------------------------------------------------------------

    async def decide(
        self, conn: Connection, escalation_id: str, option: OptionKind, by: Person, note: str | None
    ) -> Caused:
        """A manager (or an internal tool acting for one) picks an option.

        Raises DecisionRefused (its `why` says which) when there is no such escalation or the
        decision policy (`escalations.refusal`) refuses it.
        """
        escalation = await repository.load_escalation(conn, escalation_id)
        if escalation is None:
            raise escalations.DecisionRefused(
                f"no escalation {escalation_id}", escalations.Refusal.UNKNOWN
            )
        refused = escalations.refusal(escalation, option=option.value, by=str(by.email))
        if refused is not None:
            raise refused
        decided = escalations.decide(
            escalation,
            option=option,
            by=str(by.email),
            at=self._now(),
            decision_time=self._company().sla.manager_decision,
        )
        store = DirectStore(conn, SCHEMA)
        return await self._decided(store, decided, by, f"chose {option.value}", None, note=note)

    async def _decided(
        self,
        store: Store,
        decided: Escalation,
        by: Person,
        what: str,
        causation_id: str | None,
        *,
        note: str | None = None,
    ) -> Caused:
        now = self._now()
        await store.save_escalations([decided])
        await _line(store, decided.thread_id, now, f"{who(by)} {what}", causation_id)
        caused: Caused = [announcements.decided(decided, by, note, causation_id)]
        if decided.state is State.DELEGATED:
            await store.set_timers([(DECISION_DUE, decided.escalation_id, decided.decide_by)])
        else:
            await store.cancel_timers(decided.escalation_id)
        if escalations.resolved_by_decision(decided):
            caused += await self._resolve(store, decided, f"{who(by)} {what}", causation_id)
        return caused

    # ----- shared -------------------------------------------------------------------------

    async def _escalate(
        self, store: Store, asks: Sequence[Ask], *, at: datetime | None = None
    ) -> Caused:
        """What the asks call for (`rules.escalate`: one escalation per thread), saved; `at`
        is the time of the escalations opened (by default, now)."""
        if not asks:
            return []
        config = self._company()
        chain = config.management_chain()
        if not chain:
            raise RuntimeError("no management chain configured: [[people]] with level = 1")
        thread_ids = sorted({ask.clock.thread_id for ask in asks})
        done = rules.escalate(
            asks,
            evidence=await store.timelines(thread_ids),
            active=await store.active(thread_ids),
            terms=await store.terms(thread_ids),
            manager=chain[0],
            at=at or self._now(),
            decision_time=config.sla.manager_decision,
            new_id=lambda: f"esc-{uuid.uuid4().hex[:20]}",
        )
        await store.save_escalations(done.saved)
        await store.set_timers(
            [
                (DECISION_DUE, o.escalation.escalation_id, o.escalation.decide_by)
                for o in done.opened
            ]
        )
        await store.add_lines(done.lines)
        manager = rules.person(chain[0])
        return [announcements.opened(o, manager) for o in done.opened]

    async def _resolve(
        self, store: Store, escalation: Escalation, resolution: str, causation_id: str | None
    ) -> Caused:
        await store.save_escalations([escalations.resolve(escalation)])
        await store.cancel_timers(escalation.escalation_id)
        await _line(
            store, escalation.thread_id, self._now(), f"Resolved: {resolution}", causation_id
        )
        resolved = announcements.resolved(escalation, resolution, causation_id)
        return [resolved, *await self._ask_feedback(store, escalation.thread_id)]

    # ----- asking for feedback -------------------------------------------------------------

    async def _ask_when_quiet(self, store: Store, clock: ThreadClock) -> None:
        """An answered thread: ask the customer once it has stayed quiet long enough."""
        config = self._company().feedback
        at = feedback.quiet_from(clock, config.ask_after) if config.enabled else None
        if at is not None and not await store.feedback_asked(clock.thread_id):
            await store.set_timers([(FEEDBACK_ASK, clock.thread_id, at)])

    async def _ask_feedback(
        self,
        store: Store,
        thread_id: str,
        occasion: FeedbackOccasion = FeedbackOccasion.RESOLVED,
        *,
        now: datetime | None = None,
    ) -> Caused:
        """Ask the customer how well we kept our word, if `feedback.may_ask` `now` (once)."""
        config = self._company().feedback
        if not config.enabled:
            return []
        now = now or self._now()
        clock = await store.clock(thread_id)
        may = feedback.may_ask(
            clock,
            active=(await store.active([thread_id])).get(thread_id),
            asked=await store.feedback_asked(thread_id),
            occasion=occasion,
            now=now,
            ask_after=config.ask_after,
        )
        if clock is None or not may or not await store.mark_feedback_asked(thread_id, now):
            return []
        await _line(store, thread_id, now, "Asked the customer how well we kept our word", None)
        return [feedback.request(clock, occasion, now)]


async def _line(
    store: Store, thread_id: str, at: datetime, what: str, event_id: str | None
) -> None:
    await store.add_lines([Line(thread_id, at, what, event_id)])


def _thread_of(event: Event) -> str:
    match event:
        case MessageReceived() | ReplySent() | CommitmentStatusChanged() | CustomerRated():
            return event.thread_id
    raise TypeError(f"escalation does not watch {type(event).__name__}")


async def _read(envelopes: Sequence[Envelope[Event]]) -> _Readings:
    """The tone readings the batch's steps need: each customer's message, and whether each
    verified manager's reply decides anything."""
    messages: dict[str, ToneReading] = {}
    non_decisions: dict[str, bool] = {}
    for e in envelopes:
        match e.data:
            case MessageReceived(subject=subject, body=body, thread_id=thread_id):
                messages[e.id] = await read_customer_message_in_time(
                    subject, body, thread_id=thread_id, event_id=e.id
                )
            case ReplySent(sender_verified=True, author=author, body=body, thread_id=thread_id):
                if author.role is Role.MANAGEMENT:
                    non_decisions[e.id] = await is_non_decision_in_time(
                        body, thread_id=thread_id, event_id=e.id
                    )
    return _Readings(messages, non_decisions)
