"""Escalation's rules over a thread: when a wait, a promise, a tone or a low rating calls for
an escalation, stall versus warning, one escalation per thread, whom it is raised to and what
settles it.

Pure: `watch` loads the thread's clock, escalations and timeline, calls these rules with the
time and the company's chain, and saves what they return.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from keepword_events import (
    Channel,
    CommitmentStatus,
    CommitmentStatusChanged,
    EscalationRule,
    EvidenceItem,
    OptionKind,
    Person,
    PromiseInQuestion,
)
from keepword_platform.company import PersonEntry

from . import escalations
from .clocks import ThreadClock, too_many_follow_ups
from .escalations import Escalation, ReminderPolicy, State

REPLY_WARN = "reply_warn"
REPLY_DUE = "reply_due"
PROMISE_GAP = frozenset(
    {CommitmentStatus.REJECTED, CommitmentStatus.COUNTERED, CommitmentStatus.BROKEN}
)
_IDS = uuid.UUID("0b9e8f51-2a44-4d55-9d0c-5c3e7b1f2a66")


@dataclass(frozen=True, slots=True)
class Ask:
    """A rule asks for an escalation of the thread, for this reason."""

    clock: ThreadClock
    rule: EscalationRule
    reason: str
    caused_at: datetime  # when the cause happened, in event time
    escalation_id: str | None = None  # stable when a deadline's warning already named it
    causation_id: str | None = None
    comment: str | None = None  # the customer's own words, quoted to the manager


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a thread's story."""

    thread_id: str
    at: datetime
    what: str
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class Terms:
    """What the ledger last said of a thread's promise in question."""

    promise: PromiseInQuestion | None = None
    feasible_due_at: datetime | None = None  # production's feasible terms, if countered


NO_TERMS = Terms()


def escalation_id_for(thread_id: str, since: datetime) -> str:
    """Stable id of the escalation a wait would open: its warning and opening share it."""
    return f"esc-{uuid.uuid5(_IDS, f'{thread_id}:{since.isoformat()}').hex[:20]}"


# ----- a customer wrote -----------------------------------------------------------------------


def message_asks(
    clock: ThreadClock,
    *,
    difficult: Sequence[str] | None,
    max_unanswered_followups: int,
    at: datetime,
    event_id: str,
) -> list[Ask]:
    """Too many follow-ups without an answer; a difficult conversation (`difficult`: the tone
    reading's reasons, None when it is not difficult)."""
    asks: list[Ask] = []
    if too_many_follow_ups(clock, max_unanswered_followups):
        deposit = " (deposit paid)" if clock.deposit else ""
        asks.append(
            Ask(
                clock,
                EscalationRule.REPEATED_CONTACT,
                f"The customer wrote {clock.unanswered} times without an answer{deposit}.",
                caused_at=at,
                causation_id=event_id,
            )
        )
    if difficult is not None:
        asks.append(
            Ask(
                clock,
                EscalationRule.DIFFICULT_CONVERSATION,
                f"A difficult conversation ({', '.join(difficult)}): call rather than email.",
                caused_at=at,
                causation_id=event_id,
            )
        )
    return asks


# ----- a person replied -----------------------------------------------------------------------


def settles(escalation: Escalation, channel: Channel, sent_at: datetime) -> bool:
    """Does a person's reply on this channel, sent then, remove the escalation's cause?"""
    if escalation.caused_at is not None and sent_at < escalation.caused_at:
        return False  # it answered something before the cause, not the cause
    needs_call = escalation.decided_option is OptionKind.PHONE_CALL or (
        escalation.rule is EscalationRule.DIFFICULT_CONVERSATION
    )
    return channel is Channel.PHONE if needs_call else True


def delegation(active: Escalation | None, by: str) -> OptionKind | None:
    """A manager's reply that decides nothing ("handle it"): the delegation it records, if the
    decision policy lets them decide the thread's escalation."""
    if active is None or escalations.refusal(active, option=OptionKind.HANDLE_IT.value, by=by):
        return None
    return OptionKind.HANDLE_IT


