"""What a story is made of: the people in it, the steps they take through Keepword's public
interfaces, and what must come out (emails in the catcher, events on the topics).

Plain frozen data: `catalog` writes the stories down, `player` acts them out, `checks` compares
what came out with what a story expects. The demo (`make demo`) and the end-to-end tests
(`tests/e2e/`) share all three.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

# ----- people ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staff:
    """A colleague from the configuration's `[[people]]` (deploy/local/demo.toml)."""

    email: str
    name: str
    role: Literal["sales", "marketing", "service", "production", "management"]


@dataclass(frozen=True)
class Customer:
    """The customer (or prospect) of a story's thread."""

    email: str
    name: str
    phone: str | None = None
    prefers_phone: bool = False


# ----- steps ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerWrites:
    """The customer writes: through the web form (intake's HTTP API) or by email (intake's SMTP
    listener, to a support address). Their first message starts the thread; a later email
    answers their previous one (In-Reply-To), as a mail program does."""

    body: str
    subject: str | None = None
    via: Literal["web", "email"] = "web"
    to: str = "support@brightline.example"  # for email: which support address
    deposit: tuple[str, str] | None = None  # (amount, currency) paid up front


@dataclass(frozen=True)
class StaffReplies:
    """A colleague answers the customer: logged through the API (`POST /v1/messages`, outbound;
    a phone call is logged with channel "phone"), or by email copied to the support address.

    `sent_ago` back-dates a reply logged late (an API field, `sent_at`), which is how a story
    makes a promise of "three hours" fall due within seconds.
    """

    by: Staff
    body: str
    via: Literal["api", "email"] = "api"
    channel: Literal["email", "phone", "web", "chat"] = "email"
    sent_ago: timedelta = timedelta(0)


@dataclass(frozen=True)
class PromiseDeclared:
    """Sales or marketing declare what they promised (`POST /v1/commitments`)."""

    by: Staff
    kind: Literal["response_time", "delivery", "outcome", "price", "callback", "refund"]
    text: str
    due_in: timedelta


@dataclass(frozen=True)
class ProductionAnswers:
    """Production answers the story's declared promise (`POST /v1/commitments/{id}/answer`)."""

    by: Staff
    verdict: Literal["confirmed", "rejected", "countered"]
    note: str


@dataclass(frozen=True)
class AwaitEmail:
    """Wait until the catcher holds an email of the thread to `to` whose subject matches; keep it
    under `name` for a later step."""

    to: str
    subject: str  # a regular expression, searched case-insensitively
    name: str


@dataclass(frozen=True)
class AwaitEvent:
    """Wait until an event of the thread with this CloudEvents type (and these data fields,
    dotted paths allowed: `options.0.kind`) is on the topics."""

    type: str
    where: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class AnswerEmail:
    """A colleague answers a kept email by replying to it (From them, To the address it came
    from, In-Reply-To its Message-ID)."""

    email: str  # the name an AwaitEmail gave it
    by: Staff
    body: str


@dataclass(frozen=True)
class ChooseOption:
    """A manager clicks the option link in a kept email whose text matches `label`: GET the
    confirmation page, then POST its form with the CSRF token. `expect` is the option the page
    must name (refund, phone_call, renegotiate, reassign, handle_it)."""

    email: str
    label: str  # regular expression over the link's text
    expect: str
    note: str | None = None


Step = (
    CustomerWrites
    | StaffReplies
    | PromiseDeclared
    | ProductionAnswers
    | AwaitEmail
    | AwaitEvent
    | AnswerEmail
    | ChooseOption
)

# ----- expectations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedEmail:
    """Someone must have received an email of the thread whose subject matches."""

    to: str
    subject: str  # a regular expression, searched case-insensitively
    why: str


@dataclass(frozen=True)
class ExpectedEvent:
    """An event of the thread must be on the topics."""

    type: str
    why: str
    where: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Story:
    """A customer conversation played through the whole system."""

    key: str  # short, for labels: "handle-it"
    title: str
    customer: Customer
    steps: tuple[Step, ...]
    expected_emails: tuple[ExpectedEmail, ...]
    expected_events: tuple[ExpectedEvent, ...]
