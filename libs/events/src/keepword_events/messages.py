"""Events intake publishes on `keepword.messages.v1`."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from . import topics
from .base import Event, Identifier
from .checks import BodyText, UtcTime
from .common import Attachment, Channel, Customer, HeaderText, Money, Person, Role


class MessageFacts(Event):
    """What every message carries, whichever way it travelled."""

    message_id: Identifier = Field(description="Keepword's id of this message.")
    channel: Channel
    customer: Customer
    author: Person
    subject: HeaderText | None = None
    body: Annotated[BodyText, Field(max_length=200_000)] = ""
    sent_at: UtcTime = Field(description="When the author sent it (RFC 3339).")
    received_at: UtcTime = Field(description="When intake accepted it.")
    email_message_id: str | None = Field(
        default=None, max_length=998, description="RFC 5322 Message-ID, for email."
    )
    in_reply_to: str | None = Field(default=None, max_length=998)
    attachments: tuple[Attachment, ...] = ()
    sender_verified: bool = Field(
        default=True,
        description=(
            "False for an email that claims to come from a person of the company (staff, "
            "manager, production) without proof (no SMTP AUTH, no valid DKIM signature of "
            "theirs, no trusted Authentication-Results, not from the company's Sent folder). "
            "Such a message is published as an unknown sender's, with author.role customer: "
            "it is never a reply and decides nothing. True for everything else, including "
            "messages sent through the API (its API key authenticates them)."
        ),
    )


class MessageReceived(MessageFacts):
    """A customer (or prospect) wrote to us, on any channel."""

    ce_type: ClassVar[str] = "keepword.message.received.v1"
    topic: ClassVar[str] = topics.MESSAGES

    deposit: Money | None = Field(
        default=None, description="What the customer has paid up front, if they said so."
    )


class ReplySent(MessageFacts):
    """Staff answered the customer. Only a reply by a person counts as an answer."""

    ce_type: ClassVar[str] = "keepword.reply.sent.v1"
    topic: ClassVar[str] = topics.MESSAGES

    automatic: bool = Field(
        default=False, description="An automatic acknowledgement, not a person's reply."
    )

    @property
    def reached_the_customer(self) -> bool:
        """Whether the reply ends the customer's wait: written by a person (not an automatic
        acknowledgement) and not an internal note — a manager's answer to our own escalation
        email ("Handle it.") names no customer address."""
        internal_note = self.author.role is Role.MANAGEMENT and self.customer.email is None
        return not self.automatic and not internal_note
