"""The HTTP API's request and response bodies (the public contract of `/v1/...`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from keepword_events import Channel, CommitmentKind, Customer, Direction, Money, Person, Verdict
from keepword_events.checks import BodyText, UtcTime
from keepword_events.common import HeaderText, Role
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.config import JsonDict

ThreadId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,200}$")]
MAX_BATCH = 1000
FURTHEST_DUE = timedelta(days=3653)
"""How far ahead a promise may fall due (ten years): intake's check, against its own clock; the
contract itself only holds times to 2000-2100, which a record can be held to forever."""


def due_years_pattern(now: datetime) -> str:
    """A pattern of the due times whose year lies wholly within FURTHEST_DUE of `now`.

    For the OpenAPI document, made once when the process starts; as time passes it only grows
    stricter than the check, so a due time it calls valid stays accepted.
    """
    last = (now + FURTHEST_DUE).year - 1
    return "^(" + "|".join(str(year) for year in range(2000, last + 1)) + ")-"


_DUE = Field(json_schema_extra={"pattern": due_years_pattern(datetime.now(UTC))})


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# The rules the model validators below enforce across fields, said in each body's JSON Schema
# too, so that the OpenAPI document calls valid only what intake accepts.
def _by(role: Role) -> JsonDict:
    return {"properties": {"role": {"const": role.value}}}


def _staff() -> JsonDict:
    return {"properties": {"role": {"not": {"const": Role.CUSTOMER.value}}}}


def _staff_field(name: str) -> JsonDict:
    return {"allOf": [{"properties": {name: _staff()}}]}


_MESSAGE_RULES: JsonDict = {
    "allOf": [
        {
            "if": {"properties": {"direction": {"const": Direction.INBOUND.value}}},
            "then": {"properties": {"author": _by(Role.CUSTOMER), "automatic": {"const": False}}},
            "else": {"properties": {"author": _staff()}},
        },
        {
            "properties": {
                "customer": {
                    "anyOf": [
                        {"required": [name], "properties": {name: {"type": "string"}}}
                        for name in ("email", "phone")
                    ]
                }
            }
        },
    ]
}


class MessageIn(_Body):
    """A customer message received, or a staff reply sent, on any channel."""

    model_config = ConfigDict(json_schema_extra=_MESSAGE_RULES)

    direction: Direction = Field(description="inbound = from the customer.")
    channel: Channel
    thread_id: ThreadId | None = Field(default=None, description="Absent: a new thread.")
    customer: Customer
    author: Person
    subject: HeaderText | None = None
    body: Annotated[BodyText, Field(max_length=200_000)]
    sent_at: UtcTime | None = Field(default=None, description="RFC 3339; default: now.")
    deposit: Money | None = None
    automatic: bool = Field(
        default=False, description="Outbound only: an automatic acknowledgement, not a person."
    )

    @model_validator(mode="after")
    def _author_matches_direction(self) -> MessageIn:
        from_customer = self.author.role is Role.CUSTOMER
        if self.direction is Direction.INBOUND and not from_customer:
            raise ValueError("an inbound message is written by the customer (author.role)")
        if self.direction is Direction.OUTBOUND and from_customer:
            raise ValueError("an outbound reply is written by staff, not the customer")
        if self.customer.email is None and self.customer.phone is None:
            raise ValueError("customer needs an email or a phone number")
        if self.automatic and self.direction is Direction.INBOUND:
            raise ValueError("only outbound replies can be automatic")
        return self


class MessageBatchIn(_Body):
    """Up to 1,000 messages, each accepted or refused on its own."""

    messages: list[MessageIn] = Field(min_length=1, max_length=MAX_BATCH)


class MessageBatchShape(_Body):
    """A batch whose items are checked one by one (when some of them are invalid)."""

    messages: list[dict[str, object]] = Field(min_length=1, max_length=MAX_BATCH)


class CommitmentIn(_Body):
    """A promise sales or marketing made to a customer."""

    model_config = ConfigDict(json_schema_extra=_staff_field("made_by"))

    thread_id: ThreadId
    made_by: Person
    kind: CommitmentKind
    text: Annotated[BodyText, Field(min_length=1, max_length=5000)]
    due_at: Annotated[UtcTime, _DUE] = Field(description="Within ten years from now.")
    customer: Customer | None = None
    supersedes: ThreadId | None = Field(
        default=None, description="The commitment these new terms renegotiate."
    )

    @model_validator(mode="after")
    def _made_by_staff(self) -> CommitmentIn:
        if self.made_by.role is Role.CUSTOMER:
            raise ValueError("a commitment is made by staff (made_by.role), not the customer")
        return self


class AnswerIn(_Body):
    """Production's answer to a promise."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {"properties": {"answered_by": _staff()}},
                {
                    "if": {"properties": {"verdict": {"const": Verdict.COUNTERED.value}}},
                    "then": {
                        "required": ["feasible_due_at"],
                        "properties": {"feasible_due_at": {"type": "string"}},
                    },
                },
            ]
        }
    )

    answered_by: Person
    verdict: Verdict
    note: Annotated[BodyText, Field(max_length=5000)] | None = None
    feasible_due_at: Annotated[UtcTime, _DUE] | None = Field(
        default=None,
        description="Required with verdict 'countered': what production can do, within ten "
        "years from now.",
    )
    thread_id: ThreadId | None = Field(
        default=None, description="Needed only for commitments not declared through intake."
    )

    @model_validator(mode="after")
    def _counter_has_terms(self) -> AnswerIn:
        if self.verdict is Verdict.COUNTERED and self.feasible_due_at is None:
            raise ValueError("a 'countered' answer needs feasible_due_at")
        if self.answered_by.role is Role.CUSTOMER:
            raise ValueError("an answer is given by staff (answered_by.role), not the customer")
        return self