# ----- a promise moved ------------------------------------------------------------------------


def promise_gap(change: CommitmentStatusChanged) -> str | None:
    """The gap between what the customer believes and the ledger, said for the timeline; None
    when the change opens none (the promise stands and is not at risk)."""
    gap = change.status in PROMISE_GAP or (
        change.at_risk and change.status not in {CommitmentStatus.KEPT}
    )
    if not gap:
        return None
    words = change.text[:120].rstrip(" .!;,")
    what = f"Promise '{words}' is {change.status.value}" + (
        " and at risk" if change.at_risk else ""
    )
    if change.production_note:
        what += f"; production: {change.production_note[:200].rstrip(' .!;,')}"
    return what


def gap_ask(clock: ThreadClock, change: CommitmentStatusChanged, what: str, event_id: str) -> Ask:
    """The escalation a promise gap asks for."""
    return Ask(
        clock,
        EscalationRule.PROMISE_GAP,
        f"{what}, while the customer still believes it.",
        caused_at=change.changed_at,
        causation_id=event_id,
    )


def in_question(change: CommitmentStatusChanged) -> PromiseInQuestion:
    """The promise as a manager's email quotes it."""
    return PromiseInQuestion(
        commitment_id=change.commitment_id,
        text=change.text,
        made_by=change.made_by,
        production_note=change.production_note,
    )


# ----- reply deadlines ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Warning:
    """A reply soon due: the manager hears before the deadline passes."""

    clock: ThreadClock
    escalation_id: str
    kind: str  # "first" or "next"
    due_at: datetime


@dataclass(slots=True)
class Overdue:
    """What a batch of reply deadlines calls for."""

    lines: list[Line] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    stalls: list[Ask] = field(default_factory=list)


def replies_overdue(due: Sequence[tuple[str, ThreadClock | None]], now: datetime) -> Overdue:
    """Each (timer kind, the thread's clock) that fell due: a warning timer warns, a deadline
    timer stalls; neither does anything once the wait is over (the clock was answered)."""
    found = Overdue()
    for timer_kind, clock in due:
        if clock is None or not clock.waiting or clock.waiting_since is None:
            continue
        escalation_id = escalation_id_for(clock.thread_id, clock.waiting_since)
        kind = "first" if clock.last_reply_at is None else "next"
        if timer_kind == REPLY_WARN:
            if clock.reply_due_at is not None:
                found.lines.append(Line(clock.thread_id, now, f"Warning: {kind} reply due soon"))
                found.warnings.append(Warning(clock, escalation_id, kind, clock.reply_due_at))
            continue
        found.lines.append(Line(clock.thread_id, now, f"The {kind} reply deadline passed"))
        waited = now - clock.waiting_since
        unanswered = f"{clock.unanswered} message{'s' if clock.unanswered != 1 else ''}"
        found.stalls.append(
            Ask(
                clock,
                EscalationRule.STALLED,
                f"The customer has waited {duration(waited)} for a {kind} reply "
                f"({unanswered} unanswered).",
                caused_at=clock.waiting_since,
                escalation_id=escalation_id,
            )
        )
    return found


# ----- one escalation per thread --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opening:
    """An escalation opened for an ask."""

    escalation: Escalation
    ask: Ask
    promise: PromiseInQuestion | None


