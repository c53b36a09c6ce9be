"""Inbound email, read: a raw RFC 5322 message turned into plain data. Pure functions, no I/O.

The SMTP listener hands over the bytes it received; this module finds who wrote, to whom, in
answer to which messages, the text the author wrote (without the quoted history of the thread,
as every service reads it: `keepword_events.own_words`) and what was attached. Attachments are
recorded as metadata only: their content goes nowhere.

Mail is hostile input, so every step is bounded: text is scanned line by line with no
backtracking patterns, HTML goes to libxml2 (`html_text`), and headers are read from their raw
values and capped before the standard library parses them (`mail_headers`); the MIME tree is
walked to a bounded depth and text is converted up to the body's limit (`mime_parts`). Odd mail
falls back to something sensible; only bytes that are not an email at all, or an email we could
never answer, raise EmailParseError.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesParser

from keepword_events.own_words import own_words

from .mail_headers import (
    MAX_HEADER_TEXT,
    MESSAGE_ID,
    first,
    first_address,
    first_message_id,
    is_automatic,
    one_line,
    raw_headers,
    recipients,
    sent_at,
    subject,
    usable_address,
)
from .mime_parts import MAIL_POLICY, MAX_FULL_TEXT, AttachmentInfo, read_parts

__all__ = [
    "MAX_FULL_TEXT",
    "MAX_HEADER_TEXT",
    "AttachmentInfo",
    "EmailParseError",
    "InboundEmail",
    "parse_inbound_email",
]


@dataclass(frozen=True, slots=True)
class InboundEmail:
    """What an inbound email says, as plain data."""

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    from_address: str
    from_name: str | None
    to: tuple[str, ...]
    subject: str | None
    body: str
    full_text: str
    sent_at: datetime | None
    attachments: tuple[AttachmentInfo, ...]
    auto_submitted: bool


class EmailParseError(ValueError):
    """The bytes are not an email that can be read; the message says what is wrong."""


def parse_inbound_email(raw: bytes, *, envelope_from: str | None = None) -> InboundEmail:
    """Read a raw RFC 5322 message, as received over SMTP, into an InboundEmail.

    `envelope_from` is the SMTP MAIL FROM address, the sender when the From header is missing
    or unusable. Raises EmailParseError when the bytes are not an email: empty, nested beyond
    what can be read, with no usable sender in the From header or the envelope, or from an
    address with non-ASCII characters before the @, to which no reply can be sent.
    """
    if not raw.strip():
        raise EmailParseError("empty message: no headers and no body")
    try:
        message = BytesParser(policy=MAIL_POLICY).parsebytes(raw)
    except RecursionError as error:
        raise EmailParseError("message is nested too deeply to read") from error
    headers = raw_headers(message)

    sender = first_address(headers.get("from", []))
    if sender is None:
        envelope_sender = usable_address((envelope_from or "").strip().strip("<>"))
        if envelope_sender is None:
            raise EmailParseError("no sender: no usable From header and no envelope sender")
        sender = (envelope_sender, None)
    from_address, from_name = sender
    if not from_address.rpartition("@")[0].isascii():
        # The event contract refuses such an address: answering it needs SMTPUTF8 all the way.
        raise EmailParseError(
            "the sender's address has non-ASCII characters before the @, and replies to it "
            "cannot be delivered; please write from an address in ASCII"
        )

    try:
        full_text, attachments = read_parts(message)
    except RecursionError as error:
        raise EmailParseError("message headers are nested too deeply to read") from error

    return InboundEmail(
        message_id=first_message_id(first(headers, "message-id")),
        in_reply_to=first_message_id(first(headers, "in-reply-to")),
        references=tuple(MESSAGE_ID.findall(" ".join(headers.get("references", [])))),
        from_address=from_address,
        from_name=one_line(from_name),
        to=recipients([*headers.get("to", []), *headers.get("cc", [])]),
        subject=one_line(subject(first(headers, "subject"))),
        body=own_words(full_text) or full_text,
        full_text=full_text,
        sent_at=sent_at(first(headers, "date")),
        attachments=attachments,
        auto_submitted=is_automatic(headers),
    )
