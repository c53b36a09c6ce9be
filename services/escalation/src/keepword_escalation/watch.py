"""What escalation does with each event and each deadline (the I/O around the pure rules)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from keepword_events import (
    Channel,
    CommitmentStatus,
    CommitmentStatusChanged,
    Customer,
    Envelope,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    EscalationRule,
    EscalationWarned,
    Event,
    MessageReceived,
    OptionKind,
    Person,
    PromiseInQuestion,
    ReplySent,
    Role,
)
from keepword_platform.business_hours import add_business_time, calendar_for
from keepword_platform.company import CompanyConfig, PersonEntry
from keepword_platform.database import Connection
from keepword_platform.messaging import timers

from . import clocks, escalations, repository
from .clocks import ReplySla, ThreadClock
from .escalations import Escalation, State
from .tone import is_non_decision_in_time, read_customer_message_in_time

SCHEMA = "escalation"
SOURCE = "/keepword/escalation"
REPLY_WARN = "reply_warn"
REPLY_DUE = "reply_due"
DECISION_DUE = "decision_due"
PROMISE_GAP = frozenset(
    {CommitmentStatus.REJECTED, CommitmentStatus.COUNTERED, CommitmentStatus.BROKEN}
)
NO_TERMS = repository.Terms()
_IDS = uuid.UUID("0b9e8f51-2a44-4d55-9d0c-5c3e7b1f2a66")

Caused = list[Event]


def wants(envelope: Envelope[Event]) -> bool:
    """Escalation watches messages, replies and the ledger's changes."""
    return isinstance(envelope.data, MessageReceived | ReplySent | CommitmentStatusChanged)


def escalation_id_for(thread_id: str, since: datetime) -> str:
    """Stable id of the escalation a wait would open: its warning and opening share it."""
    return f"esc-{uuid.uuid5(_IDS, f'{thread_id}:{since.isoformat()}').hex[:20]}"


