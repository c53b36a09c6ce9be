"""The promise ledger's rules: a commitment's states and the moves between them. Pure: no I/O,
no clock (every rule is told the time), no framework.

    declared ─┬─────────────────────────────┬─► kept / broken
              └► awaiting_confirmation ─► confirmed / rejected / countered ─► kept / broken
    any open state ─► renegotiated (new terms supersede it) / cancelled

Delivery and outcome promises need production's confirmation, so they start awaiting it; the
others (response time, callback, price, refund) start as declared. `at_risk` is a flag raised
before the due time while the promise is still unconfirmed or unfulfilled.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final

from keepword_events import (
    Channel,
    CommitmentKind,
    CommitmentSource,
    CommitmentStatus,
    Customer,
    Person,
    Verdict,
)

S = CommitmentStatus

NEEDS_CONFIRMATION: Final = frozenset({CommitmentKind.DELIVERY, CommitmentKind.OUTCOME})
FINAL: Final = frozenset({S.KEPT, S.BROKEN, S.RENEGOTIATED, S.CANCELLED})
ANSWERABLE: Final = frozenset({S.DECLARED, S.AWAITING_CONFIRMATION, S.COUNTERED, S.CONFIRMED})
_VERDICT_STATUS: Final = {
    Verdict.CONFIRMED: S.CONFIRMED,
    Verdict.REJECTED: S.REJECTED,
    Verdict.COUNTERED: S.COUNTERED,
}


class IllegalTransition(ValueError):
    """The move is not allowed from the commitment's current status; nothing changes."""


@dataclass(frozen=True, slots=True)
class Commitment:
    """A promise in the ledger, as it stands."""

    commitment_id: str
    thread_id: str
    kind: CommitmentKind
    text: str
    made_by: Person
    customer: Customer | None
    due_at: datetime | None
    source: CommitmentSource
    created_at: datetime
    status: CommitmentStatus
    at_risk: bool = False
    feasible_due_at: datetime | None = None
    production_note: str | None = None

    @property
    def is_open(self) -> bool:
        """Not yet kept, broken, renegotiated or cancelled."""
        return self.status not in FINAL


@dataclass(frozen=True, slots=True)
class Change:
    """A move of the ledger: the commitment before (None when new) and after, and why."""

    before: Commitment | None
    after: Commitment
    reason: str
    at: datetime = field(compare=False)

    @property
    def previous_status(self) -> CommitmentStatus | None:
        """Status before the move."""
        return self.before.status if self.before else None


def declare(
    *,
    commitment_id: str,
    thread_id: str,
    kind: CommitmentKind,
    text: str,
    made_by: Person,
    customer: Customer | None,
    due_at: datetime | None,
    source: CommitmentSource,
    at: datetime,
) -> Change:
    """A new promise; delivery and outcome promises go straight to awaiting confirmation."""
    needs = kind in NEEDS_CONFIRMATION
    commitment = Commitment(
        commitment_id=commitment_id,
        thread_id=thread_id,
        kind=kind,
        text=text,
        made_by=made_by,
        customer=customer,
        due_at=due_at,
        source=source,
        created_at=at,
        status=S.AWAITING_CONFIRMATION if needs else S.DECLARED,
    )
    how = "found in a reply" if source.kind == "extracted" else "declared"
    reason = f"{how}; production must confirm" if needs else how
    return Change(None, commitment, reason, at)


def answer(
    commitment: Commitment,
    *,
    verdict: Verdict,
    note: str | None,
    feasible_due_at: datetime | None,
    at: datetime,
) -> Change:
    """Production's answer: confirmed, rejected, or countered with feasible terms."""
    if commitment.status not in ANSWERABLE:
        raise IllegalTransition(
            f"commitment {commitment.commitment_id} is {commitment.status.value}; "
            f"production can no longer answer it"
        )
    status = _VERDICT_STATUS[verdict]
    if status is commitment.status:
        raise IllegalTransition(f"commitment {commitment.commitment_id} is already {status.value}")
    if verdict is Verdict.COUNTERED and feasible_due_at is None:
        raise IllegalTransition("a counter-offer needs production's feasible due time")
    after = replace(
        commitment,
        status=status,
        production_note=note,
        feasible_due_at=feasible_due_at if verdict is Verdict.COUNTERED else None,
        at_risk=commitment.at_risk and status is not S.CONFIRMED,
    )
    return Change(commitment, after, f"production {verdict.value}", at)


