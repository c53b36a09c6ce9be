"""Turns a Notice into an email: a one-line subject, a plain-text body and an HTML body.

Each template is a pair in `templates/`: `<name>.txt` (which also holds `{% block subject %}`)
and `<name>.html` (autoescaped). Values are formatted here, in the company's time zone, so
`recipients` decides what an email says and the templates decide how it reads.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from keepword_events.thread_refs import THREAD_ID, subject_token, thread_in_subject
from keepword_platform.company import CompanyConfig

from .recipients import Notice

TEMPLATE_DIR: Final = Path(__file__).parent / "templates"
SUBJECT_LIMIT: Final = 200

# Characters that could end a header line or reorder what the reader sees: controls (C0, C1,
# DEL), Unicode line and paragraph separators, and bidirectional overrides.
_LINE_BREAKING: Final = frozenset({"Cc", "Zl", "Zp"})
_BIDI_CONTROLS: Final = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# One str.translate does it all (a category lookup per character took an eighth of rendering).
# Every Cc, Zl and Zp character is in the Basic Multilingual Plane: Unicode never changes the
# Cc set, and U+2028 and U+2029 are the only Zl and Zp characters.
_HEADER_TABLE: Final[dict[int, str | None]] = {
    code: " " for code in range(0x10000) if unicodedata.category(chr(code)) in _LINE_BREAKING
} | dict.fromkeys(map(ord, _BIDI_CONTROLS))


@dataclass(frozen=True)
class DigestPart:
    """One email's body without greeting and closing: its part in a digest."""

    text: str
    html: str  # autoescaped when rendered: safe to place in the digest's HTML as it is


@dataclass(frozen=True)
class RenderedEmail:
    """The words of one email; the sender adds the headers."""

    subject: str
    text: str
    html: str
    part: DigestPart  # its body alone, should it join a digest


def render(notice: Notice, company: CompanyConfig) -> RenderedEmail:
    """The email for `notice`, in the house tone, signed with the company's name.

    Each template is rendered once: what its `body` block wrote on the way is the email's
    digest part.
    """
    variables = _variables(notice, company)
    environment = _environment()
    text_template = environment.get_template(f"{notice.template}.txt")
    html_template = environment.get_template(f"{notice.template}.html")
    text, text_body = _with_body(text_template, variables)
    html, html_body = _with_body(html_template, variables)
    return RenderedEmail(
        subject=_subject(text_template, variables, notice.thread_id),
        text=text.strip() + "\n",
        html=html.strip() + "\n",
        part=DigestPart(text=text_body.strip() + "\n", html=html_body.strip() + "\n"),
    )


def render_part(notice: Notice, company: CompanyConfig) -> DigestPart:
    """The body of `notice`'s email alone (its `body` block), to be carried by a digest."""
    variables = _variables(notice, company)
    environment = _environment()
    return DigestPart(
        text=_block(environment.get_template(f"{notice.template}.txt"), "body", variables),
        html=_block(environment.get_template(f"{notice.template}.html"), "body", variables),
    )


def _variables(notice: Notice, company: CompanyConfig) -> dict[str, Any]:
    return {
        **notice.context,
        "recipient_name": notice.recipient_name,
        "internal": notice.internal,
        "company": company.company.name,
        "timezone": ZoneInfo(company.company.timezone),
    }


def _block(template: Template, name: str, variables: dict[str, Any]) -> str:
    block = template.blocks.get(name)
    if block is None:
        raise LookupError(f"template {template.name} has no {name} block")
    return "".join(block(template.new_context(variables))).strip() + "\n"


def _with_body(template: Template, variables: dict[str, Any]) -> tuple[str, str]:
    """`template` rendered whole, and what its `body` block wrote within it."""
    context = template.new_context(variables)
    block, *overridden = context.blocks["body"]
    written: list[str] = []

    def body(inner: Context) -> Iterator[str]:
        # The block's hundred-odd pieces joined here and handed on as one: passing each on
        # through this generator took a sixth of rendering.
        text = "".join(block(inner))
        written.append(text)
        yield text

    context.blocks["body"] = [body, *overridden]
    return "".join(template.root_render_func(context)), "".join(written)


