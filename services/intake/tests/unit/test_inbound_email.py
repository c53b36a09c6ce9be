"""Reading inbound email: real messages built with the standard library, as smtplib sends them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from keepword_intake.inbound_email import (
    AttachmentInfo,
    EmailParseError,
    InboundEmail,
    parse_inbound_email,
)

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\nSECRET-PDF-CONTENT\n%%EOF\n"


def wire(message: Message) -> bytes:
    """The bytes smtplib would send (CRLF line ends; the server undoes dot-stuffing)."""
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def email_message(body: str = "Where is my order?", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Alex Doe <Alex.Doe@Example.com>"
    message["To"] = "Support@Shop.example"
    message["Subject"] = "Order 1234"
    message["Date"] = "Mon, 02 Nov 2026 10:00:00 +0100"
    message["Message-ID"] = "<m1@example.com>"
    for name, value in headers.items():
        del message[name.replace("_", "-")]
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def parse(message: Message, envelope_from: str | None = None) -> InboundEmail:
    return parse_inbound_email(wire(message), envelope_from=envelope_from)


# --- headers -------------------------------------------------------------------------------


def test_a_plain_text_email_is_read_whole() -> None:
    email = parse_inbound_email(wire(email_message("Where is my order?\nIt is late.")))

    assert email.message_id == "<m1@example.com>"
    assert email.in_reply_to is None
    assert email.references == ()
    assert email.from_address == "alex.doe@example.com"
    assert email.from_name == "Alex Doe"
    assert email.to == ("support@shop.example",)
    assert email.subject == "Order 1234"
    assert email.body == "Where is my order?\nIt is late."
    assert email.full_text == email.body
    assert email.sent_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert email.sent_at.utcoffset() == timedelta(hours=1)
    assert email.attachments == ()
    assert email.auto_submitted is False


def test_an_encoded_subject_and_sender_name_are_decoded() -> None:
    message = email_message(
        Subject="Commande n°42 — très urgent", From="Hélène Dupré <helene@example.fr>"
    )
    raw = wire(message)
    assert b"=?utf-8?" in raw  # really RFC 2047 on the wire

    email = parse_inbound_email(raw)

    assert email.subject == "Commande n°42 — très urgent"
    assert email.from_name == "Hélène Dupré"
    assert email.from_address == "helene@example.fr"


def test_raw_utf8_headers_are_read_as_text() -> None:
    raw = wire(email_message(Subject="PLACEHOLDER")).replace(
        b"Subject: PLACEHOLDER", "Subject: Reçu cassé".encode()
    )
    raw = raw.replace(b"From: Alex Doe", "From: Zoë Ångström".encode())

    email = parse_inbound_email(raw)

    assert email.subject == "Reçu cassé"
    assert email.from_name == "Zoë Ångström"


def test_control_characters_injected_into_the_subject_are_gone() -> None:
    raw = wire(email_message(Subject="PLACEHOLDER")).replace(
        b"PLACEHOLDER", b"=?utf-8?q?Refund=0D=0ABcc:_evil@x.example=00now=09please=7F?="
    )

    email = parse_inbound_email(raw)

    assert email.subject == "Refund Bcc: evil@x.example now please"


def test_a_long_subject_and_name_are_capped_at_300_characters() -> None:
    email = parse(email_message(Subject="word " * 200, From=f'"{"N" * 400}" <a@example.com>'))

    assert email.subject is not None
    assert len(email.subject) == 299  # cut at 300, then the trailing space dropped
    assert email.from_name == "N" * 300


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Mon, 02 Nov 2026 10:00:00 -0500", datetime(2026, 11, 2, 15, 0, tzinfo=UTC)),
        ("Mon, 02 Nov 2026 10:00:00 -0000", datetime(2026, 11, 2, 10, 0, tzinfo=UTC)),
        ("2 Nov 2026 10:00:00", datetime(2026, 11, 2, 10, 0, tzinfo=UTC)),
        ("yesterday, around tea time", None),
        ("Mon, 99 Foo 2026 99:99:99 +9999", None),
    ],
)
def test_the_date_is_aware_or_none(date: str, expected: datetime | None) -> None:
    email = parse(email_message(Date=date))

    assert email.sent_at == expected
    assert email.sent_at is None or email.sent_at.tzinfo is not None


def test_a_missing_date_and_message_id_are_none() -> None:
    message = email_message()
    del message["Date"]
    del message["Message-ID"]

    email = parse(message)

    assert email.sent_at is None
    assert email.message_id is None


def test_a_message_id_without_angle_brackets_is_invalid() -> None:
    assert parse(email_message(Message_ID="m1@example.com")).message_id is None
    assert parse(email_message(Message_ID="  <m1@example.com>  ")).message_id == "<m1@example.com>"


def test_references_and_in_reply_to_keep_their_ids_in_order() -> None:
    ids = [f"<{n}.{'x' * 30}@shop.example>" for n in range(4)]
    message = email_message(
        In_Reply_To=f"{ids[-1]} (Dana's message of Monday)",
        References=f"{ids[0]} {ids[1]} (a comment) {ids[2]}  {ids[3]}",
    )
    raw = wire(message)
    assert b">\r\n <" in raw  # folded over several lines on the wire

    email = parse_inbound_email(raw)

    assert email.in_reply_to == ids[-1]
    assert email.references == tuple(ids)


def test_to_and_cc_are_lowercased_without_duplicates() -> None:
    message = email_message(
        To='Support <Support@Shop.example>, "Sales, EU" <sales@shop.example>',
        Cc="support@shop.example, Boss@Example.com, undisclosed-recipients:;",
    )

    email = parse(message)

    assert email.to == ("support@shop.example", "sales@shop.example", "boss@example.com")


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ({"Auto-Submitted": "auto-replied"}, True),
        ({"Auto-Submitted": "auto-generated; owner-email=x@example.com"}, True),
        ({"Auto-Submitted": "no"}, False),
        ({"Precedence": "bulk"}, True),
        ({"Precedence": "List"}, True),
        ({"Precedence": "first-class"}, False),
        ({"X-Autoreply": "yes"}, True),
        ({"X-Autorespond": "Out of office"}, True),
        ({}, False),
    ],
)
def test_automatic_mail_is_recognised(headers: dict[str, str], automatic: bool) -> None:
    assert parse(email_message(**headers)).auto_submitted is automatic


# --- sender --------------------------------------------------------------------------------


def test_without_a_from_header_the_envelope_sender_is_used() -> None:
    message = email_message()
    del message["From"]

    email = parse(message, envelope_from="<Bounce@Mailer.example>")

    assert email.from_address == "bounce@mailer.example"
    assert email.from_name is None


@pytest.mark.parametrize(
    "sender", ["not an address", "Dana <dana@localhost>", "(" * 500 + "dana@example.com"]
)
def test_an_unusable_from_header_falls_back_to_the_envelope_sender(sender: str) -> None:
    raw = wire(email_message(From="placeholder@example.com")).replace(
        b"placeholder@example.com", sender.encode()
    )

    email = parse_inbound_email(raw, envelope_from="dana@example.com")

    assert email.from_address == "dana@example.com"


def test_no_usable_sender_at_all_is_a_parse_error() -> None:
    message = email_message()
    del message["From"]

    with pytest.raises(EmailParseError, match="no sender"):
        parse(message, envelope_from="<>")
    with pytest.raises(EmailParseError, match="no sender"):
        parse(message)


@pytest.mark.parametrize("raw", [b"", b"\r\n", b" \r\n\r\n\t"])
def test_empty_input_is_a_parse_error(raw: bytes) -> None:
    with pytest.raises(EmailParseError, match="empty"):
        parse_inbound_email(raw, envelope_from="a@example.com")


# --- body ----------------------------------------------------------------------------------


def test_multipart_alternative_prefers_the_plain_text() -> None:
    message = email_message("The plain version.")
    message.add_alternative("<p>The <b>HTML</b> version.</p>", subtype="html")

    email = parse(message)

    assert email.body == "The plain version."
    assert email.attachments == ()


def test_an_empty_plain_alternative_falls_back_to_the_html() -> None:
    message = email_message("\n")
    message.add_alternative("<p>Only the HTML says something.</p>", subtype="html")

    assert parse(message).body == "Only the HTML says something."


def test_an_html_only_body_becomes_readable_text_without_scripts_or_styles() -> None:
    markup = """<html><head><title>Newsletter</title>
    <style>p { color: red; } .secret-style {}</style></head>
    <body><script>var secretScript = 1;</script>
    <p>Dear support,</p>
    <p>My   order
       <b>1234</b> arrived &amp; the lid&nbsp;is broken.<br>Please call me.</p>
    <ul><li>lid</li><li>box</li></ul>
    <table><tr><td>Item</td><td>Qty</td></tr></table>
    <!-- a secret comment -->
    </body></html>"""
    message = email_message()
    message.set_content(markup, subtype="html")

    email = parse(message)

    assert email.body == (
        "Dear support,\n\nMy order 1234 arrived & the lid is broken.\nPlease call me.\n\n"
        "- lid\n- box\nItem Qty"
    )
    for leaked in ("secret", "color", "Newsletter", "<", "var "):
        assert leaked not in email.full_text


def test_a_base64_iso_8859_1_body_is_decoded() -> None:
    message = email_message()
    message.set_content("Très déçu, remboursez-moi", charset="iso-8859-1", cte="base64")
    raw = wire(message)
    assert b"Content-Transfer-Encoding: base64" in raw

    assert parse_inbound_email(raw).body == "Très déçu, remboursez-moi"


def test_a_quoted_printable_utf8_body_is_decoded() -> None:
    text = "Grüße aus Köln — the parcel is 3 weeks late. " + "Long line. " * 10
    message = email_message()
    message.set_content(text, cte="quoted-printable")
    raw = wire(message)
    assert b"Content-Transfer-Encoding: quoted-printable" in raw

    assert parse_inbound_email(raw).body == text.strip()


def test_windows_1252_sent_as_iso_8859_1_keeps_its_quotes_and_euro_sign() -> None:
    message = email_message()
    message.set_content(
        "“Refund 20 €” — now".encode("cp1252"), maintype="text", subtype="plain", cte="8bit"
    )
    message.set_param("charset", "iso-8859-1")

    assert parse(message).body == "“Refund 20 €” — now"


@pytest.mark.parametrize(
    ("charset", "data", "expected"),
    [
        ("unknown-8bit", "Très déçu".encode("latin-1"), "Très déçu"),
        ("unknown-8bit", "Très déçu".encode(), "Très déçu"),
        ("x-no-such-charset", "Très déçu".encode("latin-1"), "Très déçu"),
        ("hex", b"plain words", "plain words"),
        ("utf-8", b"broken \xff byte", "broken \ufffd byte"),
        ("us-ascii", "Très déçu".encode(), "Très déçu"),
    ],
)
def test_a_wrong_charset_label_never_crashes(charset: str, data: bytes, expected: str) -> None:
    message = email_message()
    message.set_content(data, maintype="text", subtype="plain", cte="8bit")
    message.set_param("charset", charset)

    assert parse(message).body == expected


def test_control_characters_in_the_body_are_removed_and_line_ends_unified() -> None:
    message = email_message()
    message.set_content(b"one\x00two\r\nthree\x1b[31m", maintype="text", subtype="plain")

    assert parse(message).full_text == "onetwo\nthree[31m"


def test_full_text_is_capped() -> None:
    email = parse(email_message(("x" * 70 + "\n") * 4000))

    assert len(email.full_text) == 200_000
    assert len(email.body) <= 200_000


# --- attachments ---------------------------------------------------------------------------


def test_a_pdf_attachment_is_recorded_but_its_content_is_not_in_the_body() -> None:
    message = email_message("Invoice attached.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice.pdf")

    email = parse(message)

    assert email.body == "Invoice attached."
    assert email.attachments == (AttachmentInfo("invoice.pdf", "application/pdf", len(PDF)),)
    assert "SECRET" not in email.full_text


def test_attached_text_files_and_inline_images_are_attachments() -> None:
    message = email_message("See the log and the photo.")
    message.add_attachment("SECRET LOG LINE\n", filename="server.log")
    message.add_attachment(b"\x89PNGdata", maintype="image", subtype="png", filename="lid.png")
    image = list(message.iter_attachments())[-1]
    image.replace_header("Content-Disposition", 'inline; filename="lid.png"')

    email = parse(message)

    assert email.body == "See the log and the photo."
    assert [(a.filename, a.content_type, a.size_bytes) for a in email.attachments] == [
        ("server.log", "text/plain", 17),  # text travels with CRLF line ends
        ("lid.png", "image/png", 8),
    ]


def test_nested_mixed_with_alternative_and_attachment() -> None:
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText("Plain words.", "plain", "utf-8"))
    alternative.attach(MIMEText("<p>HTML words.</p>", "html", "utf-8"))
    message = MIMEMultipart("mixed")
    message["From"] = "alex@example.com"
    message["To"] = "support@shop.example"
    message["Subject"] = "Nested"
    message.attach(alternative)
    pdf = MIMEApplication(PDF, "pdf")
    pdf.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "Übersicht.pdf"))
    message.attach(pdf)

    email = parse(message)

    assert email.body == "Plain words."
    assert email.attachments == (AttachmentInfo("Übersicht.pdf", "application/pdf", len(PDF)),)


def test_a_forwarded_message_is_an_attachment_with_metadata_only() -> None:
    forwarded = email_message("SECRET forwarded words.", Subject="Old thread")
    message = email_message("Please read the mail below.")
    message.add_attachment(forwarded, filename="old.eml")

    email = parse(message)

    assert email.body == "Please read the mail below."
    [attachment] = email.attachments
    assert (attachment.filename, attachment.content_type) == ("old.eml", "message/rfc822")
    assert attachment.size_bytes > len("SECRET forwarded words.")
    assert "SECRET" not in email.full_text


# --- quoted history ------------------------------------------------------------------------

REPLY_TO_A_REPLY = """Still no refund. I want it by Friday.