class Watch:
    """Thread clocks, the rules that open or raise escalations, and decisions."""

    def __init__(
        self, company: Callable[[], CompanyConfig], clock: Callable[[], datetime] | None = None
    ) -> None:
        self._company = company
        self._now = clock or (lambda: datetime.now(UTC))

    # ----- inputs -------------------------------------------------------------------------

    async def on_event(self, conn: Connection, envelope: Envelope[Event]) -> Sequence[Event]:
        """One input event."""
        data = envelope.data
        if isinstance(data, MessageReceived):
            return await self._customer_wrote(conn, data, envelope.id)
        if isinstance(data, ReplySent):
            return await self._staff_replied(conn, data, envelope.id)
        if isinstance(data, CommitmentStatusChanged):
            return await self._promise_moved(conn, data, envelope.id)
        return []

    async def _customer_wrote(self, conn: Connection, m: MessageReceived, event_id: str) -> Caused:
        config = self._company()
        before = await repository.load_clock(conn, m.thread_id)
        clock = clocks.customer_wrote(
            before,
            thread_id=m.thread_id,
            customer=m.customer,
            deposit=m.deposit,
            at=m.received_at,
            sla=self._reply_sla(),
            due_in=self._due_in(),
        )
        await repository.save_clock(conn, clock)
        await repository.add_to_timeline(
            conn,
            m.thread_id,
            m.received_at,
            f"Customer wrote ({clock.unanswered} unanswered): {m.subject or '(no subject)'}",
            event_id,
        )
        if clock.unanswered == 1 and clock.reply_due_at and clock.warn_at:
            await timers.set_timer(conn, SCHEMA, REPLY_WARN, m.thread_id, clock.warn_at)
            await timers.set_timer(conn, SCHEMA, REPLY_DUE, m.thread_id, clock.reply_due_at)
        asks: list[Ask] = []
        if clocks.too_many_follow_ups(clock, config.sla.max_unanswered_followups):
            deposit = " (deposit paid)" if clock.deposit else ""
            asks.append(
                Ask(
                    clock,
                    EscalationRule.REPEATED_CONTACT,
                    f"The customer wrote {clock.unanswered} times without an answer{deposit}.",
                    caused_at=m.received_at,
                    causation_id=event_id,
                )
            )
        reading = await read_customer_message_in_time(
            m.subject, m.body, thread_id=m.thread_id, event_id=event_id
        )
        if reading.difficult:
            asks.append(
                Ask(
                    clock,
                    EscalationRule.DIFFICULT_CONVERSATION,
                    f"A difficult conversation ({', '.join(reading.reasons)}): "
                    "call rather than email.",
                    caused_at=m.received_at,
                    causation_id=event_id,
                )
            )
        return await self._escalate(conn, asks)

    async def _staff_replied(self, conn: Connection, r: ReplySent, event_id: str) -> Caused:
        active = await repository.active_escalation(conn, r.thread_id)
        if r.author.role is Role.MANAGEMENT and await is_non_decision_in_time(
            r.body, thread_id=r.thread_id, event_id=event_id
        ):
            await repository.add_to_timeline(
                conn, r.thread_id, r.sent_at, f"{_who(r.author)} replied without deciding", event_id
            )
            if active is None or active.state is State.RESOLVED:
                return []
            delegated = escalations.decide(
                active,
                option=OptionKind.HANDLE_IT,
                by=str(r.author.email),
                at=r.sent_at,
                decision_time=self._company().sla.manager_decision,
            )
            return await self._decided(conn, delegated, r.author, "said: handle it", event_id)
        clock = await repository.load_clock(conn, r.thread_id)
        if not r.reached_the_customer:
            return []  # an automatic acknowledgement, or an internal note: not a reply
        if clock is not None:
            await repository.save_clock(conn, clocks.person_replied(clock, at=r.sent_at))
            await timers.cancel_timers(conn, SCHEMA, r.thread_id)
        how = "called the customer" if r.channel is Channel.PHONE else "replied to the customer"
        await repository.add_to_timeline(
            conn, r.thread_id, r.sent_at, f"{_who(r.author)} {how}", event_id
        )
        if active is not None and _settles(active, r.channel, r.sent_at):
            return await self._resolve(conn, active, f"{_who(r.author)} {how}", event_id)
        return []

    async def _promise_moved(
        self, conn: Connection, c: CommitmentStatusChanged, event_id: str
    ) -> Caused:
        gap = c.status in PROMISE_GAP or (c.at_risk and c.status not in {CommitmentStatus.KEPT})
        if not gap:
            return []
        words = c.text[:120].rstrip(" .!;,")
        what = f"Promise '{words}' is {c.status.value}" + (" and at risk" if c.at_risk else "")
        if c.production_note:
            what += f"; production: {c.production_note[:200].rstrip(' .!;,')}"
        await repository.add_to_timeline(conn, c.thread_id, c.changed_at, what, event_id)
        clock = await repository.load_clock(conn, c.thread_id)
        if clock is None:  # a promise on a thread we have not seen a message of yet
            clock = ThreadClock(thread_id=c.thread_id, customer=c.customer or Customer())
            await repository.save_clock(conn, clock)
        # Noted after the row exists: topics are not ordered.
        in_question = PromiseInQuestion(
            commitment_id=c.commitment_id,
            text=c.text,
            made_by=c.made_by,
            production_note=c.production_note,
        )
        await repository.note_promise(conn, c.thread_id, in_question, c.feasible_due_at)
        return await self._escalate(
            conn,
            [
                Ask(
                    clock,
                    EscalationRule.PROMISE_GAP,
                    f"{what}, while the customer still believes it.",
                    caused_at=c.changed_at,
                    causation_id=event_id,
                )
            ],
        )

    # ----- deadlines ----------------------------------------------------------------------

    async def on_timer(self, conn: Connection, timer: timers.Timer) -> Sequence[Event]:
        """A reply warning, a reply deadline or a manager's decision time passed."""
        return await self.on_timers(conn, [timer])

    async def on_timers(self, conn: Connection, due: Sequence[timers.Timer]) -> Sequence[Event]:
        """Deadlines that fell due, as one batch: a few round trips for the whole batch.

        Thousands of reply deadlines can fall due at once (a Monday morning): the clocks, the
        timelines and the active escalations of the batch are read in one query each, and what
        the batch causes is written in one statement per table.
        """
        now = self._now()
        caused: Caused = []
        for timer in due:
            if timer.kind == DECISION_DUE:
                caused += await self._decision_due(conn, timer.subject, now)
        replies = [t for t in due if t.kind in (REPLY_WARN, REPLY_DUE)]
        waiting = await repository.load_clocks(conn, [t.subject for t in replies])
        lines: list[repository.Line] = []
        stalls: list[Ask] = []
        for timer in replies:
            clock = waiting.get(timer.subject)
            if clock is None or not clock.waiting or clock.waiting_since is None:
                continue
            escalation_id = escalation_id_for(clock.thread_id, clock.waiting_since)
            kind = "first" if clock.last_reply_at is None else "next"
            if timer.kind == REPLY_WARN:
                if clock.reply_due_at is not None:
                    lines.append(
                        repository.Line(clock.thread_id, now, f"Warning: {kind} reply due soon")
                    )
                    caused.append(_warning(clock, escalation_id, kind, clock.reply_due_at))
                continue
            lines.append(repository.Line(clock.thread_id, now, f"The {kind} reply deadline passed"))
            waited = now - clock.waiting_since
            unanswered = f"{clock.unanswered} message{'s' if clock.unanswered != 1 else ''}"
            stalls.append(
                Ask(
                    clock,
                    EscalationRule.STALLED,
                    f"The customer has waited {_duration(waited)} for a {kind} reply "
                    f"({unanswered} unanswered).",
                    caused_at=clock.waiting_since,
                    escalation_id=escalation_id,
                )
            )
        await repository.add_to_timelines(conn, lines)
        return caused + await self._escalate(conn, stalls)

    async def _decision_due(self, conn: Connection, escalation_id: str, now: datetime) -> Caused:
        escalation = await repository.load_escalation(conn, escalation_id)
        if escalation is None or not escalations.needs_raising(escalation, now):
            return []
        config = self._company()
        chain = config.management_chain()
        asked = next(
            (p for p in chain if p.email.lower() == escalation.manager_email.lower()), None
        )
        higher = next((p for p in chain if (p.level or 0) > escalation.level), None)
        manager = higher or chain[-1]
        policy = escalations.ReminderPolicy(
            config.sla.manager_decision, config.sla.manager_reminder_max
        )
        raised = replace(
            escalations.ask_again(
                escalation,
                level=manager.level or escalation.level,
                manager_email=manager.email,
                at=now,
                policy=policy,
            ),
            evidence=await repository.timeline(conn, escalation.thread_id),
        )
        why = (
            "said 'handle it' and no concrete action followed"
            if escalation.state is State.DELEGATED
            else "did not decide"
        )
        reason = f"{escalation.manager_email} {why} within {_duration(policy.decision_time)}."
        if raised.reminders:  # the top of the chain again: not "raised" from them to them
            reason = (
                f"Reminder {raised.reminders}: {escalation.manager_email} {why} yet. "
                "Top of the chain: asked again, less often each time."
            )
        await repository.save_escalation(conn, raised)
        await timers.set_timer(conn, SCHEMA, DECISION_DUE, raised.escalation_id, raised.decide_by)
        asked_again = "Reminded" if raised.reminders else "Raised to"
        await repository.add_to_timeline(
            conn, raised.thread_id, now, f"{asked_again} {manager.email}: {reason}", None
        )
        clock = await repository.load_clock(conn, raised.thread_id)
        return [
            EscalationRaised(
                thread_id=raised.thread_id,
                correlation_id=raised.thread_id,
                escalation_id=raised.escalation_id,
                rule=raised.rule,
                level=raised.level,
                manager=_person(manager),
                previous_manager=_person(asked) if asked else None,
                reason=reason,
                decide_by=raised.decide_by,
                reminder=raised.reminders,
                customer=clock.customer if clock else None,
                evidence=raised.evidence,
                options=raised.options,
                unanswered_messages=clock.unanswered if clock else 0,
                deposit=clock.deposit if clock else None,
                promise=(await repository.terms(conn, [raised.thread_id]))
                .get(raised.thread_id, NO_TERMS)
                .promise,
            )
        ]

    # ----- decisions ----------------------------------------------------------------------

    async def decide(
        self, conn: Connection, escalation_id: str, option: OptionKind, by: Person, note: str | None
    ) -> Caused:
        """A manager (or an internal tool acting for one) picks an option."""
        escalation = await repository.load_escalation(conn, escalation_id)
        if escalation is None:
            raise escalations.DecisionRefused(f"no escalation {escalation_id}")
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
            conn, decided.thread_id, now, f"{_who(by)} {what}", causation_id
        )
        caused: Caused = [
            EscalationDecided(
                thread_id=decided.thread_id,
                correlation_id=decided.thread_id,
                causation_id=causation_id,
                escalation_id=decided.escalation_id,
                rule=decided.rule,
                level=decided.level,
                option=decided.decided_option or OptionKind.HANDLE_IT,
                decided_by=by,
                note=note,
                refund_amount=escalations.refund_amount(decided)
                if decided.decided_option is OptionKind.REFUND
                else None,
            )
        ]
        if decided.state is State.DELEGATED:
            await timers.set_timer(
                conn, SCHEMA, DECISION_DUE, decided.escalation_id, decided.decide_by
            )
        else:
            await timers.cancel_timers(conn, SCHEMA, decided.escalation_id)
        if escalations.resolved_by_decision(decided):
            caused += await self._resolve(conn, decided, f"{_who(by)} {what}", causation_id)
        return caused

    # ----- shared -------------------------------------------------------------------------

    async def _escalate(self, conn: Connection, asks: Sequence[Ask]) -> Caused:
        """Open an escalation for each ask, or add to the evidence of the thread's active one
        (one escalation per thread: a second cause makes no new email)."""
        if not asks:
            return []
        now = self._now()
        config = self._company()
        chain = config.management_chain()
        if not chain:
            raise RuntimeError("no management chain configured: [[people]] with level = 1")
        manager = chain[0]
        thread_ids = sorted({ask.clock.thread_id for ask in asks})
        evidence = await repository.timelines(conn, thread_ids)
        active = await repository.active_escalations(conn, thread_ids)
        known = await repository.terms(conn, thread_ids)
        saved: dict[str, Escalation] = {}
        decision_due: list[tuple[str, str, datetime]] = []
        lines: list[repository.Line] = []
        opened: Caused = []
        for ask in asks:
            clock = ask.clock
            thread_evidence = evidence.get(clock.thread_id, ())
            current = active.get(clock.thread_id)
            if current is not None:
                saved[current.escalation_id] = replace(current, evidence=thread_evidence)
                continue
            options = escalations.options_for(
                clock.customer,
                deposit=clock.deposit,
                feasible_due_at=known.get(clock.thread_id, NO_TERMS).feasible_due_at,
                owner=None,
            )
            escalation = escalations.open_escalation(
                escalation_id=ask.escalation_id or f"esc-{uuid.uuid4().hex[:20]}",
                thread_id=clock.thread_id,
                rule=ask.rule,
                manager_email=manager.email,
                reason=ask.reason,
                at=now,
                decision_time=config.sla.manager_decision,
                options=options,
                evidence=thread_evidence,
                caused_at=ask.caused_at,
            )
            active[clock.thread_id] = saved[escalation.escalation_id] = escalation
            decision_due.append((DECISION_DUE, escalation.escalation_id, escalation.decide_by))
            lines.append(
                repository.Line(
                    clock.thread_id,
                    now,
                    f"Escalated to {manager.email}: {ask.reason}",
                    ask.causation_id,
                )
            )
            promise = known.get(clock.thread_id, NO_TERMS).promise
            opened.append(_opened(escalation, clock, manager, promise, ask.causation_id))
        await repository.save_escalations(conn, list(saved.values()))
        await timers.set_timers(conn, SCHEMA, decision_due)
        await repository.add_to_timelines(conn, lines)
        return opened

    async def _resolve(
        self, conn: Connection, escalation: Escalation, resolution: str, causation_id: str | None
    ) -> Caused:
        await repository.save_escalation(conn, escalations.resolve(escalation))
        await timers.cancel_timers(conn, SCHEMA, escalation.escalation_id)
        await repository.add_to_timeline(
            conn, escalation.thread_id, self._now(), f"Resolved: {resolution}", causation_id
        )
        return [
            EscalationResolved(
                thread_id=escalation.thread_id,
                correlation_id=escalation.thread_id,
                causation_id=causation_id,
                escalation_id=escalation.escalation_id,
                rule=escalation.rule,
                level=escalation.level,
                resolution=resolution,
            )
        ]

    def _reply_sla(self) -> ReplySla:
        sla = self._company().sla
        return ReplySla(
            first_reply=sla.first_reply, next_reply=sla.next_reply, warn_fraction=sla.warn_at
        )

    def _due_in(self) -> clocks.DueIn:
        config = self._company()
        calendar = calendar_for(config.sla.business_hours, config.company.timezone)
        return lambda start, duration: add_business_time(start, duration, calendar)


