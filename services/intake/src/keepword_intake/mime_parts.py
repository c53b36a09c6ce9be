"""The parts of an inbound email: its text, as plain text, and what was attached. Pure, no I/O.

The MIME tree is walked to a bounded depth; of alternatives the plain text the sender wrote is
preferred; every file (also an image pasted into the HTML branch) is recorded as metadata only.
Broken structure is read as mail clients show it: Outlook's unquoted "boundary=----=_NextPart..."
(`MAIL_POLICY`), and a multipart whose boundary is missing or never occurs (its parts are looked
for under the boundary its body uses, else its body is the text).
Text is decoded whatever its charset label says, and parts after the first `MAX_FULL_TEXT`
characters are not converted at all (ten 1 MB HTML parts would take seconds for text that is
cut anyway).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from typing import Any

from .html_text import html_to_text
from .mail_headers import one_line, repair_surrogates

MAX_FULL_TEXT = 200_000
"""Longest text kept, as the event contract's message body allows."""

_MAX_MIME_DEPTH = 40  # mail clients nest 3 to 5 levels; deeper is built to exhaust parsers
_MAX_REREADS = 3  # multiparts re-read with a boundary found in their body, per email

# An unquoted boundary parameter, as Outlook writes it: "boundary=----=_NextPart_000_...".
_UNQUOTED_BOUNDARY = re.compile(r"(\bboundary[ \t]*=[ \t]*)([^\"\s;][^\"\s;]*)", re.IGNORECASE)
# A boundary line (RFC 2046 bchars) that opens a part: the line after it is a part header.
_BOUNDARY_LINE = re.compile(
    rb"^--([0-9A-Za-z'()+_,\-./:=?]{1,70})[ \t]*\r?\n(?=content-)", re.I | re.M
)


class _MailPolicy(EmailPolicy):
    """The standard library's default policy, reading Content-Type as mail clients write it.

    Its header parser ends a token at "=", so Outlook's unquoted
    "boundary=----=_NextPart_000_0001" reads as "----", no part is found and the body is lost;
    the boundary is quoted before the header is parsed.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if name.lower() == "content-type" and isinstance(value, str):
            value = _UNQUOTED_BOUNDARY.sub(r'\1"\2"', value)
        return super().header_fetch_parse(name, value)


MAIL_POLICY = _MailPolicy()
"""The policy inbound email is parsed with (policy.default, reading Outlook's boundaries)."""


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """A file that came with the email: what it is called, what it is and how big, no content."""

    filename: str | None
    content_type: str
    size_bytes: int


def read_parts(message: Message) -> tuple[str, tuple[AttachmentInfo, ...]]:
    """The text of an email, cleaned and capped at MAX_FULL_TEXT, and the files that came with it.

    Raises RecursionError when the message's headers are nested too deeply to read.
    """
    found = _Found()
    _walk(message, found, depth=0)
    return _join_texts(found.texts)[:MAX_FULL_TEXT], tuple(found.attachments)


# --- MIME structure ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Text:
    content: str
    is_html: bool


@dataclass(slots=True)
class _Found:
    """What a walk through the MIME tree found, in order."""

    texts: list[_Text] = field(default_factory=list)
    attachments: list[AttachmentInfo] = field(default_factory=list)
    rereads: int = 0


def _walk(part: Message, found: _Found, depth: int) -> None:
    if depth > _MAX_MIME_DEPTH:
        return
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if part.get_content_subtype() == "alternative":
            _walk_alternatives(children, found, depth + 1)
        else:
            for child in children:
                _walk(child, found, depth + 1)
    elif part.get_content_maintype() == "multipart":
        _walk_broken_multipart(part, found, depth)
    elif _is_body_text(part):
        found.texts.append(_Text(_decoded_text(part), part.get_content_subtype() == "html"))
    else:
        found.attachments.append(_attachment_info(part))


def _walk_alternatives(children: list[Message], found: _Found, depth: int) -> None:
    """One text from the alternatives, preferring what the sender wrote as plain text.

    Files in every alternative are kept: images pasted into an HTML mail live in the HTML
    branch only, and they are often the customer's evidence.
    """
    branches: list[_Found] = []
    for child in children:
        branch = _Found()
        _walk(child, branch, depth)
        branches.append(branch)
        found.attachments.extend(branch.attachments)

    def has_text(branch: _Found, *, plain: bool) -> bool:
        return any(t.content.strip() for t in branch.texts if not (plain and t.is_html))

    chosen = next((b for b in branches if has_text(b, plain=True)), None) or next(
        (b for b in branches if has_text(b, plain=False)), None
    )
    if chosen is not None:
        found.texts.extend(chosen.texts)


def _walk_broken_multipart(part: Message, found: _Found, depth: int) -> None:
    """A multipart whose boundary is missing or never occurs: parts are looked for under the
    boundary its body uses, else the body is read as text (some mailers label plain text so)."""
    payload = part.get_payload()
    body = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    match = _BOUNDARY_LINE.search(body)
    if match is not None and found.rereads < _MAX_REREADS:
        found.rereads += 1
        header = f'Content-Type: {part.get_content_type()}; boundary="{match[1].decode()}"'
        reread = BytesParser(policy=MAIL_POLICY).parsebytes(header.encode() + b"\r\n\r\n" + body)
        if reread.is_multipart():
            _walk(reread, found, depth + 1)
            return
    text = _decode(body, part.get_content_charset())
    if text.strip():
        found.texts.append(_Text(text, is_html="<html" in text[:2000].lower()))


def _is_body_text(part: Message) -> bool:
    # A text part with a file name is a file (a .txt or .html attached, even "inline"): mail
    # clients never name the part that holds what the sender typed.
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not part.get_filename()
    )


