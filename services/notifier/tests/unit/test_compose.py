"""The email on the wire: exactly our headers, whatever people wrote."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from keepword_notifier.compose import UnsafeEmail, compose, to_wire
from keepword_notifier.rendering import header_safe
from keepword_notifier.sendlog import Send

AT = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)
SMUGGLED = base64.b64encode(b"\r\nBcc: victim@evil.example").decode()
# An RFC 2047 encoded word that decodes to a line break and a Bcc header (CVE-2024-6923).
ENCODED_BCC = f"=?utf-8?b?{SMUGGLED}?="
SEND = Send(
    idempotency_key="evt-1:dana@example.com:acknowledgement_customer",
    notification_id="ntf-0123456789abcdef0123",
    source_event_id="evt-1",
    thread_id="thr-0123456789abcdef",
    template="acknowledgement_customer",
    recipient="dana@example.com",
    recipient_role="customer",
    message_id="<kw.thr-0123456789abcdef.0123456789ab@brightline.example>",
    subject="We received your message [#thr-0123456789abcdef]",
    body_text="Dear Dana,\n",
    body_html="<p>Dear Dana,</p>\n",
)
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


def _wire(send: Send, sender_name: str = "Brightline Digital") -> bytes:
    message = compose(
        send, sender_name=sender_name, sender_address="support@brightline.example", at=AT
    )
    return to_wire(message)


def test_an_email_has_exactly_our_headers() -> None:
    parsed = message_from_bytes(_wire(SEND), policy=policy.default)
    assert parsed.keys() == OURS
    assert parsed["To"] == "dana@example.com"


@pytest.mark.parametrize(
    "subject",
    [
        f"We received your message: {ENCODED_BCC}",
        f"=?utf-8?q?=0D=0ABcc:_victim@evil.example?= {ENCODED_BCC}",
        "Hi\r\nBcc: victim@evil.example",
        "Hi\u2028Bcc: victim@evil.example\x85Cc: x@evil.example",
    ],
)
def test_no_subject_smuggles_a_header(subject: str) -> None:
    data = _wire(replace(SEND, subject=subject))
    parsed = message_from_bytes(data, policy=policy.default)

    assert parsed.keys() == OURS
    assert "\n" not in str(parsed["Subject"])
    assert b"\r\nBcc:" not in data
    assert b"\r\nCc:" not in data


def test_the_senders_name_cannot_smuggle_a_header_either() -> None:
    parsed = message_from_bytes(_wire(SEND, sender_name=f"Co {ENCODED_BCC}"), policy=policy.default)
    assert parsed.keys() == OURS


def test_a_digest_names_no_thread() -> None:
    parsed = message_from_bytes(_wire(replace(SEND, thread_id=None)), policy=policy.default)
    assert "X-Keepword-Thread" not in parsed
    assert "In-Reply-To" not in parsed
    assert "References" not in parsed


THREAD_REF = "<kw.thr-0123456789abcdef.thread@brightline.example>"


def test_an_email_answers_the_thread_or_the_customers_email() -> None:
    alone = message_from_bytes(_wire(SEND), policy=policy.default)
    assert (alone["In-Reply-To"], alone["References"]) == (THREAD_REF, THREAD_REF)

    theirs = "<CAB+x=1.abc@mail.example.com>"
    answering = message_from_bytes(_wire(replace(SEND, in_reply_to=theirs)), policy=policy.default)
    assert answering["In-Reply-To"] == theirs
    assert str(answering["References"]).split() == [THREAD_REF, theirs]


@pytest.mark.parametrize(
    "theirs",
    [
        "<a@b>\r\nBcc: victim@evil.example",
        f"<{ENCODED_BCC}@evil.example>",
        "<two@ids.example> <and@more.example>",
        "<no-at-sign>",
        "<ünïcode@example.com>",
        "<" + "x" * 300 + "@example.com>",
    ],
)
def test_what_someones_email_called_itself_goes_into_no_header_unless_plain(theirs: str) -> None:
    data = _wire(replace(SEND, in_reply_to=theirs))
    parsed = message_from_bytes(data, policy=policy.default)

    assert parsed.keys() == OURS
    assert (parsed["In-Reply-To"], parsed["References"]) == (THREAD_REF, THREAD_REF)
    assert b"evil" not in data


@pytest.mark.parametrize("line_break", ["\r\n", "\n", "\r"])
def test_a_header_that_breaks_a_line_on_the_wire_is_refused(line_break: str) -> None:
    email = compose(SEND, sender_name="Co", sender_address="support@brightline.example", at=AT)
    # As a vulnerable encoder would write it (CVE-2024-6923: a decoded CR LF written out raw),
    # had the subject not been made safe.
    smuggling = tuple(
        (name, f"Hi{line_break}Bcc: victim@evil.example" if name == "Subject" else value)
        for name, value in email.headers
    )
    with pytest.raises(UnsafeEmail, match="bcc"):
        to_wire(replace(email, headers=smuggling))


def test_header_safe_breaks_up_encoded_words() -> None:
    safe = header_safe(f"Hi {ENCODED_BCC}")
    assert "=?" not in safe
    assert safe.startswith("Hi = ?utf-8?b?")
