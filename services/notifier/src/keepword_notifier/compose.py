"""Building the email itself with the standard library's EmailMessage, and checking what will
go on the wire before it does."""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Final

from keepword_events.thread_refs import keepword_message_id

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
        "in-reply-to",
        "references",
        "auto-submitted",
        "x-keepword-thread",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


class UnsafeEmail(ValueError):
    """The serialised email does not have exactly the headers we set: it must not be sent."""


# A Message-ID as it may go into our headers: printable ASCII, one `@`, no angle brackets or
# spaces inside, no encoded-word opener, short. Anything else someone's email carried is dropped.
_PLAIN_MESSAGE_ID = re.compile(r"<[!-;=?A-~]{1,200}@[!-;=?A-~]{1,200}>")


def plain_message_id(value: str) -> bool:
    """Whether `value` is a Message-ID safe to repeat in our headers as it is."""
    return _PLAIN_MESSAGE_ID.fullmatch(value) is not None and "=?" not in value


def thread_reference(thread_id: str, domain: str) -> str:
    """The thread's own reference, `<kw.THREAD.thread@DOMAIN>`: in every email about the thread,
    so any reply that keeps In-Reply-To or References names the thread to intake."""
    return keepword_message_id(thread_id, "thread", domain)


def references(send: Send, domain: str) -> tuple[str, str] | None:
    """In-Reply-To and References of `send`: the customer's email it answers, if any, else the
    thread's reference; References hold the thread's reference first. None for a digest, which
    speaks of several threads."""
    if not send.thread_id:
        return None
    thread = thread_reference(send.thread_id, domain)
    answered = send.in_reply_to if send.in_reply_to and plain_message_id(send.in_reply_to) else None
    if answered is None:
        return thread, thread
    return answered, f"{thread} {answered}"


def compose(send: Send, *, sender_name: str, sender_address: str, at: datetime) -> EmailMessage:
    """The message for `send`: plain text and HTML alternatives, a stable Message-ID that names
    the thread (`<kw.THREAD.…@…>`) and In-Reply-To / References naming it too, so a reply leads
    intake back to the thread."""
    message = EmailMessage()
    message["From"] = formataddr((header_safe(sender_name), sender_address))
    message["To"] = send.recipient
    message["Subject"] = header_safe(send.subject)
    message["Message-ID"] = send.message_id
    message["Date"] = format_datetime(at)
    threading = references(send, sender_address.rsplit("@", 1)[-1])
    if threading is not None:
        message["In-Reply-To"], message["References"] = threading
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-replies must not answer it
    if send.thread_id is not None:  # a digest speaks of several threads
        message["X-Keepword-Thread"] = send.thread_id
    message.set_content(send.body_text)
    message.add_alternative(send.body_html, subtype="html")
    related = None
    if send.inline_png is not None and send.inline_cid is not None:
        related = _show_inline(message, send.inline_png, send.inline_cid)
    # Boundaries of its own rather than random ones, so a resent email is the same bytes.
    boundary = f"=_kw_{send.notification_id}"
    if boundary not in send.body_text and boundary not in send.body_html:
        message.set_boundary(boundary)
        if related is not None:
            related.set_boundary(f"{boundary}_r")
    return message


def _show_inline(message: EmailMessage, png: bytes, cid: str) -> EmailMessage:
    """Carry `png` beside the HTML part, for its `<img src="cid:…">`; returns the
    multipart/related part that now holds both."""
    html = message.get_body(("html",))
    assert isinstance(html, EmailMessage)
    html.add_related(png, "image", "png", cid=f"<{cid}>", disposition="inline")
    return html


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