@dataclass(slots=True)
class Escalating:
    """What a batch of asks does: escalations to save (opened or with more evidence), the
    opened ones, and the timeline's lines."""

    saved: list[Escalation] = field(default_factory=list)
    opened: list[Opening] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def escalate(
    asks: Sequence[Ask],
    *,
    active: Mapping[str, Escalation],
    evidence: Mapping[str, tuple[EvidenceItem, ...]],
    terms: Mapping[str, Terms],
    manager: PersonEntry,
    at: datetime,
    decision_time: timedelta,
    new_id: Callable[[], str],
) -> Escalating:
    """Open an escalation for each ask to the first manager of the chain, or add to the evidence
    of the thread's active one (one escalation per thread: a second cause makes no new email)."""
    current = dict(active)
    saved: dict[str, Escalation] = {}
    done = Escalating()
    for ask in asks:
        thread_id = ask.clock.thread_id
        thread_evidence = evidence.get(thread_id, ())
        already = current.get(thread_id)
        if already is not None:
            saved[already.escalation_id] = replace(already, evidence=thread_evidence)
            continue
        known = terms.get(thread_id, NO_TERMS)
        options = escalations.options_for(
            ask.clock.customer,
            deposit=ask.clock.deposit,
            feasible_due_at=known.feasible_due_at,
            owner=None,
        )
        escalation = escalations.open_escalation(
            escalation_id=ask.escalation_id or new_id(),
            thread_id=thread_id,
            rule=ask.rule,
            manager_email=manager.email,
            reason=ask.reason,
            at=at,
            decision_time=decision_time,
            options=options,
            evidence=thread_evidence,
            caused_at=ask.caused_at,
        )
        current[thread_id] = saved[escalation.escalation_id] = escalation
        done.lines.append(
            Line(thread_id, at, f"Escalated to {manager.email}: {ask.reason}", ask.causation_id)
        )
        done.opened.append(Opening(escalation, ask, known.promise))
    done.saved = list(saved.values())
    return done


# ----- raised up the chain --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Raise:
    """An escalation past its decision time, asked of `manager` (the next level up, or the top
    of the chain reminded)."""

    escalation: Escalation  # as it now stands
    manager: PersonEntry
    previous: PersonEntry | None  # the manager asked before, if on the chain
    reason: str
    line: str  # for the timeline


def raise_up(
    escalation: Escalation,
    *,
    chain: Sequence[PersonEntry],
    at: datetime,
    policy: ReminderPolicy,
    evidence: tuple[EvidenceItem, ...],
) -> Raise | None:
    """Whom an escalation past its decision time goes to now, and why; None when it needs no
    raising (decided, resolved, or not yet due)."""
    if not escalations.needs_raising(escalation, at):
        return None
    asked = next((p for p in chain if p.email.lower() == escalation.manager_email.lower()), None)
    higher = next((p for p in chain if (p.level or 0) > escalation.level), None)
    manager = higher or chain[-1]
    raised = replace(
        escalations.ask_again(
            escalation,
            level=manager.level or escalation.level,
            manager_email=manager.email,
            at=at,
            policy=policy,
        ),
        evidence=evidence,
    )
    why = (
        "said 'handle it' and no concrete action followed"
        if escalation.state is State.DELEGATED
        else "did not decide"
    )
    reason = f"{escalation.manager_email} {why} within {duration(policy.decision_time)}."
    if raised.reminders:  # the top of the chain again: not "raised" from them to them
        reason = (
            f"Reminder {raised.reminders}: {escalation.manager_email} {why} yet. "
            "Top of the chain: asked again, less often each time."
        )
    asked_again = "Reminded" if raised.reminders else "Raised to"
    return Raise(raised, manager, asked, reason, f"{asked_again} {manager.email}: {reason}")


# ----- words ----------------------------------------------------------------------------------


def person(entry: PersonEntry) -> Person:
    """A configured colleague as events name people."""
    return Person(email=entry.email, name=entry.name, role=entry.role)


def who(someone: Person) -> str:
    """A person as the timeline names them."""
    return someone.name or str(someone.email)


def duration(span: timedelta) -> str:
    """A wait in words: seconds, minutes, hours or days."""
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{seconds // 60} minutes"
    if seconds < 172_800:
        return f"{seconds // 3600} hours"
    return f"{seconds // 86_400} days"


def unverified_line(claimed: str) -> str:
    """The timeline's account of mail that claims a staff address without proof."""
    return f"Unverified mail claiming to be from {claimed} (not counted as a reply or decision)"
