"""Mail claiming a staff or manager address, sent to the real SMTP listener: only proven mail
(SMTP AUTH, the company's DKIM signature) is a reply; the rest is an unknown sender's message,
flagged `sender_verified: false`."""

from __future__ import annotations

import re
import smtplib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from keepword_events import Envelope, Event, MessageReceived, ReplySent, Role, topics
from keepword_events.thread_refs import new_thread_id
from keepword_intake.publishing import SOURCE as INTAKE
from keepword_intake.smtp_auth import password_digest
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.mail_signing import new_dkim_key
from keepword_testkit.processes import free_port

from .conftest import IntakeClient, running_intake, send_mail

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]

CONFIG = Path(__file__).resolve().parents[4] / "deploy" / "local" / "keepword.toml"
SUPPORT = "support@brightline.example"
STAFF = "casey.service@brightline.example"
MANAGER = "morgan.lead@brightline.example"
PASSWORD = "a-long-generated-token-for-casey"
COMPANY_KEY = new_dkim_key("brightline.example")
OTHER_KEY = new_dkim_key("attacker.example")


@pytest.fixture
async def mail_intake(catalog_topics: str, database_url: str) -> AsyncIterator[IntakeClient]:
    async with running_intake(
        kafka_bootstrap=catalog_topics,
        database_url=database_url,
        config=CONFIG,
        smtp_listen_port=free_port(),
        smtp_users={STAFF: password_digest(PASSWORD)},
        smtp_auth_plaintext_localhost=True,
        dkim_keys={k.dns_name: k.txt_record for k in (COMPANY_KEY, OTHER_KEY)},
        dkim_dns=False,
        trusted_mtas=["mx.brightline.example"],
    ) as client:
        yield client


def reply_from(sender: str, thread: str, body: str = "It ships tomorrow.") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "dana@example.com"
    message["Cc"] = SUPPORT
    message["Subject"] = f"Re: My order [#{thread}]"
    message["Message-ID"] = make_msgid(domain="brightline.example")
    message.set_content(body)
    return message


def wire(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


async def delivered(
    intake: IntakeClient, mail: EmailMessage | bytes, login: tuple[str, str] | None = None
) -> Envelope[Event]:
    """The event of `mail` (other tests publish on the same topic meanwhile)."""
    raw = mail if isinstance(mail, bytes) else wire(mail)
    found = re.search(rb"^Message-ID: (<[^>]+>)", raw, re.MULTILINE | re.IGNORECASE)
    assert found is not None
    bootstrap = intake.app.state.runtime.settings.kafka_bootstrap
    async with TopicProbe(bootstrap, [topics.MESSAGES], source=INTAKE) as probe:
        await send_mail(intake, mail, login=login)
        events = await probe.events()
    [event] = [e for e in events if _email_id(e) == found[1].decode()]
    return event


def _email_id(event: Envelope[Event]) -> str | None:
    return getattr(event.data, "email_message_id", None)


def unverified(event: Envelope[Event], claimed: str) -> bool:
    data = event.data
    return (
        isinstance(data, MessageReceived)
        and data.sender_verified is False
        and data.author.role is Role.CUSTOMER
        and data.author.email == claimed
        and data.customer.email is None  # the thread's customer is not taken over
    )


async def test_a_staff_address_without_proof_is_an_unverified_message(
    mail_intake: IntakeClient,
) -> None:
    event = await delivered(mail_intake, reply_from(STAFF, new_thread_id()))
    assert unverified(event, STAFF)


async def test_a_manager_saying_handle_it_without_proof_is_unverified(
    mail_intake: IntakeClient,
) -> None:
    event = await delivered(mail_intake, reply_from(MANAGER, new_thread_id(), "Handle it."))
    assert unverified(event, MANAGER)


async def test_the_companys_dkim_signature_makes_it_a_reply(mail_intake: IntakeClient) -> None:
    event = await delivered(mail_intake, COMPANY_KEY.sign(wire(reply_from(STAFF, new_thread_id()))))
    assert isinstance(event.data, ReplySent)
    assert event.data.sender_verified is True
    assert event.data.author.role is Role.SERVICE


async def test_a_signature_of_another_domain_does_not_count(mail_intake: IntakeClient) -> None:
    event = await delivered(mail_intake, OTHER_KEY.sign(wire(reply_from(STAFF, new_thread_id()))))
    assert unverified(event, STAFF)


async def test_a_signed_reply_replayed_into_another_thread_is_unverified(
    mail_intake: IntakeClient,
) -> None:
    original, victim = new_thread_id(), new_thread_id()
    signed = COMPANY_KEY.sign(wire(reply_from(STAFF, original)))
    replayed = signed.replace(original.encode(), victim.encode())
    event = await delivered(mail_intake, replayed)
    assert event.data.thread_id == victim
    assert unverified(event, STAFF)


async def test_a_forged_authentication_results_is_ignored(mail_intake: IntakeClient) -> None:
    forged = (
        b"Authentication-Results: mx.brightline.example; dkim=pass header.d=brightline.example\r\n"
    ) + wire(reply_from(MANAGER, new_thread_id(), "Handle it."))
    event = await delivered(mail_intake, forged)  # straight to the listener, not via the MTA
    assert unverified(event, MANAGER)


async def test_smtp_auth_makes_it_a_reply(mail_intake: IntakeClient) -> None:
    event = await delivered(
        mail_intake, reply_from(STAFF, new_thread_id()), login=(STAFF, PASSWORD)
    )
    assert isinstance(event.data, ReplySent)
    assert event.data.customer.email == "dana@example.com"


async def test_a_login_vouches_for_its_own_address_only(mail_intake: IntakeClient) -> None:
    mail = reply_from(MANAGER, new_thread_id(), "Handle it.")
    event = await delivered(mail_intake, mail, login=(STAFF, PASSWORD))
    assert unverified(event, MANAGER)


async def test_a_wrong_password_is_refused(mail_intake: IntakeClient) -> None:
    with pytest.raises(smtplib.SMTPAuthenticationError):
        await send_mail(mail_intake, reply_from(STAFF, new_thread_id()), login=(STAFF, "guess"))


async def test_customers_need_no_proof(mail_intake: IntakeClient) -> None:
    event = await delivered(mail_intake, reply_from("dana@example.com", new_thread_id()))
    assert isinstance(event.data, MessageReceived)
    assert event.data.sender_verified is True
    assert event.data.customer.email == "dana@example.com"
