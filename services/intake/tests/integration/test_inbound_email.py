"""Real emails sent with smtplib to intake's SMTP listener become the right events on the right
threads; unknown recipients and oversized mail are refused with proper SMTP codes."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from keepword_events import Envelope, Event, MessageReceived, ReplySent, Role, topics
from keepword_intake.publishing import SOURCE as INTAKE
from keepword_intake.smtp_auth import password_digest
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.processes import free_port

from .conftest import IntakeClient, running_intake, send_mail

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]

CONFIG = Path(__file__).resolve().parents[4] / "deploy" / "local" / "keepword.toml"
SUPPORT = "support@brightline.example"
STAFF = "casey.service@brightline.example"
STAFF_PASSWORD = "casey-test-password-of-some-length"


@pytest.fixture
async def mail_intake(catalog_topics: str, database_url: str) -> AsyncIterator[IntakeClient]:
    async with running_intake(
        kafka_bootstrap=catalog_topics,
        database_url=database_url,
        config=CONFIG,
        smtp_listen_port=free_port(),
        max_email_bytes=200_000,
        smtp_users={STAFF: password_digest(STAFF_PASSWORD)},
        smtp_auth_plaintext_localhost=True,  # the test's client is on this machine
    ) as client:
        yield client


def _port(intake: IntakeClient) -> int:
    port: int = intake.app.state.runtime.settings.smtp_listen_port
    return port


async def send(intake: IntakeClient, message: EmailMessage, to: list[str] | None = None) -> None:
    """Deliver with the standard library's smtplib, off the event loop intake runs on."""

    def deliver() -> None:
        with smtplib.SMTP("127.0.0.1", _port(intake), timeout=30) as client:
            client.send_message(message, to_addrs=to)

    await asyncio.to_thread(deliver)


def customer_mail(subject: str, body: str = "Hello, where is my order?") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Dana Whitfield <dana@example.com>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content(body)
    return message


async def _events_of(intake: IntakeClient, *messages: EmailMessage) -> list[Envelope[Event]]:
    bootstrap = intake.app.state.runtime.settings.kafka_bootstrap
    async with TopicProbe(bootstrap, [topics.MESSAGES], source=INTAKE) as probe:
        for message in messages:
            await send(intake, message)
        return await probe.events()


async def test_a_plain_email_becomes_a_message_on_a_new_thread(mail_intake: IntakeClient) -> None:
    mail = customer_mail("Where is my report?", "I paid a deposit two weeks ago.")

    [envelope] = await _events_of(mail_intake, mail)

    event = envelope.data
    assert isinstance(event, MessageReceived)
    assert event.channel == "email"
    assert event.author.role is Role.CUSTOMER
    assert event.customer.email == "dana@example.com"
    assert event.customer.name == "Dana Whitfield"
    assert event.subject == "Where is my report?"
    assert "deposit two weeks ago" in event.body
    assert event.email_message_id == mail["Message-ID"]
    assert event.thread_id.startswith("thr-")


async def test_multipart_alternative_prefers_the_text_part(mail_intake: IntakeClient) -> None:
    mail = customer_mail("Alternative")
    mail.set_content("The plain text version.")
    mail.add_alternative("<p>The <b>HTML</b> version.</p>", subtype="html")

    [envelope] = await _events_of(mail_intake, mail)

    assert envelope.data.body.strip() == "The plain text version."  # type: ignore[attr-defined]


async def test_an_html_only_email_becomes_text(mail_intake: IntakeClient) -> None:
    mail = customer_mail("HTML only")
    mail.set_content(
        "<html><head><style>p {color: red}</style><script>alert(1)</script></head>"
        "<body><p>Please <b>call me</b> today.</p></body></html>",
        subtype="html",
    )

    [envelope] = await _events_of(mail_intake, mail)

    body = envelope.data.body  # type: ignore[attr-defined]
    assert "call me" in body
    assert "<b>" not in body
    assert "alert" not in body
    assert "color" not in body


async def test_base64_in_iso_8859_1(mail_intake: IntakeClient) -> None:
    mail = customer_mail("Remboursement")
    mail.set_content("Très déçu, remboursez-moi.", charset="iso-8859-1", cte="base64")

    [envelope] = await _events_of(mail_intake, mail)

    assert "Très déçu, remboursez-moi." in envelope.data.body  # type: ignore[attr-defined]