On Tue, 3 Nov 2026 at 09:15, Keepword Support <support@shop.example> wrote:
> We are looking into it and will come back to you tomorrow.
>
> On Mon, 2 Nov 2026 at 10:00, Alex Doe <alex.doe@example.com> wrote:
>> My order 1234 never arrived.
"""


def test_a_reply_to_a_reply_keeps_only_the_new_text() -> None:
    email = parse(email_message(REPLY_TO_A_REPLY, Subject="Re: Re: Order 1234"))

    assert email.body == "Still no refund. I want it by Friday."
    assert "never arrived" in email.full_text


def test_a_body_that_is_all_quote_keeps_the_full_text() -> None:
    email = parse(email_message("> Did it arrive?\n> Please answer."))

    assert email.body == "> Did it arrive?\n> Please answer."


def test_an_html_reply_loses_its_quoted_history() -> None:
    markup = (
        "<div dir='ltr'>Thanks, it works now!</div><br>"
        "<div class='gmail_quote'><div class='gmail_attr'>On Mon, 2 Nov 2026 at 10:00, Dana "
        "&lt;d@shop.example&gt; wrote:<br></div>"
        "<blockquote class='gmail_quote'>Try again.<blockquote>Nothing works.</blockquote>"
        "</blockquote></div>"
    )
    message = email_message()
    message.set_content(markup, subtype="html")

    email = parse(message)

    assert email.body == "Thanks, it works now!"
    assert "wrote:\n> Try again.\n>> Nothing works." in email.full_text


# --- hostile input -------------------------------------------------------------------------


@pytest.mark.timeout(60)  # a guard against a runaway parse, not a measurement
def test_html_with_thousands_of_unclosed_tags_is_read() -> None:
    message = email_message()
    message.set_content("<p>hi</p>" + "<a " * 50_000, subtype="html")

    email = parse(message)

    assert email.body.startswith("hi")


def test_deeply_nested_multiparts_do_not_crash() -> None:
    raw = b"From: a@example.com\r\n" + b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(200)
    )
    raw += b"Content-Type: text/plain\r\n\r\ndeep\r\n"

    email = parse_inbound_email(raw)

    assert email.from_address == "a@example.com"
    assert email.body == ""


def test_headers_nested_beyond_reading_are_a_parse_error() -> None:
    raw = wire(email_message()).replace(
        b"\r\n\r\n", b"\r\nContent-Disposition: inline " + b"(" * 600 + b"\r\n\r\n", 1
    )

    with pytest.raises(EmailParseError, match="nested too deeply"):
        parse_inbound_email(raw)


def test_bytes_without_headers_need_an_envelope_sender() -> None:
    email = parse_inbound_email(b"just some words\r\n", envelope_from="a@example.com")

    assert email.body == "just some words"
    assert email.subject is None
    assert email.to == ()
    with pytest.raises(EmailParseError):
        parse_inbound_email(b"just some words\r\n")


# --- hostile input: every email is read in bounded time, with a sensible answer ---------------

LONGEST_TEXT = 200_000  # the event contract's MessageReceived.body


def html_email(markup: str) -> EmailMessage:
    message = email_message()
    message.set_content(markup, subtype="html")
    return message


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("body", "expected_body"),
    [
        ("\U0001f620" * LONGEST_TEXT, "\U0001f620" * LONGEST_TEXT),
        ("a" * 2**20, "a" * LONGEST_TEXT),
        ("> " * LONGEST_TEXT, None),  # all quote: the body is the full text
        (">\n" * LONGEST_TEXT, None),
        ("Hi." + " " * LONGEST_TEXT + "x", "Hi."),
        ("Hi.\n" + "!" * LONGEST_TEXT, "Hi.\n" + "!" * (LONGEST_TEXT - 4)),
    ],
    ids=["emoji", "one word of 1 MiB", "quote markers", "quote lines", "spaces", "punctuation"],
)
def test_a_hostile_plain_body_is_read_and_capped(body: str, expected_body: str | None) -> None:
    email = parse(email_message(body))

    assert len(email.full_text) <= LONGEST_TEXT
    assert email.body == (email.full_text if expected_body is None else expected_body)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("tag", "depth"), [("div", 100_000), ("blockquote", 80_000)])
def test_deeply_nested_html_keeps_its_text(tag: str, depth: int) -> None:
    # libxml2 stops at 256 levels; with nothing readable above that, the text between the tags
    # is kept rather than an empty message.
    email = parse(html_email(f"<{tag}>" * depth + "Where is my order?" + f"</{tag}>" * depth))

    assert email.body == "Where is my order?"


@pytest.mark.timeout(60)
def test_html_past_its_first_million_characters_is_not_read() -> None:
    # 1.2 million characters of tags: the cut falls inside one, and none of it is left over.
    email = parse(html_email("<blockquote>" * 100_000 + "Where is my order?"))

    assert email.body == ""


@pytest.mark.timeout(60)
def test_deeply_nested_html_keeps_what_lies_above_the_limit() -> None:
    email = parse(html_email("<p>Thanks, it works now!</p>" + "<div>" * 100_000 + "deep"))

    assert email.body == "Thanks, it works now!"


@pytest.mark.timeout(60)
def test_a_deep_quote_over_many_lines_is_marked_with_at_most_ten_marks() -> None:
    markup = "<p>New text</p>" + "<blockquote>" * 200 + "old line<br>" * 80_000

    email = parse(html_email(markup))

    assert email.body == "New text"
    assert len(email.full_text) == LONGEST_TEXT
    assert set(email.full_text.split("\n")[2:-1]) == {">" * 10 + " old line"}


@pytest.mark.timeout(60)
def test_many_large_html_parts_are_converted_only_up_to_the_cap() -> None:
    message = MIMEMultipart("mixed")
    message["From"] = "alex@example.com"
    for number in range(9):  # ~9 MB, within the 10 MB an email may have
        message.attach(MIMEText(f"<p>part {number}</p>" + "x<br>" * 200_000, "html"))

    email = parse_inbound_email(wire(message))

    assert email.full_text.startswith("part 0\n\nx\nx")
    assert len(email.full_text) == LONGEST_TEXT


@pytest.mark.timeout(60)
def test_every_field_at_its_largest() -> None:
    message = email_message(
        ("Where is my order? " * 20_000)[:LONGEST_TEXT],
        Subject="Order " * 2_000,
        From=f"{'Alex ' * 200}<alex@example.com>",
        To=", ".join(f"support{n}@shop.example" for n in range(2_000)),
        References=" ".join(f"<r{n}@example.com>" for n in range(2_000)),
    )
    for number in range(20):
        message.add_attachment(
            b"%PDF", maintype="application", subtype="pdf", filename=f"{'f' * 1_000}{number}"
        )

    email = parse(message)

    assert email.subject is not None
    assert len(email.subject) <= 300
    assert email.from_name is not None
    assert len(email.from_name) <= 300
    assert email.from_address == "alex@example.com"
    assert 0 < len(email.to) < 2_000  # the list is read up to a bounded length
    assert len(email.references) == 2_000
    assert email.body == ("Where is my order? " * 20_000)[:LONGEST_TEXT].strip()
    assert len(email.attachments) == 20
    assert all(len(a.filename or "") <= 300 for a in email.attachments)
