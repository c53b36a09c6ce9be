"""Real-world mail: every email of the corpus is read, and each known failure mode reads right.

The corpus (`../mail_corpus`, sources and licences in its README) holds real bounces, spam,
replies from a dozen clients and one hand-written email per failure mode.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from keepword_intake.inbound_email import AttachmentInfo, InboundEmail, parse_inbound_email

CORPUS = Path(__file__).parent.parent / "mail_corpus"
EMAILS = sorted(CORPUS.glob("*.eml"))


def read(name: str) -> InboundEmail:
    return parse_inbound_email((CORPUS / f"{name}.eml").read_bytes())


def test_the_corpus_holds_at_least_a_hundred_emails() -> None:
    assert len(EMAILS) >= 100


@pytest.mark.parametrize("path", EMAILS, ids=[path.stem for path in EMAILS])
def test_every_email_of_the_corpus_is_read(path: Path) -> None:
    # Bounces come from MAILER-DAEMON with an empty From at times: the envelope names one.
    email = parse_inbound_email(path.read_bytes(), envelope_from="mailer-daemon@example.org")

    assert email.full_text.strip() or email.attachments
    assert email.body.strip() == email.body
    assert len(email.full_text) <= 200_000
    email.full_text.encode("utf-8")  # no lone surrogates: fit for JSON, Kafka and Postgres


def test_an_unquoted_outlook_boundary_with_an_equals_sign_keeps_the_body() -> None:
    # "boundary=----=_NextPart_000_..." unquoted: the header parser ends a token at "=".
    email = read("hand-outlook-unquoted-boundary")

    assert (
        email.body == "Hello, my order 1234 has not arrived \u2013 please advise.\n\nThanks,\nAlex"
    )
    assert email.attachments == ()


def test_unquoted_outlook_boundaries_nested_keep_the_body_and_the_attachment() -> None:
    email = read("hand-outlook-unquoted-boundary-nested")

    assert email.body == "Invoice attached, it is wrong."
    assert email.attachments == (AttachmentInfo("invoice.pdf", "application/pdf", 14),)


def test_winmail_dat_is_an_attachment_and_the_text_is_read() -> None:
    email = read("hand-winmail-dat")

    assert email.body == "Please see the attached order form."
    assert email.attachments == (AttachmentInfo("winmail.dat", "application/ms-tnef", 41),)


@pytest.mark.parametrize(
    ("name", "subject", "sender", "body"),
    [
        (
            "hand-8bit-raw-headers",
            "Commande n°42 — très urgent",
            "Hélène Dupré",
            "Bonjour, où est mon colis ?",
        ),
        (
            "hand-8bit-raw-headers-latin1",
            "Bestellung für Müller",
            "Jörg Müller",
            "Grüße, wo bleibt die Lieferung?",
        ),
    ],
    ids=["utf-8", "latin-1"],
)
def test_raw_8bit_headers_are_read_as_text(name: str, subject: str, sender: str, body: str) -> None:
    email = read(name)

    assert (email.subject, email.from_name, email.body) == (subject, sender, body)


def test_an_html_only_email_is_read_as_text_without_its_quote_or_script() -> None:
    email = read("hand-html-only")

    assert email.body == (
        "The blender stopped working after two days.\nCan you send a replacement?"
    )
    assert "alert" not in email.full_text
    assert "<div" not in email.full_text


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("hand-iso-8859-2", "Dzień dobry, zamówienie 1234 nie dotarło. Proszę o zwrot."),
        ("hand-iso-8859-15", "Le colis coûte 45 € et n'est pas arrivé."),
        (
            "hand-windows-1252-labelled-iso-8859-1",
            "\u201cWhere\u201d is my refund \u2013 it\u2019s been 3 weeks. Total: €120",
        ),
        ("hand-koi8-r", "Здравствуйте! Мой заказ 1234 не пришёл."),
        ("hand-shift-jis", "注文1234が届いていません。返金してください。"),
        ("hand-iso-2022-jp", "注文が届いていません。"),
        ("hand-gb2312-mislabelled-gbk", "您好\uff0c我的订单还没到。镕"),
        ("hand-unknown-charset-name", "Café order: still waiting, naïve me."),
        ("hand-unknown-8bit-cp1252", "Café order: still waiting."),
        ("hand-charset-label-quoted-oddly", "Where is my parcel?"),
    ],
    ids=lambda value: value.removeprefix("hand-") if value.startswith("hand-") else "",
)
def test_odd_charsets_are_decoded(name: str, body: str) -> None:
    assert read(name).body == body


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("hand-missing-boundary-parameter", "My order never came, where is it?"),
        ("hand-boundary-never-occurs", "The parcel is damaged."),
        ("hand-truncated-part", "Photo of the broken lamp attached."),
        ("hand-unknown-transfer-encoding", "Still waiting for the refund."),
        ("hand-no-blank-line-after-headers", "This line has no blank line before it."),
        ("hand-null-bytes-in-body", "Order 1234 is late."),
    ],
    ids=lambda value: value.removeprefix("hand-") if value.startswith("hand-") else "",
)
def test_broken_mime_still_gives_the_text(name: str, body: str) -> None:
    assert read(name).body == body


@pytest.mark.parametrize(
    ("name", "starts"), [("hand-bad-base64", "Where is my"), ("hand-bad-quoted-printable", "Where")]
)
def test_bad_transfer_encodings_give_what_can_be_decoded(name: str, starts: str) -> None:
    assert read(name).body.startswith(starts)


def test_a_declared_boundary_that_never_occurs_is_read_under_the_one_used() -> None:
    # A real spam message (mail-parser's corpus) whose parts use another boundary.
    email = read("mailparser-mail-malformed-3")

    assert email.subject == "Ahorre Dinero en su Recibo de Luz"
    assert len(email.body) > 200


def test_a_forwarded_message_nested_twice_is_metadata_only() -> None:
    email = read("hand-nested-rfc822-twice")

    assert email.body == "Forwarding the chain."
    assert [a.content_type for a in email.attachments] == ["message/rfc822"]
    assert "refund" not in email.full_text


def test_a_calendar_invite_keeps_its_text_and_records_the_calendar() -> None:
    email = read("hand-calendar-invite")

    assert email.body == "You have been invited to: Call about order 1234"
    assert [a.content_type for a in email.attachments] == ["text/calendar", "application/ics"]


def test_a_delivery_status_notification_is_automatic_and_readable() -> None:
    email = read("hand-dsn-bounce")

    assert email.auto_submitted
    assert email.body.startswith("This is the mail system at host mx.example.com.")
    assert "message/delivery-status" in [a.content_type for a in email.attachments]


def test_real_bounces_are_automatic_and_people_are_not() -> None:
    # Most real bounces carry no RFC 3834 mark; a report, a null or MAILER-DAEMON return path or
    # a postmaster sender gives them away. The rest read like a person's mail (some are forwards
    # of a bounce by a person): 8 of flufl.bounce's 117 stay unmarked.
    bounces = [path for path in EMAILS if path.stem.startswith("bounce-")]
    marked = [
        path.stem
        for path in bounces
        if parse_inbound_email(
            path.read_bytes(), envelope_from="bounces@example.org"
        ).auto_submitted
    ]
    people = ["hand-outlook-reply-no-markers", "hand-gmail-wrapped-attribution", "talon-gmail"]

    assert len(marked) >= len(bounces) - 8
    assert not [name for name in people if read(name).auto_submitted]


@pytest.mark.parametrize(
    "name", ["hand-auto-reply-out-of-office", "hand-auto-reply-precedence-bulk"]
)
def test_auto_replies_are_marked_automatic(name: str) -> None:
    assert read(name).auto_submitted


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("hand-outlook-reply-no-markers", "Please cancel it."),
        ("hand-gmail-wrapped-attribution", "Still nothing arrived."),
        ("hand-iphone-signature", "Yes, the address is right."),
        ("talon-gmail", "Hello"),
        ("talon-outlook", "Hello"),
        ("talon-apple_mail", "Hello"),
    ],
)
def test_replies_keep_only_what_their_author_wrote(name: str, body: str) -> None:
    assert read(name).body == body
