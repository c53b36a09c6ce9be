"""The contract's checks of text, times and addresses: what every producer must send and every
consumer may rely on, whichever door the fact came in by.

Rules a record can be held to forever: a record valid today is valid when replayed in ten years,
so nothing here reads a clock (a due date "too far ahead" is intake's check, against its own).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import idna
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No time before this is a time of Keepword's business (year 0001 broke timers and emails)."""

LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Times are before this; far enough for any promise, near enough for every date library."""

# C0 controls but tab, newline and carriage return; DEL and the C1 controls. A NUL cannot be
# stored in PostgreSQL text and the others corrupt emails and terminals.
# Lone surrogates too (they cannot be encoded to UTF-8): one pattern, one scan of the text.
_BODY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# One-line text (names, subjects, file names): every control, the Unicode line separators, and
# the bidi embeddings, overrides and isolates that make an address or a subject read as
# something else than it is (U+202E turns "moc.evil" into "live.com").
_LINE_CONTROLS = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _describe(found: re.Match[str]) -> str:
    return f"U+{ord(found.group()):04X} at position {found.start()}"


def body_text(text: str) -> str:
    """`text` if it is fit for a message body or a note: no control character other than tab,
    newline and carriage return, no lone surrogate; raises ValueError naming the first culprit."""
    found = _BODY_CONTROLS.search(text)
    if found:
        raise ValueError(
            f"contains the control character or lone surrogate {_describe(found)}; "
            "only tab, newline and carriage return are allowed"
        )
    return text


def line_text(text: str) -> str:
    """`text` if it is fit for one line of an email header: no control character, no line
    separator, no bidi override, embedding or isolate; raises ValueError naming the culprit."""
    if text.isascii() and text.isprintable():  # the common case, without a regex
        return text
    found = _LINE_CONTROLS.search(text)
    if found:
        raise ValueError(
            f"contains {_describe(found)}: no control, line separator or bidi override "
            "characters in a one-line text"
        )
    return text


def in_business_time(moment: datetime) -> datetime:
    """`moment` in UTC, if it lies in [EARLIEST, LATEST); raises ValueError otherwise."""
    utc = moment.astimezone(UTC)
    if not EARLIEST <= utc < LATEST:
        raise ValueError(
            f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC), "
            f"not {moment.isoformat()}"
        )
    return utc


def sendable_address(address: str) -> str:
    """`address` as an SMTP server takes it without SMTPUTF8: an international domain in its
    ASCII form (IDNA 2008 A-labels, "bücher.example" -> "xn--bcher-kva.example"), an ASCII local
    part; raises ValueError for a non-ASCII local part or a domain IDNA refuses."""
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        raise ValueError(
            "the part before @ must be ASCII: international local parts (SMTPUTF8) "
            "cannot be delivered"
        )
    if domain.isascii():
        return address
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError(f"the domain is not a valid international domain name: {error}") from None
    normalised = f"{local}@{ascii_domain}"
    if len(normalised) > 254:
        raise ValueError("the address is longer than 254 characters in its ASCII form")
    return normalised


# What the validators above refuse, said in the JSON Schema (and so in the OpenAPI documents)
# as patterns; the validators still do the checking, with messages that name the culprit. (A
# lone surrogate, which only an escape in JSON text can carry, is left out: an ECMA-262 pattern
# cannot name one.)
_BODY_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$"

# Text that may end up in an email header: one line, no control or bidi override characters.
HeaderText = Annotated[
    str,
    StringConstraints(max_length=300),
    AfterValidator(line_text),
    Field(json_schema_extra={"pattern": _LINE_PATTERN}),
]

# Free text (message bodies, notes, reasons): tab, newline and CR allowed, other controls not.
# Lengths are set where the type is used: `Annotated[BodyText, Field(max_length=...)]`.
BodyText = Annotated[
    str, AfterValidator(body_text), Field(json_schema_extra={"pattern": _BODY_PATTERN})
]

# Every time in the contract: aware (a naive time is refused, not guessed), normalised to UTC,
# within [EARLIEST, LATEST).
UtcTime = Annotated[
    AwareDatetime,
    AfterValidator(in_business_time),
    Field(
        json_schema_extra={
            "formatMinimum": "2000-01-01T00:00:00Z",
            "formatExclusiveMaximum": "2100-01-01T00:00:00Z",
            # The same bounds, roughly, for tools that know no format bounds: a year 20xx.
            "pattern": r"^20[0-9]{2}-",
        }
    ),
]

# An email address: local@domain with a dotted domain, nothing that could break out of a header
# (no spaces, controls, brackets, quotes, commas). A pattern checked in pydantic's Rust core,
# rather than the email-validator package, because it sits on intake's hot path (~90 us a call
# there, measured) and all we need is a deliverable-looking, header-safe address; the SMTP server
# is the final judge. An international domain is kept in its ASCII form, so the notifier can send
# to it; a non-ASCII local part is refused (delivering it needs SMTPUTF8 all the way).
_LOCAL_CHAR = r"[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f-\x9f]"
_DOMAIN_CHAR = r"[^\s@<>()\[\],;:\"\\.\x00-\x1f\x7f-\x9f]"
_ASCII_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]"
_ASCII_DOMAIN = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_ASCII_ADDRESS = rf"^{_ASCII_LOCAL}+@{_ASCII_DOMAIN}+(\.{_ASCII_DOMAIN}+)+$"
EmailAddress = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=254,
        pattern=rf"^{_LOCAL_CHAR}+@{_DOMAIN_CHAR}+(\.{_DOMAIN_CHAR}+)+$",
    ),
    AfterValidator(sendable_address),
    # The schema states the sendable form: ASCII throughout (an international domain is also
    # taken in Unicode, and kept in its ASCII form, which a pattern cannot describe).
    Field(json_schema_extra={"pattern": _ASCII_ADDRESS}),
]
