"""Building the email itself, as MIME bytes written here, and checking what will go on the wire
before it does.

An email is always the same shape (plain text and HTML alternatives, the HTML with an inline
PNG beside it when it shows one), so it is written directly rather than through the standard
library's EmailMessage, whose header parsing and policy machinery cost more than the rest of
sending put together. Only the pieces that need encoding use the email package: RFC 2047
encoded words (`email.header.Header`, `email.utils.formataddr`) for a non-ASCII subject or
name; bodies are 7bit when they are short-lined ASCII, else quoted-printable or base64,
whichever is shorter (never 8bit: no SMTP extension is assumed).
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
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

CRLF: Final = b"\r\n"
MAX_LINE: Final = 78  # RFC 5322's recommended line length, header name included

# Header values written as they are: printable ASCII and spaces, nothing that could end a line.
_PLAIN_VALUE = re.compile(r"[ -~]*")


class UnsafeEmail(ValueError):
    """The serialised email does not have exactly the headers we set: it must not be sent."""


@dataclass(frozen=True, slots=True)
class Email:
    """An email ready for the wire: its top-level headers as written (name, folded value) and
    the MIME body below them."""

    headers: tuple[tuple[str, str], ...]
    body: bytes


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


def compose(send: Send, *, sender_name: str, sender_address: str, at: datetime) -> Email:
    """The email for `send`: plain text and HTML alternatives, a stable Message-ID that names
    the thread (`<kw.THREAD.…@…>`) and In-Reply-To / References naming it too, so a reply leads
    intake back to the thread. The same `send` always gives the same bytes (a resent email is
    the same email). Raises ValueError for what cannot be written safely (a non-ASCII address).
    """
    headers = [
        ("From", formataddr((header_safe(sender_name), _address(sender_address)))),
        ("To", _address(send.recipient)),
        ("Subject", _unstructured("Subject", header_safe(send.subject))),
        ("Message-ID", _unstructured("Message-ID", send.message_id)),
        ("Date", format_datetime(at)),
    ]
    threading = references(send, sender_address.rsplit("@", 1)[-1])
    if threading is not None:
        headers.append(("In-Reply-To", threading[0]))
        headers.append(("References", _unstructured("References", threading[1])))
    headers.append(("Auto-Submitted", "auto-generated"))  # RFC 3834: auto-replies must not answer
    if send.thread_id is not None:  # a digest speaks of several threads
        headers.append(("X-Keepword-Thread", _unstructured("X-Keepword-Thread", send.thread_id)))
    text = _text_part("plain", send.body_text)
    html = _text_part("html", send.body_html)
    # Boundaries of its own rather than random ones, so a resent email is the same bytes; the
    # parts are encoded first, so a boundary is known never to occur in them.
    boundary = _boundary(f"=_kw_{send.notification_id}", text, html, send.inline_png)
    if send.inline_png is not None and send.inline_cid is not None:
        image = _image_part(send.inline_png, send.inline_cid)
        html = _multipart("related", f"{boundary}_r", [html, image])
    headers.append(("MIME-Version", "1.0"))
    headers.append(("Content-Type", f'multipart/alternative; boundary="{boundary}"'))
    return Email(tuple(headers), _multipart_body(boundary, [text, html]))


def to_wire(email: Email) -> bytes:
    """`email` as the bytes handed to SMTP, refused (`UnsafeEmail`) unless its header block
    holds exactly the headers we set, once each.

    The last line of defence: a header value that still found a way to break a line (the
    standard library has had such bugs, e.g. CVE-2024-6923 with encoded words) shows up here
    as an extra header name.
    """
    head = CRLF.join(f"{name}: {value}".encode() for name, value in email.headers)
    names = [
        line.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        for line in re.split(rb"\r\n|\r|\n", head)
        if line and line[:1] not in (b" ", b"\t")  # continuation lines of a folded header
    ]
    expected = {name.lower() for name, _ in email.headers}
    if set(names) != expected or len(names) != len(set(names)) or not set(names) <= HEADERS:
        raise UnsafeEmail(f"unexpected header lines: {sorted(set(names) - expected)}")
    return head + CRLF + CRLF + email.body


# ----- headers --------------------------------------------------------------------------------


def _address(address: str) -> str:
    # An addr-spec goes out as it is: RFC 2047 cannot encode one, and without SMTPUTF8 nothing
    # else can carry a non-ASCII one (domains arrive in their ASCII form).
    if _PLAIN_VALUE.fullmatch(address) is None or " " in address or not address:
        raise ValueError("the address cannot be written in a header")
    return address


def _unstructured(name: str, value: str) -> str:
    """`value` as the body of header `name`: as it is when it is printable ASCII, folded at
    spaces when its line would pass 78 characters; RFC 2047 encoded words otherwise."""
    if _PLAIN_VALUE.fullmatch(value) is None:
        return Header(value, "utf-8", MAX_LINE, name).encode(linesep="\r\n")
    return _fold(value, len(name) + 2)


def _fold(value: str, used: int) -> str:
    """Greedy folding at spaces: a continuation line starts with the space it was cut at. A word
    longer than a line stays whole (a line may reach 998 characters)."""
    if used + len(value) <= MAX_LINE:
        return value
    lines: list[str] = []
    line = ""
    for word in value.split(" "):
        if line and used + len(line) + 1 + len(word) > MAX_LINE:
            lines.append(line)
            line, used = word, 1
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\r\n ".join(lines)


# ----- bodies ---------------------------------------------------------------------------------


def _text_part(subtype: str, text: str) -> bytes:
    """A text/`subtype` part (headers and body) of `text`, in UTF-8."""
    lines = text.encode("utf-8").splitlines()
    data = CRLF.join(lines) + CRLF
    if data.isascii() and max(map(len, lines), default=0) <= MAX_LINE:
        encoding, body = "7bit", data
    else:
        quoted = binascii.b2a_qp(data, istext=True)
        encoded = _base64(data)
        encoding, body = (
            ("base64", encoded) if len(encoded) < len(quoted) else ("quoted-printable", quoted)
        )
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode()
        + body
    )


def _image_part(png: bytes, cid: str) -> bytes:
    if _PLAIN_VALUE.fullmatch(cid) is None or " " in cid:
        raise ValueError("the Content-ID cannot be written in a header")
    return (
        b"Content-Type: image/png\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: inline\r\n" + f"Content-ID: <{cid}>\r\n\r\n".encode() + _base64(png)
    )


def _base64(data: bytes) -> bytes:
    # Lines of 76 characters (57 bytes each), as RFC 2045 asks.
    return b"".join(
        binascii.b2a_base64(data[i : i + 57], newline=False) + CRLF for i in range(0, len(data), 57)
    )


def _boundary(wanted: str, *parts: bytes | None) -> str:
    """`wanted`, or `wanted` with a counter when it occurs in a part (a text could quote it)."""
    boundary, n = wanted, 0
    while any(part is not None and boundary.encode() in part for part in parts):
        n += 1
        boundary = f"{wanted}_{n}"
    return boundary


def _multipart_body(boundary: str, parts: list[bytes]) -> bytes:
    delimiter = f"--{boundary}".encode()
    out: list[bytes] = []
    for part in parts:
        out += [delimiter, CRLF, part, CRLF]
    out += [delimiter, b"--", CRLF]
    return b"".join(out)


def _multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode() + (
        _multipart_body(boundary, parts)
    )