def header_safe(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """`text` as one header-safe line of at most `limit` characters.

    Every control or line-breaking character becomes a space, bidirectional overrides go,
    runs of white space collapse, an encoded word's opening `=?` is broken up, and an over-long
    line is cut at a word with an ellipsis.
    """
    spaced = text.translate(_HEADER_TABLE)
    # The email package decodes RFC 2047 encoded words in a header value it is given, and some
    # Python versions then write a decoded CR LF out raw (CVE-2024-6923): `=?utf-8?b?DQpCY2M6…?=`
    # in a customer's subject would become a Bcc header. What people write is never encoded.
    line = " ".join(spaced.split()).replace("=?", "= ?")
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


def compile_templates() -> None:
    """Compile every template now (at start-up) rather than on its first email."""
    environment = _environment()
    for name in environment.list_templates():
        environment.get_template(name)


def template_names() -> frozenset[str]:
    """Every email template in `templates/` (shared layouts and macros, named `_*`, aside)."""
    return frozenset(
        path.stem for path in TEMPLATE_DIR.glob("*.txt") if not path.name.startswith("_")
    )


def _subject(template: Template, variables: dict[str, Any], thread_id: str) -> str:
    # Normalised before the tokens go (a control character inside one would hide it), and
    # cut only after.
    words = without_subject_tokens(header_safe(_block(template, "subject", variables), sys.maxsize))
    # The token goes last and is never cut, so a reply always finds its thread. Only a
    # well-formed thread id gets one: intake reads nothing else back.
    if not THREAD_ID.fullmatch(thread_id):
        return header_safe(words)
    token = subject_token(thread_id)
    return f"{header_safe(words, SUBJECT_LIMIT - len(token) - 1)} {token}"


def without_subject_tokens(words: str) -> str:
    """`words` without the thread tokens intake would read (a customer's "Re: … [#thr-…]"):
    the subject gets its own thread's token once, and no other thread's token can come first."""
    while (named := thread_in_subject(words)) is not None:
        words = words.replace(subject_token(named), " ")
    return words


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates ship with the package: no need to look at their files for every email.
        auto_reload=False,
    )
    environment.filters.update(
        local_time=_local_time,
        local_date=_local_date,
        short_time=_short_time,
        money=_money,
        duration=_duration,
        quote=_quote,
    )
    # A global rather than an `{% import %}` in each template: the subject block is rendered
    # on its own, outside the template's top level, where imports would not be seen.
    environment.globals["words"] = environment.get_template("_words.jinja").module
    return environment


def _local(context: Context, moment: datetime) -> datetime:
    zone = context.get("timezone")
    return moment.astimezone(zone) if isinstance(zone, ZoneInfo) else moment


@pass_context
def _local_time(context: Context, moment: datetime) -> str:
    """`Monday 2 November 2026 at 04:30 EST`: unambiguous for a customer in any country."""
    local = _local(context, moment)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} {local.tzname()}"


@pass_context
def _local_date(context: Context, moment: datetime) -> str:
    local = _local(context, moment)
    return f"{local:%A} {local.day} {local:%B %Y}"


@pass_context
def _short_time(context: Context, moment: datetime, zone: bool = False) -> str:
    """`2 Nov 04:30` (`zone`: `2 Nov 04:30 EST`): for subjects and timelines, where the full
    form would drown what matters."""
    local = _local(context, moment)
    short = f"{local.day} {local:%b %H:%M}"
    return f"{short} {local.tzname()}" if zone else short


def _money(amount: Decimal, currency: str | None = None) -> str:
    figure = f"{amount:,.2f}"
    return f"{figure} {currency}" if currency else figure


def _duration(span: timedelta) -> str:
    """A span in its largest sensible unit: "40 minutes", "5 hours", "3 days"."""
    seconds = max(int(span.total_seconds()), 0)
    for unit, size, below in (
        ("second", 1, 120),
        ("minute", 60, 7_200),
        ("hour", 3_600, 172_800),
    ):
        if seconds < below:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    days = seconds // 86_400
    return f"{days} days"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
