"""Inbound email, read: a raw RFC 5322 message turned into plain data. Pure functions, no I/O.

The SMTP listener hands over the bytes it received; this module finds who wrote, to whom, in
answer to which messages, the text the author wrote (without the quoted history of the thread)
and what was attached. Attachments are recorded as metadata only: their content goes nowhere.

Mail is hostile input, so every step is bounded: text is scanned line by line with no
backtracking patterns, HTML goes to libxml2, and headers are read from their raw values and
capped before the standard library parses them (its header parser is quadratic on long address
lists and recurses once per nested comment). Odd mail falls back to something sensible; only
bytes that are not an email at all raise EmailParseError.

HTML limits: the first `_MAX_HTML_INPUT` characters of a part are read; libxml2 stops reading
at 256 nested elements (what lies deeper is dropped, and when nothing readable lies above it,
the text between the tags is kept instead); a quote nested deeper than `_MAX_QUOTE_MARKS`
levels is marked with that many ">" (each line repeating the depth made the text grow with
depth times lines: 50 MB from 1 MB of HTML); text parts after the first `MAX_FULL_TEXT`
characters are not converted at all.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

# lxml for HTML: BSD-licensed, maintained, and libxml2 parses any tag soup in linear time. Not
# BeautifulSoup: over lxml it builds its tree in Python, 35 times slower (4 s for 2 MB of short
# tags), and its default html.parser is quadratic on unclosed tags in the Python we run (24 kB
# of "<a " takes 6 s). Not html2text: GPL-3.0, and it writes Markdown where we want plain text.
# The walk below decides what is text (never script, style or head) and marks quoted blocks.
import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type hints
from keepword_events.own_words import own_words as strip_quoted_history

MAX_HEADER_TEXT = 300
"""Longest subject, sender name or file name kept, as the event contract's HeaderText allows."""

MAX_FULL_TEXT = 200_000
"""Longest text kept, as the event contract's message body allows."""