def fulfil(commitment: Commitment, *, kept: bool, note: str | None, at: datetime) -> Change:
    """Whoever delivers reports the promise kept or broken."""
    _require_open(commitment, "reported fulfilled")
    status = S.KEPT if kept else S.BROKEN
    reason = "reported kept" if kept else "reported not kept"
    return Change(
        commitment, replace(commitment, status=status, at_risk=False), _with(reason, note), at
    )


def reply_sent(
    commitment: Commitment, *, channel: Channel, by_person: bool, at: datetime
) -> Change | None:
    """A staff reply reached the customer: it keeps a response-time promise made before it,
    and a logged phone call keeps a callback promise — if in time. Otherwise no change."""
    if not commitment.is_open or not by_person or at < commitment.created_at:
        return None
    keeps = commitment.kind is CommitmentKind.RESPONSE_TIME or (
        commitment.kind is CommitmentKind.CALLBACK and channel is Channel.PHONE
    )
    if not keeps:
        return None
    if commitment.due_at is not None and at > commitment.due_at:
        return None  # too late: the due timer breaks it
    return Change(
        commitment, replace(commitment, status=S.KEPT, at_risk=False), "answered in time", at
    )


def fall_due(commitment: Commitment, *, at: datetime) -> Change | None:
    """The due time passed: an open promise not kept by now is broken."""
    if not commitment.is_open:
        return None
    if commitment.status is S.CONFIRMED and commitment.kind in NEEDS_CONFIRMATION:
        reason = "due time passed without a report that it was delivered"
    else:
        reason = "due time passed and the promise was not kept"
    return Change(commitment, replace(commitment, status=S.BROKEN, at_risk=False), reason, at)


def warn(commitment: Commitment, *, at: datetime) -> Change | None:
    """The warning point passed while the promise is still unconfirmed or unfulfilled."""
    if not commitment.is_open or commitment.at_risk:
        return None
    if commitment.status is S.CONFIRMED and commitment.kind not in NEEDS_CONFIRMATION:
        return None
    reason = (
        "still awaiting production's confirmation"
        if commitment.status is S.AWAITING_CONFIRMATION
        else f"still {commitment.status.value} and not yet kept"
    )
    return Change(commitment, replace(commitment, at_risk=True), f"at risk: {reason}", at)


def supersede(commitment: Commitment, *, by: str, at: datetime) -> Change:
    """New terms replace this promise: it is renegotiated."""
    _require_open(commitment, "renegotiated")
    after = replace(commitment, status=S.RENEGOTIATED, at_risk=False)
    return Change(commitment, after, f"renegotiated as {by}", at)


def cancel(commitment: Commitment, *, reason: str, at: datetime) -> Change:
    """The promise is withdrawn."""
    _require_open(commitment, "cancelled")
    after = replace(commitment, status=S.CANCELLED, at_risk=False)
    return Change(commitment, after, _with("cancelled", reason), at)


def warning_time(created_at: datetime, due_at: datetime, warn_at: float) -> datetime:
    """When a promise becomes at risk: `warn_at` of the way from its making to its due time."""
    span = max(due_at - created_at, timedelta(0))
    return created_at + span * warn_at


def _require_open(commitment: Commitment, what: str) -> None:
    if not commitment.is_open:
        raise IllegalTransition(
            f"commitment {commitment.commitment_id} is already {commitment.status.value}; "
            f"it cannot be {what}"
        )


def _with(reason: str, note: str | None) -> str:
    return f"{reason}: {note}" if note else reason
