"""Building the email itself with the standard library's EmailMessage (headers checked by it)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from .sendlog import Send


def compose(send: Send, *, sender_name: str, sender_address: str, at: datetime) -> EmailMessage:
    """The message for `send`: plain text and HTML alternatives and a stable Message-ID that
    names the thread (`<kw.THREAD.…@…>`), so a reply's In-Reply-To leads intake back to it."""
    message = EmailMessage()
    message["From"] = formataddr((_one_line(sender_name), sender_address))
    message["To"] = send.recipient
    message["Subject"] = _one_line(send.subject)
    message["Message-ID"] = send.message_id
    message["Date"] = format_datetime(at)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-replies must not answer it
    message["X-Keepword-Thread"] = send.thread_id
    message.set_content(send.body_text)
    message.add_alternative(send.body_html, subtype="html")
    return message


def _one_line(text: str) -> str:
    # Header text never carries line breaks or other controls, whatever the template produced.
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:200]