_MAX_MESSAGE_ID = 998  # the RFC 5322 line limit, and the event contract's
_MAX_HEADER_INPUT = 8_192  # of a From or Subject: far more than 300 characters need encoded
_MAX_RECIPIENTS_INPUT = 16_384  # of a To or Cc: ~400 addresses, parsed in ~0.1 s
_MAX_HTML_INPUT = 1_000_000  # ~0.3 s for the worst tag soup; what is new comes first anyway
_MAX_MIME_DEPTH = 40  # mail clients nest 3 to 5 levels; deeper is built to exhaust parsers
_MAX_QUOTE_MARKS = 10  # ">" marks of a deeper quote; any number of them marks it as quoted


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """A file that came with the email: what it is called, what it is and how big, no content."""

    filename: str | None
    content_type: str
    size_bytes: int


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
    what can be read, or with no usable sender in the From header or the envelope.
    """
    if not raw.strip():
        raise EmailParseError("empty message: no headers and no body")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except RecursionError as error:
        raise EmailParseError("message is nested too deeply to read") from error
    headers = _raw_headers(message)

    sender = _first_address(headers.get("from", []))
    if sender is None:
        envelope_sender = _usable_address((envelope_from or "").strip().strip("<>"))
        if envelope_sender is None:
            raise EmailParseError("no sender: no usable From header and no envelope sender")
        sender = (envelope_sender, None)
    from_address, from_name = sender

    found = _Found()
    try:
        _walk(message, found, depth=0)
    except RecursionError as error:
        raise EmailParseError("message headers are nested too deeply to read") from error
    full_text = _join_texts(found.texts)[:MAX_FULL_TEXT]

    return InboundEmail(
        message_id=_first_message_id(_first(headers, "message-id")),
        in_reply_to=_first_message_id(_first(headers, "in-reply-to")),
        references=tuple(_MESSAGE_ID.findall(" ".join(headers.get("references", [])))),
        from_address=from_address,
        from_name=_one_line(from_name),
        to=_recipients([*headers.get("to", []), *headers.get("cc", [])]),
        subject=_one_line(_subject(_first(headers, "subject"))),
        body=strip_quoted_history(full_text) or full_text,
        full_text=full_text,
        sent_at=_sent_at(_first(headers, "date")),
        attachments=tuple(found.attachments),
        auto_submitted=_is_automatic(headers),
    )


# --- headers -------------------------------------------------------------------------------

_MESSAGE_ID = re.compile(rf"<[^<>\s]{{1,{_MAX_MESSAGE_ID - 2}}}>")
# The event contract's EmailAddress (keepword_events.common): an address it would refuse is no
# sender at all, so the envelope sender is used instead.
_LOCAL_CHAR = r"[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]"
_DOMAIN_CHAR = r"[^\s@<>()\[\],;:\"\\.\x00-\x1f\x7f]"
_EMAIL_ADDRESS = re.compile(rf"{_LOCAL_CHAR}+@{_DOMAIN_CHAR}+(?:\.{_DOMAIN_CHAR}+)+")
_LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def _raw_headers(message: Message) -> dict[str, list[str]]:
    """Header values by lowercased name, unfolded, with raw 8-bit bytes read as text."""
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        unfolded = str(value).replace("\r", "").replace("\n", "")
        headers.setdefault(name.lower(), []).append(_repair_surrogates(unfolded).strip())
    return headers


def _first(headers: dict[str, list[str]], name: str) -> str | None:
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


def _first_address(values: list[str]) -> tuple[str, str | None] | None:
    for value in values:
        for address in _parsed_addresses("from", value, _MAX_HEADER_INPUT):
            usable = _usable_address(address.addr_spec)
            if usable is not None:
                return usable, address.display_name
    return None


def _recipients(values: list[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for value in values:
        for address in _parsed_addresses("to", value, _MAX_RECIPIENTS_INPUT):
            usable = _usable_address(address.addr_spec)
            if usable is not None:
                found[usable] = None
    return tuple(found)


def _usable_address(text: str) -> str | None:
    address = _repair_surrogates(text).strip().lower()
    return address if len(address) <= 254 and _EMAIL_ADDRESS.fullmatch(address) else None


def _subject(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(policy.default.header_factory("subject", value[:_MAX_HEADER_INPUT]))
    except Exception:
        # As for addresses: an undecodable subject is shown as sent rather than lost.
        return value


def _first_message_id(value: str | None) -> str | None:
    match = _MESSAGE_ID.search(value or "")
    return match[0] if match else None


def _sent_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        sent = parsedate_to_datetime(value[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # RFC 5322 reads "-0000" (which Python returns naive) as UTC with no local time known.
    return sent if sent.tzinfo is not None else sent.replace(tzinfo=UTC)


def _is_automatic(headers: dict[str, list[str]]) -> bool:
    """Mail sent by a machine (RFC 3834 and the older conventions), not a person."""
    auto_submitted = (_first(headers, "auto-submitted") or "").split(";")[0].strip().lower()
    precedence = (_first(headers, "precedence") or "").strip().lower()
    return (
        auto_submitted not in ("", "no")
        or precedence in ("bulk", "junk", "list")
        or "x-autoreply" in headers
        or "x-autorespond" in headers
    )


def _one_line(text: str | None) -> str | None:
    """Text fit for a header: controls replaced by spaces, whitespace collapsed, capped."""
    if text is None:
        return None
    spaced = _LINE_CONTROLS.sub(" ", _repair_surrogates(text))
    return " ".join(spaced.split())[:MAX_HEADER_TEXT].rstrip() or None


def _repair_surrogates(text: str) -> str:
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
        filename=_one_line(part.get_filename()),
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
        text = _clean_text(_html_to_text(part.content) if part.is_html else part.content)
        if text:
            joined.append(text)
            size += len(text) + 2
    return "\n\n".join(joined)


def _clean_text(text: str) -> str:
    """One newline convention, no control characters a database or terminal would choke on."""
    text = _repair_surrogates(text).replace("\r\n", "\n").replace("\r", "\n")
    return _BODY_CONTROLS.sub("", text).lstrip("\ufeff").strip()


# --- HTML ----------------------------------------------------------------------------------

# Control characters are removed from every text node, so these two can mark, on lines of their
# own, where a quoted block starts and ends while the tree is flattened.
_QUOTE_START, _QUOTE_END = "\x01", "\x02"
_SKIPPED_TAGS = frozenset({"head", "script", "style", "template", "title"})
# How many line breaks a tag needs around it: 1 ends the line, 2 leaves a blank line.
_LINE_BREAKS = {
    **dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6", "p", "pre"), 2),
    **dict.fromkeys(("address", "article", "aside", "center", "dd", "div", "dl", "dt"), 1),
    **dict.fromkeys(("fieldset", "figcaption", "figure", "footer", "form", "header"), 1),
    **dict.fromkeys(("hr", "li", "main", "nav", "ol", "section", "table", "tr", "ul"), 1),
}
_HTML_WHITESPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^<>]*>")
_SPACES = re.compile(r"[ \t\xa0]+")


class _PlainText:
    """Text written out as a browser lays it out: blank lines only where the HTML makes them."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.newlines = 2  # the start counts as a fresh paragraph

    def text(self, text: str) -> None:
        if self.newlines and not text.strip():
            return
        self.parts.append(text)
        self.newlines = len(text) - len(text.rstrip("\n"))

    def line_breaks(self, count: int) -> None:
        if self.newlines < count:
            self.parts.append("\n" * (count - self.newlines))
            self.newlines = count

    def hard_break(self) -> None:
        self.parts.append("\n")
        self.newlines += 1

    def mark(self, marker: str) -> None:
        self.line_breaks(1)
        self.parts.append(f"{marker}\n")
        self.newlines = 2