def _attachment_info(part: Message) -> AttachmentInfo:
    if part.get_content_maintype() == "message":
        size = _embedded_size(part)
    else:
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
    return AttachmentInfo(
        filename=one_line(part.get_filename()),
        content_type=part.get_content_type(),
        size_bytes=size,
    )


def _embedded_size(part: Message) -> int:
    """The size of a forwarded message (message/rfc822 and kin), written out again."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        data = part.get_payload(decode=True)
        return len(data) if isinstance(data, bytes) else 0
    try:
        return sum(
            len(inner.as_bytes(policy=policy.compat32))
            for inner in payload
            if isinstance(inner, Message)
        )
    except Exception:
        # Writing a message out again recurses per level and has had crash bugs on malformed
        # headers; a size is not worth losing the email for.
        return 0


# --- text ----------------------------------------------------------------------------------

_BODY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Labels mailers use for a superset they really send: decoding as the superset, as browsers do
# (WHATWG Encoding Standard), reads the same text and also the characters only the superset has.
_SUPERSETS = {"iso8859-1": "cp1252", "gb2312": "gb18030", "gbk": "gb18030", "euc_kr": "cp949"}


def _decoded_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    return _decode(payload if isinstance(payload, bytes) else b"", part.get_content_charset())


def _decode(data: bytes, charset: str | None) -> str:
    """Bytes as text; never fails, whatever the charset label says."""
    codec = _codec_name(charset)
    if codec is None or codec == "ascii":
        # No label, a 7-bit label on 8-bit bytes, or a label we cannot read ("unknown-8bit"):
        # such bytes are most often UTF-8, else a Windows code page.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", "replace")
    try:
        return data.decode(_SUPERSETS.get(codec, codec), "replace")
    except (LookupError, UnicodeError):
        # Codecs that are not text encodings (hex, zlib) or ignore `errors` (idna).
        return data.decode("utf-8", "replace")


def _codec_name(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None


def _join_texts(texts: list[_Text]) -> str:
    """The texts, cleaned, one paragraph apart; no part converted once MAX_FULL_TEXT is reached
    (an email of ten 1 MB HTML parts would take seconds for text that is cut anyway)."""
    joined: list[str] = []
    size = 0
    for part in texts:
        if size >= MAX_FULL_TEXT:
            break
        text = _clean_text(html_to_text(part.content) if part.is_html else part.content)
        if text:
            joined.append(text)
            size += len(text) + 2
    return "\n\n".join(joined)


def _clean_text(text: str) -> str:
    """One newline convention, no control characters a database or terminal would choke on."""
    text = repair_surrogates(text).replace("\r\n", "\n").replace("\r", "\n")
    return _BODY_CONTROLS.sub("", text).lstrip("\ufeff").strip()
