"""What an inbound email means: who wrote it, to which thread it belongs, which event it is.

Pure functions over a parsed email and the company configuration; the SMTP listener does the I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from keepword_events import Attachment, Channel, Customer, MessageReceived, Person, ReplySent, Role
from keepword_events.thread_refs import thread_in_message_ids, thread_in_subject
from keepword_platform.company import CompanyConfig, PersonEntry

from .inbound_email import InboundEmail

# Event ids of emails derive from their Message-ID, so an email delivered twice (an SMTP client
# retrying after a lost "250") becomes the same event, which consumers process once.
_EMAIL_NAMESPACE = uuid.UUID("6f1c55b4-3c63-4a4e-9d7e-8f5d0c2b7a11")


@dataclass(frozen=True, slots=True)
class MailParties:
    """Who wrote the email and who the customer of its thread is."""

    author: Person
    customer: Customer
    from_staff: bool
    sender_verified: bool = True


def staff_sender(email: InboundEmail, company: CompanyConfig) -> PersonEntry | None:
    """The person of the company the email says it comes from: someone in `[[people]]`, or a
    support address itself (a reply sent from the shared mailbox: the service team)."""
    person = company.person(email.from_address)
    if person is None and email.from_address.lower() in company.company.inbound_addresses:
        name = f"{company.company.name} support"
        return PersonEntry(email=email.from_address, name=name, role=Role.SERVICE)
    return person


def claims_staff(email: InboundEmail, company: CompanyConfig) -> bool:
    """Whether the email says it comes from a person of the company (a claim to be proven)."""
    return staff_sender(email, company) is not None


def parties(email: InboundEmail, company: CompanyConfig, *, verified: bool) -> MailParties:
    """Staff found in the people directory write outbound replies, when `verified` proves the
    From: address theirs; anyone else is a customer. Unproven mail from a staff address is an
    unknown sender's: it names no customer, so it cannot take the thread's customer over."""
    staff = staff_sender(email, company)
    if staff is None:
        return MailParties(
            author=Person(email=email.from_address, name=email.from_name, role=Role.CUSTOMER),
            customer=Customer(email=email.from_address, name=email.from_name),
            from_staff=False,
        )
    if not verified:
        return MailParties(
            author=Person(email=email.from_address, name=email.from_name, role=Role.CUSTOMER),
            customer=Customer(),
            from_staff=False,
            sender_verified=False,
        )
    ours = company.company.inbound_addresses
    customer_address = next(
        (a for a in email.to if a not in ours and company.person(a) is None), None
    )
    return MailParties(
        author=Person(email=staff.email, name=staff.name, role=staff.role),
        customer=Customer(email=customer_address),
        from_staff=True,
    )


def thread_named_in(email: InboundEmail) -> str | None:
    """The thread the email names itself: a subject token, or one of our own Message-IDs."""
    references = [*([email.in_reply_to] if email.in_reply_to else []), *email.references]
    return thread_in_subject(email.subject) or thread_in_message_ids(references)


def earlier_message_ids(email: InboundEmail) -> list[str]:
    """The emails this one answers, nearest first: In-Reply-To, then References newest first."""
    ids = [email.in_reply_to] if email.in_reply_to else []
    ids.extend(reversed(email.references))
    return list(dict.fromkeys(ids))


def first_thread_of(email_message_id: str) -> str:
    """The thread an email starts when it belongs to none: derived from its Message-ID, so an
    email published again (intake killed between Kafka's acknowledgement and remembering it)
    lands on the thread its first copy started, the one consumers kept."""
    return f"thr-{uuid.uuid5(_EMAIL_NAMESPACE, f'thread:{email_message_id}').hex[:16]}"


def email_event_id(email_message_id: str) -> str:
    """The event id of an email, stable across redeliveries of the same email."""
    return str(uuid.uuid5(_EMAIL_NAMESPACE, email_message_id))


def email_event(
    email: InboundEmail,
    who: MailParties,
    *,
    thread_id: str,
    message_id: str,
    received_at: datetime,
) -> MessageReceived | ReplySent:
    """The fact of the email: a customer message received, or a staff reply sent."""
    common = {
        "thread_id": thread_id,
        "correlation_id": thread_id,
        "message_id": message_id,
        "channel": Channel.EMAIL,
        "customer": who.customer,
        "author": who.author,
        "subject": email.subject,
        "body": email.body,
        "sent_at": email.sent_at or received_at,
        "received_at": received_at,
        "email_message_id": email.message_id,
        "in_reply_to": email.in_reply_to,
        "attachments": tuple(
            Attachment(filename=a.filename, content_type=a.content_type, size_bytes=a.size_bytes)
            for a in email.attachments
        ),
        "sender_verified": who.sender_verified,
    }
    if who.from_staff:
        return ReplySent(**common, automatic=email.auto_submitted)
    return MessageReceived(**common)