def _html_to_text(markup: str) -> str:
    """Readable text of an HTML body; quoted blocks come out as "> " lines, like plain mail."""
    if "<" not in markup:
        return html.unescape(markup)
    parser = lxml.etree.HTMLParser(
        encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True
    )
    data = markup[:_MAX_HTML_INPUT].encode("utf-8", "replace")
    try:
        root = lxml.etree.fromstring(data, parser)
    except lxml.etree.LxmlError:
        root = None
    if root is None:  # nothing libxml2 could make a document of: keep what is not a tag
        return _between_tags(markup)
    out = _PlainText()
    in_pre = 0
    # Text sits in an element's .text (before its children) and .tail (after its end tag, in
    # its parent). iterwalk is iterative, so any depth is fine.
    walker = lxml.etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _SKIPPED_TAGS:
                walker.skip_subtree()
                continue
            in_pre += tag == "pre"
            _open_tag(tag, out)
            out.text(_html_text(element.text, in_pre=in_pre > 0))
        else:
            if tag not in _SKIPPED_TAGS:
                in_pre -= tag == "pre"
                _close_tag(tag, out)
            out.text(_html_text(element.tail, in_pre=in_pre > 0))
    text = _quoted_lines("".join(out.parts))
    if not text and _too_deep(parser):  # all the text lies deeper than libxml2 reads
        return _between_tags(markup)
    return text


def _between_tags(markup: str) -> str:
    """What is not a tag, without layout: for markup libxml2 could not read."""
    markup = markup[:_MAX_HTML_INPUT]
    if markup.rfind("<") > markup.rfind(">"):  # the cut fell inside a tag: no "</bl" left over
        markup = markup[: markup.rfind("<")]
    return _SPACES.sub(" ", html.unescape(_TAG.sub(" ", markup)))


def _too_deep(parser: lxml.etree.HTMLParser) -> bool:
    """Whether libxml2 stopped reading at its nesting limit (256 elements)."""
    return any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)


def _open_tag(tag: str, out: _PlainText) -> None:
    if tag == "br":
        out.hard_break()
    elif tag == "blockquote":
        out.mark(_QUOTE_START)
    elif tag in _LINE_BREAKS:
        out.line_breaks(_LINE_BREAKS[tag])
    if tag == "li":
        out.text("- ")


def _close_tag(tag: str, out: _PlainText) -> None:
    if tag == "blockquote":
        out.mark(_QUOTE_END)
    elif tag in _LINE_BREAKS:
        out.line_breaks(_LINE_BREAKS[tag])
    elif tag in ("td", "th"):
        out.text(" ")


def _html_text(text: str | None, *, in_pre: bool) -> str:
    cleaned = _BODY_CONTROLS.sub("", text or "")
    return cleaned if in_pre else _HTML_WHITESPACE.sub(" ", cleaned)


def _quoted_lines(text: str) -> str:
    """The quote marks turned into "> " prefixes; no doubled blank lines, none at the ends."""
    lines: list[str] = []
    depth = 0
    for raw_line in text.split("\n"):
        if raw_line == _QUOTE_START:
            depth += 1
            continue
        if raw_line == _QUOTE_END:
            if lines and lines[-1] == ">" * min(depth, _MAX_QUOTE_MARKS):
                lines.pop()
            depth = max(0, depth - 1)
            continue
        line = _SPACES.sub(" ", raw_line).strip()
        if depth:
            line = f"{'>' * min(depth, _MAX_QUOTE_MARKS)} {line}".rstrip()
        blank = not line.strip("> ")
        if blank and (not lines or lines[-1] == line):
            continue
        lines.append(line)
    return "\n".join(lines).strip()