class _StaffFact(_Body):
    thread_id: ThreadId | None = Field(
        default=None, description="Needed only for commitments not declared through intake."
    )

    @model_validator(mode="after")
    def _by_staff(self) -> _StaffFact:
        for name in ("reported_by", "cancelled_by"):
            person = getattr(self, name, None)
            if isinstance(person, Person) and person.role is Role.CUSTOMER:
                raise ValueError(f"{name} must be staff, not the customer")
        return self


class FulfilmentIn(_StaffFact):
    """Whoever delivers reports whether a promise was kept."""

    model_config = ConfigDict(json_schema_extra=_staff_field("reported_by"))

    reported_by: Person
    kept: bool
    note: Annotated[BodyText, Field(max_length=5000)] | None = None


class CancellationIn(_StaffFact):
    """A promise is withdrawn."""

    model_config = ConfigDict(json_schema_extra=_staff_field("cancelled_by"))

    cancelled_by: Person
    reason: Annotated[BodyText, Field(min_length=1, max_length=2000)]


class MessageAccepted(BaseModel):
    """The broker acknowledged the message's event."""

    thread_id: str
    event_id: str
    message_id: str


class CommitmentAccepted(BaseModel):
    """The broker acknowledged the commitment's event."""

    commitment_id: str
    event_id: str
    thread_id: str


class BatchItemResult(BaseModel):
    """The outcome of one message of a batch."""

    index: int
    status: Literal[202, 413, 422, 503]
    thread_id: str | None = None
    event_id: str | None = None
    message_id: str | None = None
    errors: list[dict[str, str]] | None = None


class BatchResult(BaseModel):
    """Per-message outcomes, in the order sent."""

    accepted: int
    rejected: int
    results: list[BatchItemResult]


def due_date_errors(body: CommitmentIn | AnswerIn, now: datetime) -> list[dict[str, str]]:
    """`{field, message}` for a due date further ahead of `now` than FURTHEST_DUE."""
    name = "due_at" if isinstance(body, CommitmentIn) else "feasible_due_at"
    due: datetime | None = getattr(body, name)
    if due is None or due - now <= FURTHEST_DUE:
        return []
    return [{"field": name, "message": "must fall due within ten years from now"}]