@dataclass(frozen=True, slots=True)
class Ask:
    """A rule asks for an escalation of the thread, for this reason."""

    clock: ThreadClock
    rule: EscalationRule
    reason: str
    caused_at: datetime  # when the cause happened, in event time
    escalation_id: str | None = None  # stable when a deadline's warning already named it
    causation_id: str | None = None


def _warning(clock: ThreadClock, escalation_id: str, kind: str, due_at: datetime) -> Event:
    return EscalationWarned(
        thread_id=clock.thread_id,
        correlation_id=clock.thread_id,
        escalation_id=escalation_id,
        rule=EscalationRule.STALLED,
        level=1,
        reason=f"The {kind} reply to the customer is due at {due_at:%Y-%m-%d %H:%M:%S} UTC.",
        due_at=due_at,
    )


def _opened(
    escalation: Escalation,
    clock: ThreadClock,
    manager: PersonEntry,
    promise: PromiseInQuestion | None,
    causation_id: str | None,
) -> Event:
    return EscalationOpened(
        thread_id=clock.thread_id,
        correlation_id=clock.thread_id,
        causation_id=causation_id,
        escalation_id=escalation.escalation_id,
        rule=escalation.rule,
        level=1,
        manager=_person(manager),
        customer=clock.customer,
        reason=escalation.reason,
        evidence=escalation.evidence,
        options=escalation.options,
        decide_by=escalation.decide_by,
        unanswered_messages=clock.unanswered,
        deposit=clock.deposit,
        promise=promise,
    )


def _settles(escalation: Escalation, channel: Channel, sent_at: datetime) -> bool:
    """Does a person's reply on this channel, sent then, remove the escalation's cause?"""
    if escalation.caused_at is not None and sent_at < escalation.caused_at:
        return False  # it answered something before the cause, not the cause
    needs_call = escalation.decided_option is OptionKind.PHONE_CALL or (
        escalation.rule is EscalationRule.DIFFICULT_CONVERSATION
    )
    return channel is Channel.PHONE if needs_call else True


def _person(entry: PersonEntry) -> Person:
    return Person(email=entry.email, name=entry.name, role=entry.role)


def _who(person: Person) -> str:
    return person.name or str(person.email)


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{seconds // 60} minutes"
    if seconds < 172_800:
        return f"{seconds // 3600} hours"
    return f"{seconds // 86_400} days"