async def test_an_attachment_is_recorded_as_metadata_only(mail_intake: IntakeClient) -> None:
    mail = customer_mail("Invoice attached", "See the invoice.")
    pdf = b"%PDF-1.4 secret invoice content " + b"x" * 2000
    mail.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice.pdf")

    [envelope] = await _events_of(mail_intake, mail)

    event = envelope.data
    assert isinstance(event, MessageReceived)
    [attachment] = event.attachments
    assert attachment.filename == "invoice.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size_bytes == len(pdf)
    assert "secret invoice" not in event.body


async def test_a_reply_chain_of_three_stays_on_one_thread(mail_intake: IntakeClient) -> None:
    first = customer_mail("My order", "Where is my order?")

    staff_reply = EmailMessage()
    staff_reply["From"] = f"Casey Brooks <{STAFF}>"
    staff_reply["To"] = "dana@example.com"
    staff_reply["Cc"] = SUPPORT
    staff_reply["Subject"] = "Re: My order"
    staff_reply["Message-ID"] = make_msgid(domain="brightline.example")
    staff_reply["In-Reply-To"] = first["Message-ID"]
    staff_reply["References"] = first["Message-ID"]
    staff_reply.set_content("It ships tomorrow.\n\nOn Monday, Dana wrote:\n> Where is my order?")

    second = customer_mail("Re: Re: My order", "Thanks! Can you confirm the time?\n\n> It ships")
    second["In-Reply-To"] = staff_reply["Message-ID"]
    second["References"] = f"{first['Message-ID']} {staff_reply['Message-ID']}"

    bootstrap = mail_intake.app.state.runtime.settings.kafka_bootstrap
    async with TopicProbe(bootstrap, [topics.MESSAGES], source=INTAKE) as probe:
        await send_mail(mail_intake, first)
        await send_mail(mail_intake, staff_reply, login=(STAFF, STAFF_PASSWORD))  # proven
        await send_mail(mail_intake, second)
        events = await probe.events()

    kinds = [type(e.data) for e in events]
    assert kinds == [MessageReceived, ReplySent, MessageReceived]
    assert len({e.data.thread_id for e in events}) == 1
    reply = events[1].data
    assert isinstance(reply, ReplySent)
    assert reply.author.role is Role.SERVICE
    assert reply.customer.email == "dana@example.com"
    assert reply.body.strip() == "It ships tomorrow."
    assert events[2].data.body.strip() == "Thanks! Can you confirm the time?"  # type: ignore[attr-defined]


async def test_a_subject_token_finds_the_thread(mail_intake: IntakeClient) -> None:
    [first] = await _events_of(mail_intake, customer_mail("First contact"))
    thread = first.data.thread_id

    [again] = await _events_of(mail_intake, customer_mail(f"Re: Your case [#{thread}]"))

    assert again.data.thread_id == thread


async def test_the_same_email_delivered_twice_is_one_event(mail_intake: IntakeClient) -> None:
    mail = customer_mail("Sent twice")
    events = await _events_of(mail_intake, mail, mail)
    assert len(events) == 1


async def test_mail_to_an_unknown_recipient_is_refused(mail_intake: IntakeClient) -> None:
    mail = customer_mail("Hello")
    del mail["To"]
    mail["To"] = "nobody@brightline.example"

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await send(mail_intake, mail)

    [(code, _)] = refused.value.recipients.values()
    assert code == 550


async def test_oversized_mail_is_refused_with_552(mail_intake: IntakeClient) -> None:
    mail = customer_mail("Huge", "x" * 300_000)
    bootstrap = mail_intake.app.state.runtime.settings.kafka_bootstrap

    async with TopicProbe(bootstrap, [topics.MESSAGES], source=INTAKE) as probe:
        with pytest.raises(smtplib.SMTPException) as refused:
            await send(mail_intake, mail)
        records = await probe.records()

    assert "552" in str(refused.value)
    assert records == []


async def test_mail_parsing_errors_do_not_stop_the_listener(mail_intake: IntakeClient) -> None:
    def deliver_garbage() -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", _port(mail_intake), timeout=30) as client:
            client.ehlo()
            client.mail("x@example.com")
            client.rcpt(SUPPORT)
            return client.data(b"\r\n")

    code, _ = await asyncio.to_thread(deliver_garbage)
    assert code >= 500
    [envelope] = await _events_of(mail_intake, customer_mail(f"still works {uuid.uuid4()}"))
    assert isinstance(envelope.data, MessageReceived)
