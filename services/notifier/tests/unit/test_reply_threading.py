"""A reply to a notifier email comes back to its thread: intake's own parsing of inbound email
(`keepword_intake`) finds the thread from the In-Reply-To and References the notifier set —
also when the reply's subject lost its thread token."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from keepword_intake.inbound_email import parse_inbound_email
from keepword_intake.mail_facts import thread_named_in
from keepword_notifier.compose import compose, to_wire
from keepword_notifier.sendlog import Send

THREAD = "thr-0123456789abcdef"
SEND = Send(
    idempotency_key="evt-1:morgan.lead@brightline.example:escalation_opened_manager",
    notification_id="ntf-0123456789abcdef0123",
    source_event_id="evt-1",
    thread_id=THREAD,
    template="escalation_opened_manager",
    recipient="morgan.lead@brightline.example",
    recipient_role="management",
    message_id=f"<kw.{THREAD}.0123456789ab@brightline.example>",
    subject=f"Decision needed: a customer is waiting [#{THREAD}]",
    body_text="Dear Morgan,\n",
    body_html="<p>Dear Morgan,</p>\n",
)


def _sent(send: Send) -> tuple[str, str]:
    """The Message-ID and References of `send` as it went out."""
    data = to_wire(
        compose(
            send,
            sender_name="Brightline Digital",
            sender_address="support@brightline.example",
            at=datetime(2026, 11, 2, 14, 30, tzinfo=UTC),
        )
    )
    sent = message_from_bytes(data, policy=policy.default)
    return str(sent["Message-ID"]), str(sent["References"])


def _reply(from_address: str, *, in_reply_to: str, references: str | None) -> bytes:
    """A reply as a mail client writes it: its subject without our token."""
    lines = [
        f"From: {from_address}",
        "To: support@brightline.example",
        "Subject: Re: Decision needed",
        "Message-ID: <reply-1@mail.example.com>",
        "Date: Mon, 02 Nov 2026 15:00:00 +0000",
        f"In-Reply-To: {in_reply_to}",
        *([f"References: {references} {in_reply_to}"] if references else []),
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Handle it.",
        "",
    ]
    return "\r\n".join(lines).encode()


@pytest.mark.parametrize("keeps_references", [True, False])
def test_a_reply_to_a_staff_email_is_threaded_by_intake(keeps_references: bool) -> None:
    message_id, references = _sent(SEND)
    raw = _reply(
        "morgan.lead@brightline.example",
        in_reply_to=message_id,
        references=references if keeps_references else None,
    )
    assert thread_named_in(parse_inbound_email(raw)) == THREAD


def test_a_reply_to_a_customer_email_is_threaded_by_intake() -> None:
    theirs = "<CAB+x=1.abc@mail.example.com>"  # the customer's email we answered
    to_customer = replace(
        SEND,
        template="acknowledgement_customer",
        recipient="dana@example.com",
        recipient_role="customer",
        in_reply_to=theirs,
    )
    message_id, references = _sent(to_customer)
    assert theirs in references  # their mail client threads our answer under their email
    raw = _reply("dana@example.com", in_reply_to=message_id, references=references)
    assert thread_named_in(parse_inbound_email(raw)) == THREAD
    # A client that keeps only References (some drop In-Reply-To) still names the thread.
    only_references = _reply("dana@example.com", in_reply_to=theirs, references=references)
    assert thread_named_in(parse_inbound_email(only_references)) == THREAD
