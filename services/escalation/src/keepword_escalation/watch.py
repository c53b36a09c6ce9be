"""What escalation does with each event and each deadline: load the thread, apply the rules
(`rules`, `escalations`, `clocks`), save what they decided and publish it (`announcements`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
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
from .rules import REPLY_DUE, REPLY_WARN, Ask, escalation_id_for, who
from .tone import is_non_decision_in_time, read_customer_message_in_time

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
    on(MessageReceived, lambda watch, conn, e: watch._customer_wrote(conn, e.data, e.id)),
    on(ReplySent, lambda watch, conn, e: watch._staff_replied(conn, e.data, e.id)),
    on(CommitmentStatusChanged, lambda watch, conn, e: watch._promise_moved(conn, e.data, e.id)),
    on(CustomerRated, lambda watch, conn, e: watch._customer_rated(conn, e.data, e.id)),
)
"""What escalation watches: messages, replies, the ledger's changes and customers' ratings."""


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
        """One input event."""
        return await INPUTS.handle(self, conn, envelope)

    async def _customer_wrote(self, conn: Connection, m: MessageReceived, event_id: str) -> Caused:
        config = self._company()
        before = await repository.load_clock(conn, m.thread_id)
        clock = clocks.customer_wrote(
            before,
            thread_id=m.thread_id,
            customer=m.customer,
            deposit=m.deposit,
            at=m.received_at,
            sla=ReplySla.of(config.sla),
            due_in=business_due_in(config),
        )
        await repository.save_clock(conn, clock)
        await repository.add_to_timeline(
            conn,
            m.thread_id,
            m.received_at,
            f"Customer wrote ({clock.unanswered} unanswered): {m.subject or '(no subject)'}"
            if m.sender_verified
            else rules.unverified_line(m.author.email),
            event_id,
        )
        if clock.unanswered == 1 and clock.reply_due_at and clock.warn_at:
            await timers.set_timer(conn, SCHEMA, REPLY_WARN, m.thread_id, clock.warn_at)
            await timers.set_timer(conn, SCHEMA, REPLY_DUE, m.thread_id, clock.reply_due_at)
        reading = await read_customer_message_in_time(
            m.subject, m.body, thread_id=m.thread_id, event_id=event_id
        )
        asks = rules.message_asks(
            clock,
            difficult=reading.reasons if reading.difficult else None,
            max_unanswered_followups=config.sla.max_unanswered_followups,
            at=m.received_at,
            event_id=event_id,
        )
        return await self._escalate(conn, asks)

    async def _staff_replied(self, conn: Connection, r: ReplySent, event_id: str) -> Caused:
        if not r.sender_verified:
            # Intake publishes unproven staff mail as a customer's message; a reply flagged so
            # anyway settles no wait and decides nothing (defence in depth).
            await repository.add_to_timeline(
                conn, r.thread_id, r.sent_at, rules.unverified_line(r.author.email), event_id
            )
            return []
        active = await repository.active_escalation(conn, r.thread_id)
        if r.author.role is Role.MANAGEMENT and await is_non_decision_in_time(
            r.body, thread_id=r.thread_id, event_id=event_id
        ):
            await repository.add_to_timeline(
                conn, r.thread_id, r.sent_at, f"{who(r.author)} replied without deciding", event_id
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
            return await self._decided(conn, delegated, r.author, "said: handle it", event_id)
        clock = await repository.load_clock(conn, r.thread_id)
        if not r.reached_the_customer:
            return []  # an automatic acknowledgement, or an internal note: not a reply
        if clock is not None:
            clock = clocks.person_replied(clock, at=r.sent_at)
            await repository.save_clock(conn, clock)
            await timers.cancel_timers(conn, SCHEMA, r.thread_id)
            await self._ask_when_quiet(conn, clock)
        how = "called the customer" if r.channel is Channel.PHONE else "replied to the customer"
        await repository.add_to_timeline(
            conn, r.thread_id, r.sent_at, f"{who(r.author)} {how}", event_id
        )
        if active is not None and rules.settles(active, r.channel, r.sent_at):
            return await self._resolve(conn, active, f"{who(r.author)} {how}", event_id)
        return []

    async def _promise_moved(
        self, conn: Connection, c: CommitmentStatusChanged, event_id: str
    ) -> Caused:
        what = rules.promise_gap(c)
        if what is None:
            return []
        await repository.add_to_timeline(conn, c.thread_id, c.changed_at, what, event_id)
        clock = await repository.load_clock(conn, c.thread_id)
        if clock is None:  # a promise on a thread we have not seen a message of yet
            clock = ThreadClock(thread_id=c.thread_id, customer=c.customer or Customer())
            await repository.save_clock(conn, clock)
        # Noted after the row exists: topics are not ordered.
        await repository.note_promise(conn, c.thread_id, rules.in_question(c), c.feasible_due_at)
        return await self._escalate(conn, [rules.gap_ask(clock, c, what, event_id)])

    async def _customer_rated(
        self, conn: Connection, rated: CustomerRated, event_id: str
    ) -> Caused:
        if not await repository.note_rating(conn, rated):
            return []  # an older revision, read after a newer one
        await repository.add_to_timeline(
            conn, rated.thread_id, rated.rated_at, feedback.rating_line(rated), event_id
        )
        low_at_most = self._company().feedback.low_at_most
        active = await repository.active_escalation(conn, rated.thread_id)
        if feedback.withdrawn(active, rated, low_at_most=low_at_most):
            assert active is not None
            what = f"the customer changed their rating to {rated.rating}"
            return await self._resolve(conn, active, what, event_id)
        clock = await repository.load_clock(conn, rated.thread_id)
        if clock is None:  # a rating of a thread we have not seen a message of
            clock = ThreadClock(thread_id=rated.thread_id, customer=Customer())
            await repository.save_clock(conn, clock)
        ask = feedback.unhappy_ask(clock, rated, low_at_most=low_at_most, event_id=event_id)
        return await self._escalate(conn, [ask] if ask else [])

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
        caused: Caused = []
        for timer in due:
            if timer.kind == DECISION_DUE:
                caused += await self._decision_due(conn, timer.subject, now)
            elif timer.kind == FEEDBACK_ASK:
                caused += await self._ask_feedback(
                    conn, timer.subject, FeedbackOccasion.ANSWERED, now=now
                )
        replies = [t for t in due if t.kind in (REPLY_WARN, REPLY_DUE)]
        waiting = await repository.load_clocks(conn, [t.subject for t in replies])
        overdue = rules.replies_overdue([(t.kind, waiting.get(t.subject)) for t in replies], now)
        caused += [announcements.warned(w) for w in overdue.warnings]
        await repository.add_to_timelines(conn, overdue.lines)
        return caused + await self._escalate(conn, overdue.stalls, at=now)

    async def _decision_due(self, conn: Connection, escalation_id: str, now: datetime) -> Caused:
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
        await repository.save_escalation(conn, raised)
        await timers.set_timer(conn, SCHEMA, DECISION_DUE, raised.escalation_id, raised.decide_by)
        await repository.add_to_timeline(conn, raised.thread_id, now, raise_.line, None)
        clock = await repository.load_clock(conn, raised.thread_id)
        terms = await repository.terms(conn, [raised.thread_id])
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
        return await self._decided(conn, decided, by, f"chose {option.value}", None, note=note)

    async def _decided(
        self,
        conn: Connection,
        decided: Escalation,
        by: Person,
        what: str,
        causation_id: str | None,
        *,
        note: str | None = None,
    ) -> Caused:
        now = self._now()
        await repository.save_escalation(conn, decided)
        await repository.add_to_timeline(
            conn, decided.thread_id, now, f"{who(by)} {what}", causation_id
        )
        caused: Caused = [announcements.decided(decided, by, note, causation_id)]
        if decided.state is State.DELEGATED:
            await timers.set_timer(
                conn, SCHEMA, DECISION_DUE, decided.escalation_id, decided.decide_by
            )
        else:
            await timers.cancel_timers(conn, SCHEMA, decided.escalation_id)
        if escalations.resolved_by_decision(decided):
            caused += await self._resolve(conn, decided, f"{who(by)} {what}", causation_id)
        return caused

    # ----- shared -------------------------------------------------------------------------

    async def _escalate(
        self, conn: Connection, asks: Sequence[Ask], *, at: datetime | None = None
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
            evidence=await repository.timelines(conn, thread_ids),
            active=await repository.active_escalations(conn, thread_ids),
            terms=await repository.terms(conn, thread_ids),
            manager=chain[0],
            at=at or self._now(),
            decision_time=config.sla.manager_decision,
            new_id=lambda: f"esc-{uuid.uuid4().hex[:20]}",
        )
        await repository.save_escalations(conn, done.saved)
        await timers.set_timers(
            conn,
            SCHEMA,
            [
                (DECISION_DUE, o.escalation.escalation_id, o.escalation.decide_by)
                for o in done.opened
            ],
        )
        await repository.add_to_timelines(conn, done.lines)
        manager = rules.person(chain[0])
        return [announcements.opened(o, manager) for o in done.opened]

    async def _resolve(
        self, conn: Connection, escalation: Escalation, resolution: str, causation_id: str | None
    ) -> Caused:
        await repository.save_escalation(conn, escalations.resolve(escalation))
        await timers.cancel_timers(conn, SCHEMA, escalation.escalation_id)
        await repository.add_to_timeline(
            conn, escalation.thread_id, self._now(), f"Resolved: {resolution}", causation_id
        )
        resolved = announcements.resolved(escalation, resolution, causation_id)
        return [resolved, *await self._ask_feedback(conn, escalation.thread_id)]

    # ----- asking for feedback -------------------------------------------------------------

    async def _ask_when_quiet(self, conn: Connection, clock: ThreadClock) -> None:
        """An answered thread: ask the customer once it has stayed quiet long enough."""
        config = self._company().feedback
        at = feedback.quiet_from(clock, config.ask_after) if config.enabled else None
        if at is not None and not await repository.feedback_asked(conn, clock.thread_id):
            await timers.set_timer(conn, SCHEMA, FEEDBACK_ASK, clock.thread_id, at)

    async def _ask_feedback(
        self,
        conn: Connection,
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
        clock = await repository.load_clock(conn, thread_id)
        may = feedback.may_ask(
            clock,
            active=await repository.active_escalation(conn, thread_id),
            asked=await repository.feedback_asked(conn, thread_id),
            occasion=occasion,
            now=now,
            ask_after=config.ask_after,
        )
        if (
            clock is None
            or not may
            or not await repository.mark_feedback_asked(conn, thread_id, now)
        ):
            return []
        await repository.add_to_timeline(
            conn, thread_id, now, "Asked the customer how well we kept our word", None
        )
        return [feedback.request(clock, occasion, now)]
