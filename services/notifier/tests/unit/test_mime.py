"""The MIME the notifier writes itself: any mail reader (here the standard library's parser)
reads back exactly what was rendered — subject, sender's name, both bodies — whatever the
characters, with lines short enough for SMTP and nothing but ASCII on the wire."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keepword_notifier.compose import compose, to_wire
from keepword_notifier.recipients import Notice
from keepword_notifier.rendering import header_safe, render
from keepword_notifier.sendlog import Send
from keepword_platform.company import CompanyConfig

AT = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)
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


def _wire(send: Send, sender_name: str = "Brightline Digital") -> bytes:
    email = compose(
        send, sender_name=sender_name, sender_address="support@brightline.example", at=AT
    )
    return to_wire(email)


def _read(data: bytes) -> EmailMessage:
    parsed = message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert not parsed.defects
    return parsed


def _body(parsed: EmailMessage, kind: str) -> str:
    part = parsed.get_body((kind,))
    assert part is not None
    assert not part.defects
    content: str = part.get_content()
    return content


def _as_lines(text: str) -> str:
    # A body travels as lines ending in CR LF, whatever ended each one.
    lines = re.sub(r"\r\n|\r", "\n", text)
    return lines if lines.endswith("\n") else lines + "\n"


def _assert_reads_back(send: Send, sender_name: str, data: bytes) -> None:
    assert data.isascii()  # 7bit, quoted-printable or base64: no 8BITMIME needed
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert b"\n" not in data.replace(b"\r\n", b"")
    parsed = _read(data)
    assert str(parsed["Subject"]) == header_safe(send.subject)
    assert parsed["From"].addresses[0].display_name == header_safe(sender_name)
    assert parsed["From"].addresses[0].addr_spec == "support@brightline.example"
    assert _as_lines(_body(parsed, "plain")) == _as_lines(send.body_text)
    assert _as_lines(_body(parsed, "html")) == _as_lines(send.body_html)


def test_every_rendered_example_reads_back_as_rendered(
    example_name: str, examples: dict[str, Notice], company: CompanyConfig
) -> None:
    email = render(examples[example_name], company)
    send = replace(SEND, subject=email.subject, body_text=email.text, body_html=email.html)

    _assert_reads_back(send, "Brightline Digital", _wire(send))


def test_short_ascii_lines_go_as_they_are() -> None:
    data = _wire(SEND)
    assert b"Content-Transfer-Encoding: 7bit\r\n\r\nDear Dana,\r\n" in data
    assert b"Subject: We received your message [#thr-0123456789abcdef]\r\n" in data


def test_a_long_ascii_subject_is_folded_at_spaces() -> None:
    subject = " ".join(["word"] * 30) + " [#thr-0123456789abcdef]"
    data = _wire(replace(SEND, subject=subject))

    head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert max(len(line) for line in head) <= 78
    assert str(_read(data)["Subject"]) == subject


def test_non_ascii_goes_in_encoded_words_and_quoted_printable() -> None:
    send = replace(
        SEND,
        subject="Ihre Nachricht über Grüße [#thr-0123456789abcdef]",
        body_text="Sehr geehrte Frau Müller,\n",
    )
    data = _wire(send, sender_name="Bücher & Söhne")

    assert b"=?utf-8?" in data.split(b"\r\n\r\n", 1)[0]
    assert b"Content-Transfer-Encoding: quoted-printable\r\n\r\nSehr geehrte Frau M=C3=BCller" in (
        data
    )
    _assert_reads_back(send, "Bücher & Söhne", data)


def test_text_mostly_outside_latin_goes_in_base64() -> None:
    send = replace(SEND, body_text="お問い合わせありがとうございます。\n" * 3)
    data = _wire(send)

    assert b"Content-Transfer-Encoding: base64" in data
    _assert_reads_back(send, "Brightline Digital", data)


def test_a_body_quoting_the_boundary_gets_another_one() -> None:
    send = replace(SEND, body_text=f"--=_kw_{SEND.notification_id}\n")
    data = _wire(send)

    assert b'boundary="=_kw_ntf-0123456789abcdef0123_1"' in data
    _assert_reads_back(send, "Brightline Digital", data)
    assert _wire(send) == data  # still the same bytes every time


def test_an_address_that_cannot_be_written_is_refused() -> None:
    for recipient in ("dana@exämple.com", "dana@example.com\r\nBcc: x@evil.example", ""):
        with pytest.raises(ValueError, match="address"):
            _wire(replace(SEND, recipient=recipient))


TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300
) | st.sampled_from(["", "a" * 500, "x " * 120, "=?utf-8?b?DQpCY2M6IHhAZXZpbA==?=", "\r\n.\r\n"])


@settings(max_examples=300, deadline=None)
@given(subject=TEXT, name=TEXT, text=TEXT, html=TEXT)
def test_whatever_the_characters_the_email_reads_back_as_written(
    subject: str, name: str, text: str, html: str
) -> None:
    send = replace(SEND, subject=subject, body_text=text, body_html=html)
    data = _wire(send, sender_name=name)

    _assert_reads_back(send, name, data)
    assert _read(data).keys() == [
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
