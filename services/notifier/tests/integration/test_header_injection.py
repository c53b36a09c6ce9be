"""Header injection attempts, through the real broker, the running notifier and a real SMTP
server: CR/LF and other line breaks in names and subjects, encoded words that decode to a line
break, extra "Bcc:"/"Cc:"/"To:" text and address lists in display names. Asserted on what the
server received: the RCPT TO list and the parsed headers."""

from __future__ import annotations

import base64
import uuid

import pytest
from keepword_events import Customer, Person, Role, topics
from keepword_testkit.kafka_probe import TopicProbe

from .mail import Catcher, Received
from .running import customer_message, escalation, new_thread, send_events, until

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]

VICTIMS = ("victim@evil.example", "eve@evil.example", "mallory@evil.example")
# RFC 2047 encoded words that decode to CR LF and a header (CVE-2024-6923 in the email package).
ENCODED_BCC = "=?utf-8?b?" + base64.b64encode(b"\r\nBcc: victim@evil.example").decode() + "?="
ENCODED_CC = "=?utf-8?q?=0D=0ACc:_eve@evil.example?="
# What the contract lets through: header-like words on one line, encoded words, address lists.
HOSTILE_NAME = (
    'Dana Bcc: victim@evil.example "Eve" <eve@evil.example>, mallory@evil.example ' + ENCODED_CC
)
HOSTILE_SUBJECT = (
    f"Refund {ENCODED_BCC} now Cc: eve@evil.example To: mallory@evil.example"
    " Bcc: victim@evil.example"
)
# What it refuses (line breaks of every kind, bidi overrides): only a record written without
# the models carries them.
LINE_BREAKS = "\r\n\u2028\u2029\x85\u202e"
OURS = [
    "From",
    "To",
    "Subject",
    "Message-ID",
    "Date",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "X-Keepword-Thread",
    "MIME-Version",
    "Content-Type",
]


def _assert_clean(email: Received, recipient: str) -> None:
    assert email.rcpt_tos == [recipient]
    assert email.mail_from == "support@brightline.example"
    assert email.message.keys() == OURS
    assert [str(a.addr_spec) for a in email.message["To"].addresses] == [recipient]
    head = email.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    for line in head.split("\r\n"):
        assert not line.lower().startswith(("bcc:", "cc:", "reply-to:")), line
    subject = str(email.message["Subject"])
    assert "\r" not in subject
    assert "\n" not in subject
    for name, value in email.message.items():
        if name != "Subject":  # the hostile words may be read there, as words
            assert not any(victim in str(value) for victim in VICTIMS), (name, value)


async def test_no_name_or_subject_adds_a_header_or_a_recipient(
    notifier: Catcher, fresh_kafka: str
) -> None:
    run = uuid.uuid4().hex[:8]
    dana = f"dana.{run}@example.com"
    manager = f"morgan.{run}@brightline.example"
    customer = Customer(email=dana, name=HOSTILE_NAME)
    ack_thread, escalation_thread, raw_thread = new_thread(), new_thread(), new_thread()
    valid = [
        customer_message(
            customer,
            ack_thread,
            subject=HOSTILE_SUBJECT,
            # What the customer's email called itself: the acknowledgement answers it only
            # when it is a plain Message-ID.
            email_message_id=f"<{ENCODED_BCC}@evil.example>",
        ),
        escalation(
            manager,
            escalation_thread,
            manager=Person(email=manager, name=HOSTILE_NAME, role=Role.MANAGEMENT),
            customer=customer,
            reason=f"Because\r\nBcc: victim@evil.example\r\n\r\n{HOSTILE_SUBJECT}",
        ),
    ]
    # Raw line breaks: the contract's models refuse them, so a tool writing straight onto the
    # topic without them is the only way in. The notifier must dead-letter it, not email anyone.
    valid_form = customer_message(Customer(email=dana, name="Dana"), raw_thread)
    hostile_email = f"{dana}\r\nBcc: victim@evil.example"
    smuggled = type(valid_form).model_construct(
        **dict(valid_form)
        | {
            "customer": Customer.model_construct(
                email=hostile_email, name=f"Dana{LINE_BREAKS}Cc: x"
            ),
            "author": Person.model_construct(email=hostile_email, role=Role.CUSTOMER),
            "subject": f"Hi{LINE_BREAKS}Bcc: victim@evil.example",
        }
    )

    async with TopicProbe(fresh_kafka, [f"{topics.MESSAGES}.dlq"]) as dead_letters:
        await send_events(fresh_kafka, [*valid, smuggled])

        async def both_arrived() -> bool:
            return bool(notifier.to(dana, ack_thread)) and bool(notifier.to(manager))

        await until(both_arrived, "the acknowledgement and the escalation email")

        async def dead_lettered() -> bool:
            keys = [r.key for r in await dead_letters.records()]
            return raw_thread.encode() in keys

        await until(dead_lettered, "the raw record on the dead-letter topic")

    [ack] = notifier.to(dana, ack_thread)
    [to_manager] = notifier.to(manager)
    _assert_clean(ack, dana)
    _assert_clean(to_manager, manager)
    assert "Refund = ?utf-8?b?" in str(ack.message["Subject"])  # the words, not a decoded header
    thread_reference = f"<kw.{ack_thread}.thread@brightline.example>"
    assert ack.message["In-Reply-To"] == thread_reference  # not the hostile Message-ID
    assert ack.message["References"] == thread_reference
    # Nobody else heard anything about these threads, and nothing about the smuggled one.
    about_ours = [
        m
        for m in list(notifier.mail)
        if any(t in m.raw.decode("utf-8", "replace") for t in (ack_thread, escalation_thread))
    ]
    assert sorted(r for m in about_ours for r in m.rcpt_tos) == sorted([dana, manager])
    assert not [m for m in list(notifier.mail) if raw_thread in m.raw.decode("utf-8", "replace")]
    assert not [m for m in list(notifier.mail) if set(m.rcpt_tos) & set(VICTIMS)]
