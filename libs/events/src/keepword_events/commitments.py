"""Commitment events: requests on `keepword.commitment-requests.v1`, ledger changes (and
promises that named only a vague time) on `keepword.commitments.v1`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from . import topics
from .base import Event, Identifier
from .checks import BodyText, UtcTime
from .common import Customer, HeaderText, Person
from .common import Value as _Value


class CommitmentKind(StrEnum):
    """What was promised."""

    RESPONSE_TIME = "response_time"
    DELIVERY = "delivery"
    OUTCOME = "outcome"
    PRICE = "price"
    CALLBACK = "callback"
    REFUND = "refund"


class Verdict(StrEnum):
    """Production's answer to a promise."""

    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    COUNTERED = "countered"


class CommitmentStatus(StrEnum):
    """Where a promise stands in the ledger."""

    DECLARED = "declared"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    COUNTERED = "countered"
    KEPT = "kept"
    BROKEN = "broken"
    RENEGOTIATED = "renegotiated"
    CANCELLED = "cancelled"


class CommitmentSource(_Value):
    """Where the ledger learnt of a promise: declared, or found in a message someone wrote."""

    kind: str = Field(pattern=r"^(declared|extracted)$")
    message_id: str | None = None
    matched_text: Annotated[BodyText, Field(max_length=2000)] | None = None


class CommitmentDeclared(Event):
    """Sales or marketing declared a promise made to a customer."""

    ce_type: ClassVar[str] = "keepword.commitment.declared.v1"
    topic: ClassVar[str] = topics.COMMITMENT_REQUESTS

    commitment_id: Identifier
    made_by: Person
    kind: CommitmentKind
    text: Annotated[BodyText, Field(min_length=1, max_length=5000)]
    due_at: UtcTime
    customer: Customer | None = None
    supersedes: Identifier | None = Field(
        default=None, description="A promise these terms renegotiate (it becomes renegotiated)."
    )


class CommitmentAnswered(Event):
    """Production confirmed, rejected or countered a promise."""

    ce_type: ClassVar[str] = "keepword.commitment.answered.v1"
    topic: ClassVar[str] = topics.COMMITMENT_REQUESTS

    commitment_id: Identifier
    answered_by: Person
    verdict: Verdict
    note: Annotated[BodyText, Field(max_length=5000)] | None = None
    feasible_due_at: UtcTime | None = Field(
        default=None, description="Production's feasible terms, with a counter-offer."
    )


class CommitmentFulfilled(Event):
    """Whoever delivers says whether a delivery or outcome promise was kept."""

    ce_type: ClassVar[str] = "keepword.commitment.fulfilled.v1"
    topic: ClassVar[str] = topics.COMMITMENT_REQUESTS

    commitment_id: Identifier
    reported_by: Person
    kept: bool
    note: Annotated[BodyText, Field(max_length=5000)] | None = None


class CommitmentCancelled(Event):
    """The promise is withdrawn (for example because the customer was refunded)."""

    ce_type: ClassVar[str] = "keepword.commitment.cancelled.v1"
    topic: ClassVar[str] = topics.COMMITMENT_REQUESTS

    commitment_id: Identifier
    cancelled_by: Person
    reason: Annotated[BodyText, Field(min_length=1, max_length=2000)]


class CommitmentStatusChanged(Event):
    """The ledger moved a promise to a new status (or raised its at-risk flag).

    Carries the whole commitment as it now stands, so readers need no other source.
    """

    ce_type: ClassVar[str] = "keepword.commitment.status-changed.v1"
    topic: ClassVar[str] = topics.COMMITMENTS

    commitment_id: Identifier
    status: CommitmentStatus
    previous_status: CommitmentStatus | None = None
    at_risk: bool = False
    kind: CommitmentKind
    text: Annotated[BodyText, Field(max_length=5000)]
    made_by: Person
    customer: Customer | None = None
    due_at: UtcTime | None = Field(default=None, description="Absent: no due time.")
    feasible_due_at: UtcTime | None = None
    production_note: Annotated[BodyText, Field(max_length=5000)] | None = None
    source: CommitmentSource
    reason: Annotated[BodyText, Field(max_length=2000)] = Field(
        default="", description="Why the status changed."
    )
    changed_at: UtcTime


class VagueTimePromised(Event):
    """A staff reply promised something by a time no clock can keep or break ("as soon as
    possible", "shortly"): its maker should tell the customer a date and time.

    One event per such promise; `causation_id` is the reply's event id. Not every one is in the
    ledger: a promise whose kind needs a time (a response, a delivery) is not recorded without
    one, while a refund or a price is, with no due time (`recorded`, `commitment_id`).
    """

    ce_type: ClassVar[str] = "keepword.commitment.vague-time.v1"
    topic: ClassVar[str] = topics.COMMITMENTS

    message_id: Identifier = Field(description="Keepword's id of the reply that made the promise.")
    made_by: Person = Field(description="The reply's author, who should name a time.")
    kind: CommitmentKind
    vague_time: Annotated[HeaderText, Field(min_length=1, max_length=60)] = Field(
        description='The words that stood for a time, as written but lower case ("as soon as '
        'possible").'
    )
    text: Annotated[BodyText, Field(min_length=1, max_length=2000)] = Field(
        description="The sentence the promise is in, white space normalised."
    )
    recorded: bool = Field(description="Whether the ledger recorded it as a commitment.")
    commitment_id: Identifier | None = Field(
        default=None, description="The commitment it was recorded as, when it was."
    )
    customer: Customer | None = None
    sent_at: UtcTime = Field(description="When the reply was sent.")
