"""HTML mail as plain text: what a browser would show, quoted blocks as "> " lines. Pure, no I/O.

lxml for HTML: BSD-licensed, maintained, and libxml2 parses any tag soup in linear time. Not
BeautifulSoup: over lxml it builds its tree in Python, 35 times slower (4 s for 2 MB of short
tags), and its default html.parser is quadratic on unclosed tags in the Python we run (24 kB of
"<a " takes 6 s). Not html2text: GPL-3.0, and it writes Markdown where we want plain text. The
walk below decides what is text (never script, style or head) and marks quoted blocks.

Limits: the first `_MAX_HTML_INPUT` characters of a part are read; libxml2 stops reading at 256
nested elements (what lies deeper is dropped, and when nothing readable lies above it, the text
between the tags is kept instead); a quote nested deeper than `_MAX_QUOTE_MARKS` levels is
marked with that many ">" (each line repeating the depth made the text grow with depth times
lines: 50 MB from 1 MB of HTML).
"""

from __future__ import annotations

import html
import re

import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type hints

__all__ = ["html_to_text"]

_MAX_HTML_INPUT = 1_000_000  # ~0.3 s for the worst tag soup; what is new comes first anyway
_MAX_QUOTE_MARKS = 10  # ">" marks of a deeper quote; any number of them marks it as quoted
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

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


def html_to_text(markup: str) -> str:
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
    cleaned = _CONTROLS.sub("", text or "")
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
