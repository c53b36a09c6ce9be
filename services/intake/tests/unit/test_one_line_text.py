"""One-line text of an inbound email (subject, names, file names) is fit for the event contract.

The contract refuses bidi embeddings, overrides and isolates in one-line text; a customer's mail
with a stray one in its subject is read, without it, rather than bounced.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from keepword_events import Customer, MessageReceived, Person, Role
from keepword_intake.inbound_email import EmailParseError, parse_inbound_email
from keepword_intake.mail_facts import MailParties, email_event

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def customer_mail(*, sender: str, subject: str, filename: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@shop.example"
    message["Subject"] = subject
    message["Message-ID"] = "<bidi@example.com>"
    message.set_content("Where is my order?")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename=filename)
    return message.as_bytes()


def test_bidi_controls_in_one_line_text_are_removed_and_the_event_builds() -> None:
    raw = customer_mail(
        sender="Dana \u202eRuiz\u202c <dana@example.com>",
        subject=f"\u2067طلب 1234\u2069 {BIDI_CONTROLS}is late",
        filename="invoice\u202efdp.pdf",
    )

    email = parse_inbound_email(raw)

    assert email.subject == "طلب 1234 is late"
    assert email.from_name == "Dana Ruiz"
    assert [a.filename for a in email.attachments] == ["invoicefdp.pdf"]
    who = MailParties(
        author=Person(email=email.from_address, name=email.from_name, role=Role.CUSTOMER),
        customer=Customer(email=email.from_address, name=email.from_name),
        from_staff=False,
    )
    event = email_event(
        email, who, thread_id="thr-1", message_id="msg-1", received_at=datetime.now(UTC)
    )
    assert isinstance(event, MessageReceived)
    assert event.subject == "طلب 1234 is late"


def test_marks_that_only_set_a_direction_are_kept() -> None:
    raw = customer_mail(
        sender="Dana <dana@example.com>", subject="Order \u200f1234\u200e", filename="a.pdf"
    )

    assert parse_inbound_email(raw).subject == "Order \u200f1234\u200e"


@pytest.mark.parametrize("sender", ["Dana <dané@example.com>", "<用户@example.com>"])
def test_a_sender_with_a_non_ascii_local_part_is_refused_with_the_reason(sender: str) -> None:
    raw = customer_mail(sender=sender, subject="Order", filename="a.pdf")

    with pytest.raises(EmailParseError, match="non-ASCII characters before the @"):
        parse_inbound_email(raw)


def test_an_international_domain_is_read() -> None:
    raw = customer_mail(sender="Dana <dana@bücher.example>", subject="Order", filename="a.pdf")

    assert parse_inbound_email(raw).from_address == "dana@bücher.example"
