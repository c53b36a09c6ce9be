"""Building the email itself with the standard library's EmailMessage, and checking what will
go on the wire before it does."""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Final

from .rendering import header_safe
from .sendlog import Send

# Every header a Keepword email has at its top level. Anything else in the serialised bytes
# was smuggled in (see `to_wire`).
HEADERS: Final = frozenset(
    {
        "from",
        "to",
        "subject",
        "message-id",
        "date",
        "auto-submitted",
        "x-keepword-thread",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


class UnsafeEmail(ValueError):
    """The serialised email does not have exactly the headers we set: it must not be sent."""


def compose(send: Send, *, sender_name: str, sender_address: str, at: datetime) -> EmailMessage:
    """The message for `send`: plain text and HTML alternatives and a stable Message-ID that
    names the thread (`<kw.THREAD.…@…>`), so a reply's In-Reply-To leads intake back to it."""
    message = EmailMessage()
    message["From"] = formataddr((header_safe(sender_name), sender_address))
    message["To"] = send.recipient
    message["Subject"] = header_safe(send.subject)
    message["Message-ID"] = send.message_id
    message["Date"] = format_datetime(at)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-replies must not answer it
    if send.thread_id is not None:  # a digest speaks of several threads
        message["X-Keepword-Thread"] = send.thread_id
    message.set_content(send.body_text)
    message.add_alternative(send.body_html, subtype="html")
    # A boundary of its own rather than a random one, so a resent email is the same bytes.
    boundary = f"=_kw_{send.notification_id}"
    if boundary not in send.body_text and boundary not in send.body_html:
        message.set_boundary(boundary)
    return message


def to_wire(message: EmailMessage) -> bytes:
    """`message` as the bytes handed to SMTP, refused (`UnsafeEmail`) unless its header block
    holds exactly the headers we set, once each.

    The last line of defence: a header value that still found a way to break a line (the
    standard library has had such bugs, e.g. CVE-2024-6923 with encoded words) shows up here
    as an extra header name.
    """
    data = message.as_bytes(policy=policy.SMTP)
    head = data.split(b"\r\n\r\n", 1)[0]
    names = [
        line.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        for line in head.split(b"\r\n")
        if line and line[:1] not in (b" ", b"\t")  # continuation lines of a folded header
    ]
    expected = {name.lower() for name in message}
    if set(names) != expected or len(names) != len(set(names)) or not set(names) <= HEADERS:
        raise UnsafeEmail(f"unexpected header lines: {sorted(set(names) - expected)}")
    return data
