"""Support threads generated from a seed, as the catalog's events: customers' messages, the
desk's replies (some automatic, some from an unverified sender), promises and production's
answers, escalations with raises, reminders and decisions, emails, and ratings with revisions.
The same seed gives the same events; the seeded-month test of insights and its benchmark use it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from keepword_events import (
    CommitmentAnswered,
    CommitmentKind,
    CommitmentSource,
    CommitmentStatus,
    CommitmentStatusChanged,
    Customer,
    CustomerRated,
    Envelope,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    EscalationRule,
    Event,
    MessageReceived,
    Money,
    NotificationFailed,
    NotificationSent,
    OptionKind,
    Person,
    ReplySent,
    Role,
    Verdict,
    new_envelope,
)
from keepword_events.common import Channel

RESOLUTIONS = ("Sam called the customer", "Alex replied to the customer", "Morgan decided")
VERDICTS = (Verdict.CONFIRMED, Verdict.CONFIRMED, Verdict.REJECTED, Verdict.COUNTERED)
DECIDED = (OptionKind.REFUND, OptionKind.PHONE_CALL, OptionKind.RENEGOTIATE, OptionKind.REASSIGN)


@dataclass(frozen=True)
class Desk:
    """Who works the threads: the support staff, production's makers and the managers (two at
    least: an escalation may be raised to the second)."""

    staff: tuple[Person, ...]
    production: tuple[Person, ...]
    managers: tuple[Person, ...]


def desk(
    domain: str, *, sales: int, service: int, marketing: int, makers: int, managers: int
) -> Desk:
    """A desk of so many people of each team, with addresses at `domain`."""
    return Desk(
        staff=(
            *(Person(email=f"sales{i}@{domain}", role=Role.SALES) for i in range(sales)),
            *(Person(email=f"service{i}@{domain}", role=Role.SERVICE) for i in range(service)),
            *(
                Person(email=f"marketing{i}@{domain}", role=Role.MARKETING)
                for i in range(marketing)
            ),
        ),
        production=tuple(
            Person(email=f"maker{i}@{domain}", role=Role.PRODUCTION) for i in range(makers)
        ),
        managers=tuple(
            Person(email=f"lead{i}@{domain}", role=Role.MANAGEMENT) for i in range(managers)
        ),
    )


@dataclass(frozen=True)
class Mix:
    """The shares of threads that end in each way (the rest of the mix is fixed)."""

    still_waiting: float = 0.2  # the customer wrote last
    escalated: float = 0.18
    emailed: float = 0.5  # an email went to the customer
    delivered: float = 0.9  # of those emails, sent rather than failed
    rated: float = 1 / 3
    templates: tuple[str, ...] = ("acknowledgement", "escalation", "promise-gap")


@dataclass
class SeededThreads:
    """Whole threads generated from `seed`, their events in the order they happened (one key:
    one partition per topic), as envelopes from `source`."""

    seed: int
    desk: Desk
    source: str
    mix: Mix = field(default_factory=Mix)
    envelopes: list[Envelope[Event]] = field(default_factory=list)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def thread(self, thread_id: str, start: datetime, seconds: int) -> None:
        """A thread begun at a moment drawn from the `seconds` after `start`."""
        at = start + timedelta(seconds=self.rng.randint(0, seconds))
        self._thread(thread_id, at.astimezone(UTC))

    def _add(self, event: Event, at: datetime) -> None:
        self.envelopes.append(new_envelope(event, source=self.source, time=at))

    def _later(self, at: datetime, low: int, high: int) -> datetime:
        return at + timedelta(seconds=self.rng.randint(low, high))

    def _thread(self, thread_id: str, at: datetime) -> None:
        rng, mix = self.rng, self.mix
        ids = {"thread_id": thread_id, "correlation_id": thread_id}
        customer = Customer(email=f"{thread_id}@customer.example")
        writer = Person(email=customer.email or "", role=Role.CUSTOMER)
        deposit = Money(
            amount=Decimal(f"{rng.randint(100, 4000)}.00"), currency=rng.choice(["EUR", "USD"])
        )
        paid = rng.random() < 0.15
        rounds = rng.randint(1, 3)
        count = 0
        for round_ in range(rounds):
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                count += 1
                message = MessageReceived(
                    **ids,
                    message_id=f"{thread_id}-m{count}",
                    channel=Channel.EMAIL,
                    customer=customer,
                    author=writer,
                    sent_at=at,
                    received_at=at,
                    deposit=deposit if paid and count == 1 else None,
                )
                self._add(message, at)
                at = self._later(at, 60, 8 * 3600)
            if round_ == rounds - 1 and rng.random() < mix.still_waiting:
                break
            at = self._later(at, 300, 3 * 86400)
            staff = rng.choice(self.desk.staff)
            automatic = rng.random() < 0.05
            unproven = not automatic and rng.random() < 0.03
            count += 1
            reply = ReplySent(
                **ids,
                message_id=f"{thread_id}-m{count}",
                channel=rng.choice((Channel.EMAIL, Channel.PHONE)),
                customer=customer,
                author=staff,
                sent_at=at,
                received_at=at,
                automatic=automatic,
                sender_verified=not unproven,
            )
            self._add(reply, at)
            if rng.random() < 0.3:
                self._promise(ids, f"{thread_id}-p{round_}", staff, at)
        if rng.random() < mix.escalated:
            self._escalation(ids, f"{thread_id}-e", customer, self._later(at, 60, 86400))
        if rng.random() < mix.emailed:
            self._notification(ids, f"{thread_id}-n", self._later(at, 1, 600))
        self._ratings(ids, at)

    def _ratings(self, ids: dict[str, str], at: datetime) -> None:
        """Some customers rate the thread; some change it (a revision), and some of those
        revisions reach the topic before the rating they revise (the latest revision stands)."""
        # A generator of the thread's own: adding ratings left the other draws as they were.
        rng = random.Random(f"{self.seed}-{ids['thread_id']}")
        if rng.random() >= self.mix.rated:
            return
        first_at = at + timedelta(seconds=rng.randint(60, 2 * 86400))
        first = CustomerRated(**ids, rating=rng.randint(1, 5), rated_at=first_at)
        if rng.random() >= 0.25:
            self._add(first, first_at)
            return
        second_at = first_at + timedelta(seconds=rng.randint(60, 86400))
        second = CustomerRated(**ids, rating=rng.randint(1, 5), rated_at=second_at, revision=2)
        ordered = [(first, first_at), (second, second_at)]
        for rated, when in ordered if rng.random() >= 0.3 else reversed(ordered):
            self._add(rated, when)

    def _promise(
        self, ids: dict[str, str], commitment_id: str, maker: Person, at: datetime
    ) -> None:
        rng = self.rng
        common: dict[str, Any] = {
            **ids,
            "commitment_id": commitment_id,
            "kind": rng.choice(list(CommitmentKind)),
            "text": "We will deliver it by Friday.",
            "made_by": maker,
            "source": CommitmentSource(kind="declared"),
        }
        moves = [(CommitmentStatus.AWAITING_CONFIRMATION, False)]  # (status, at risk)
        verdict: Verdict | None = None
        if rng.random() < 0.8:
            verdict = rng.choice(VERDICTS)
            moves.append((CommitmentStatus(verdict.value), False))
            if verdict is Verdict.CONFIRMED and rng.random() < 0.3:
                moves.append((CommitmentStatus.CONFIRMED, True))
            if verdict is Verdict.CONFIRMED and rng.random() < 0.6:
                moves.append((rng.choice((CommitmentStatus.KEPT, CommitmentStatus.BROKEN)), False))
            elif verdict is not Verdict.CONFIRMED and rng.random() < 0.4:
                moves.append((CommitmentStatus.RENEGOTIATED, False))
        previous: CommitmentStatus | None = None
        for status, at_risk in moves:
            at = self._later(at, 1, 86400)
            if verdict is not None and previous is CommitmentStatus.AWAITING_CONFIRMATION:
                answered_by = rng.choice(self.desk.production)
                answer = CommitmentAnswered(
                    **ids, commitment_id=commitment_id, answered_by=answered_by, verdict=verdict
                )
                self._add(answer, at)
            changed = CommitmentStatusChanged(
                **common, status=status, previous_status=previous, at_risk=at_risk, changed_at=at
            )
            self._add(changed, at)
            previous = status

    def _escalation(
        self, ids: dict[str, str], escalation_id: str, customer: Customer, at: datetime
    ) -> None:
        rng, managers = self.rng, self.desk.managers
        rule = rng.choice(list(EscalationRule))
        common: dict[str, Any] = {**ids, "escalation_id": escalation_id, "rule": rule}
        opened = EscalationOpened(
            **common, level=1, manager=managers[0], customer=customer, reason="r", decide_by=at
        )
        self._add(opened, at)
        level = 1
        if rng.random() < 0.35:
            level = 2
            at = self._later(at, 600, 86400)
            raised = EscalationRaised(
                **common, level=2, manager=managers[1], reason="r", decide_by=at
            )
            self._add(raised, at)
            if rng.random() < 0.3:
                at = self._later(at, 600, 86400)
                reminded = EscalationRaised(
                    **common, level=2, manager=managers[1], reason="r", decide_by=at, reminder=1
                )
                self._add(reminded, at)
        if rng.random() < 0.25:
            at = self._later(at, 60, 86400)
            handed_down = EscalationDecided(
                **common, level=level, option=OptionKind.HANDLE_IT, decided_by=managers[level - 1]
            )
            self._add(handed_down, at)
        if rng.random() < 0.7:
            at = self._later(at, 60, 2 * 86400)
            option = rng.choice(DECIDED)
            refund = (
                Decimal(f"{rng.randint(20, 900)}.{rng.randint(0, 99):02d}")
                if option is OptionKind.REFUND
                else None
            )
            decided = EscalationDecided(
                **common,
                level=level,
                option=option,
                decided_by=managers[level - 1],
                refund_amount=refund,
            )
            self._add(decided, at)
        if rng.random() < 0.6:
            at = self._later(at, 60, 86400)
            resolution = rng.choice(RESOLUTIONS)
            self._add(EscalationResolved(**common, level=level, resolution=resolution), at)

    def _notification(self, ids: dict[str, str], notification_id: str, at: datetime) -> None:
        rng = self.rng
        common: dict[str, Any] = {
            **ids,
            "notification_id": notification_id,
            "idempotency_key": notification_id,
            "source_event_id": notification_id,
            "template": rng.choice(self.mix.templates),
            "recipient_role": Role.CUSTOMER,
            "recipient": "someone@customer.example",
            "attempts": 1,
        }
        if rng.random() < self.mix.delivered:
            self._add(NotificationSent(**common, email_message_id="<x@y>", subject="s"), at)
        else:
            self._add(NotificationFailed(**common, error="refused", permanent=True), at)
