"""What a batch of events changes in the facts, in memory: the facts it touches are loaded
first, each event's pure step of `facts` is applied in the order of the records, and what
changed is written back at once (so a batch costs a few statements, not a few per event).

No SQL here: `needed` says which stateful facts to load, `apply` folds one event in, and the
result lists what to write. Applying the events one batch at a time or all in one batch gives
the same facts, as long as each thread's events come in order (they do: one key, one partition).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from keepword_events import (
    CommitmentAnswered,
    CommitmentStatusChanged,
    CustomerRated,
    Envelope,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    Event,
    MessageReceived,
    NotificationFailed,
    NotificationSent,
    ReplySent,
)

from . import facts

# The events insights keeps facts of; anything else on its topics is not kept.
RECORDED: tuple[type[Event], ...] = (
    MessageReceived,
    ReplySent,
    CommitmentAnswered,
    CommitmentStatusChanged,
    EscalationOpened,
    EscalationRaised,
    EscalationDecided,
    EscalationResolved,
    NotificationSent,
    NotificationFailed,
    CustomerRated,
)
ESCALATION_EVENTS = (EscalationOpened, EscalationRaised, EscalationDecided, EscalationResolved)


@dataclass(frozen=True, slots=True)
class Needed:
    """The stateful facts a batch changes, by key: to be loaded before it is applied."""

    threads: frozenset[str]
    promises: frozenset[str]
    escalations: frozenset[str]
    ratings: frozenset[str]


def needed(envelopes: Iterable[Envelope[Any]]) -> Needed:
    """Which threads, promises, escalations and ratings `envelopes` change."""
    threads, promises, escalations, ratings = set(), set(), set(), set()
    for e in envelopes:
        data = e.data
        if isinstance(data, MessageReceived | ReplySent):
            threads.add(data.thread_id)
        elif isinstance(data, CommitmentStatusChanged):
            promises.add(data.commitment_id)
        elif isinstance(data, ESCALATION_EVENTS):
            escalations.add(data.escalation_id)
        elif isinstance(data, CustomerRated):
            ratings.add(data.thread_id)
    return Needed(
        frozenset(threads), frozenset(promises), frozenset(escalations), frozenset(ratings)
    )


@dataclass
class Changes:
    """The stateful facts a batch touches (as loaded, then as it leaves them; all are written
    back, an unchanged one as it was) and the new rows it adds."""

    threads: dict[str, facts.Thread] = field(default_factory=dict)
    promises: dict[str, facts.Promise] = field(default_factory=dict)
    escalations: dict[str, facts.Escalation] = field(default_factory=dict)
    ratings: dict[str, facts.Rating] = field(default_factory=dict)
    waits: list[facts.Wait] = field(default_factory=list)
    moves: list[facts.PromiseMove] = field(default_factory=list)
    answers: list[facts.ProductionAnswer] = field(default_factory=list)
    raises: list[facts.Raise] = field(default_factory=list)
    decisions: list[facts.Decision] = field(default_factory=list)
    notifications: list[facts.Notification] = field(default_factory=list)


def apply(changes: Changes, e: Envelope[Any]) -> None:
    """Fold one event into `changes` (what it has no step for changes nothing)."""
    data = e.data
    if isinstance(data, MessageReceived):
        thread = facts.customer_wrote(changes.threads.get(data.thread_id), data)
        changes.threads[data.thread_id] = thread
    elif isinstance(data, ReplySent):
        if facts.counts_as_reply(data):
            thread, ended = facts.person_replied(changes.threads.get(data.thread_id), data)
            changes.threads[data.thread_id] = thread
            changes.waits.extend([ended] if ended else [])
    elif isinstance(data, CommitmentStatusChanged):
        before = changes.promises.get(data.commitment_id)
        promise, move = facts.promise_moved(before, data, e.id)
        changes.promises[data.commitment_id] = promise
        changes.moves.append(move)
    elif isinstance(data, CommitmentAnswered):
        changes.answers.append(facts.production_answered(data, e.id, e.time))
    elif isinstance(data, CustomerRated):
        rating = facts.customer_rated(changes.ratings.get(data.thread_id), data)
        changes.ratings[data.thread_id] = rating
    elif isinstance(data, NotificationSent | NotificationFailed):
        changes.notifications.append(facts.notified(data, e.id, e.time))
    else:
        _escalation(changes, e)


def _escalation(changes: Changes, e: Envelope[Any]) -> None:
    data = e.data
    if not isinstance(data, ESCALATION_EVENTS):
        return
    before = changes.escalations.get(data.escalation_id)
    if isinstance(data, EscalationOpened):
        escalation = facts.escalation_opened(before, data, e.time)
    elif isinstance(data, EscalationRaised):
        escalation, raised = facts.escalation_raised(before, data, e.id, e.time)
        changes.raises.append(raised)
    elif isinstance(data, EscalationDecided):
        escalation, decision = facts.escalation_decided(before, data, e.id, e.time)
        changes.decisions.append(decision)
    else:
        escalation = facts.escalation_resolved(before, data, e.time)
    changes.escalations[data.escalation_id] = escalation


def applied(changes: Changes, envelopes: Iterable[Envelope[Any]]) -> Changes:
    """`changes` with every event of `envelopes` folded in, in order."""
    for e in envelopes:
        apply(changes, e)
    return changes
