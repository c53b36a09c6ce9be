"""The headers of an inbound email, read: who wrote, to whom, about what, when. Pure, no I/O.

Headers are read from their raw values and capped before the standard library parses them (its
header parser is quadratic on long address lists and recurses once per nested comment); an
undecodable or malformed header falls back to something sensible rather than losing the email.
One-line text (subject, names, file names) comes out fit for the event contract's HeaderText.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import Message
from email.utils import parsedate_to_datetime

MAX_HEADER_TEXT = 300
"""Longest subject, sender name or file name kept, as the event contract's HeaderText allows."""

_MAX_MESSAGE_ID = 998  # the RFC 5322 line limit, and the event contract's
_MAX_HEADER_INPUT = 8_192  # of a From or Subject: far more than 300 characters need encoded
_MAX_RECIPIENTS_INPUT = 16_384  # of a To or Cc: ~400 addresses, parsed in ~0.1 s

MESSAGE_ID = re.compile(rf"<[^<>\s]{{1,{_MAX_MESSAGE_ID - 2}}}>")
# The event contract's EmailAddress (keepword_events.common): an address it would refuse is no
# sender at all, so the envelope sender is used instead.
_LOCAL_CHAR = r"[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]"
_DOMAIN_CHAR = r"[^\s@<>()\[\],;:\"\\.\x00-\x1f\x7f]"
_EMAIL_ADDRESS = re.compile(rf"{_LOCAL_CHAR}+@{_DOMAIN_CHAR}+(?:\.{_DOMAIN_CHAR}+)+")
_LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Bidi embeddings, overrides and isolates, which the event contract refuses in one-line text
# (they make a subject read as something else than it is). Mail clients leave stray ones in
# right-to-left subjects and names: they go, and the mail is read rather than bounced.
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def raw_headers(message: Message) -> dict[str, list[str]]:
    """Header values by lowercased name, unfolded, with raw 8-bit bytes read as text."""
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        unfolded = str(value).replace("\r", "").replace("\n", "")
        headers.setdefault(name.lower(), []).append(repair_surrogates(unfolded).strip())
    return headers


def first(headers: dict[str, list[str]], name: str) -> str | None:
    """The first value of a header, if the email has it."""
    values = headers.get(name)
    return values[0] if values else None


def _parsed_addresses(name: str, value: str, limit: int) -> tuple[Address, ...]:
    try:
        header = policy.default.header_factory(name, value[:limit])
        addresses: tuple[Address, ...] = header.addresses
    except Exception:
        # The standard library's address parser has crashed on malformed input in several
        # releases (RecursionError on nested comments, IndexError on stray brackets): one bad
        # header must not lose the message.
        return ()
    return addresses


def first_address(values: list[str]) -> tuple[str, str | None] | None:
    """The first usable address of a From header and its display name, as written."""
    for value in values:
        for address in _parsed_addresses("from", value, _MAX_HEADER_INPUT):
            usable = usable_address(address.addr_spec)
            if usable is not None:
                return usable, address.display_name
    return None


def recipients(values: list[str]) -> tuple[str, ...]:
    """The usable addresses of To and Cc headers, lowercased, without duplicates, in order."""
    found: dict[str, None] = {}
    for value in values:
        for address in _parsed_addresses("to", value, _MAX_RECIPIENTS_INPUT):
            usable = usable_address(address.addr_spec)
            if usable is not None:
                found[usable] = None
    return tuple(found)


def usable_address(text: str) -> str | None:
    """The address lowercased, or None when the event contract would refuse its shape."""
    address = repair_surrogates(text).strip().lower()
    return address if len(address) <= 254 and _EMAIL_ADDRESS.fullmatch(address) else None


def subject(value: str | None) -> str | None:
    """The subject decoded (RFC 2047), or as sent when it cannot be decoded."""
    if value is None:
        return None
    try:
        return str(policy.default.header_factory("subject", value[:_MAX_HEADER_INPUT]))
    except Exception:
        # As for addresses: an undecodable subject is shown as sent rather than lost.
        return value


def first_message_id(value: str | None) -> str | None:
    """The first <message-id> in a header value."""
    match = MESSAGE_ID.search(value or "")
    return match[0] if match else None


def sent_at(value: str | None) -> datetime | None:
    """The Date header as an aware time, or None when missing or unreadable."""
    if not value:
        return None
    try:
        sent = parsedate_to_datetime(value[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # RFC 5322 reads "-0000" (which Python returns naive) as UTC with no local time known.
    return sent if sent.tzinfo is not None else sent.replace(tzinfo=UTC)


def is_automatic(headers: dict[str, list[str]]) -> bool:
    """Mail sent by a machine (RFC 3834 and the older conventions), not a person.

    Bounces often carry none of RFC 3834's marks, so a report (RFC 6522: delivery status, read
    receipts, abuse reports), a null or MAILER-DAEMON return path, a sender that is a mail
    system's own mailbox (MAILER-DAEMON, postmaster), or Exim's X-Failed-Recipients also count:
    a bounce taken as a customer's message would reset the thread's clock.
    """
    auto_submitted = (first(headers, "auto-submitted") or "").split(";")[0].strip().lower()
    precedence = (first(headers, "precedence") or "").strip().lower()
    content_type = (first(headers, "content-type") or "").split(";")[0].strip().lower()
    sender = (first(headers, "from") or "").lower()
    return_path = (first(headers, "return-path") or "").strip().lower()
    return (
        auto_submitted not in ("", "no")
        or precedence in ("bulk", "junk", "list")
        or "x-autoreply" in headers
        or "x-autorespond" in headers
        or content_type == "multipart/report"
        or any(f"{box}@" in sender for box in ("mailer-daemon", "postmaster"))
        or return_path == "<>"
        or "mailer-daemon" in return_path
        or "x-failed-recipients" in headers
    )


def one_line(text: str | None) -> str | None:
    """Text fit for a header: controls replaced by spaces, bidi controls removed, whitespace
    collapsed, capped."""
    if text is None:
        return None
    spaced = _LINE_CONTROLS.sub(" ", _BIDI_CONTROLS.sub("", repair_surrogates(text)))
    return " ".join(spaced.split())[:MAX_HEADER_TEXT].rstrip() or None


def repair_surrogates(text: str) -> str:
    """Text with no lone surrogates, which cannot be encoded to UTF-8 (JSON, Kafka, Postgres).

    The parser keeps raw 8-bit header bytes as surrogate escapes; they are mostly UTF-8
    (RFC 6532), else a Windows code page.
    """
    if not _SURROGATES.search(text):
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")
