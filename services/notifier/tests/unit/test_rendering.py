"""Rendered emails: snapshots of every template, escaping, and subjects that cannot break a
header."""

from __future__ import annotations

import html
import json
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from keepword_events import (
    CommitmentStatusChanged,
    Customer,
    EscalationOpened,
    MessageReceived,
)
from keepword_events.thread_refs import thread_in_subject
from keepword_notifier.recipients import TEMPLATES, Notice, acknowledgement_for
from keepword_notifier.rendering import (
    SUBJECT_LIMIT,
    TEMPLATE_DIR,
    header_safe,
    render,
    template_names,
)
from keepword_platform.company import CompanyConfig

SNAPSHOTS = Path(__file__).parent / "snapshots"
TOKEN = "[#thr-0123456789abcdef]"
# Everything that could end a header line or smuggle one in, in one string.
HOSTILE = (
    "Hello\r\nBcc: victim@example.com\r\n\r\n<b>x</b>\n\x00\x0b\x0c\x1b[31m\x7f\x85"
    "\u2028\u2029\u202eevil\u2066 tail"
)

UNTHREADED = frozenset({"escalation_digest_manager", "weekly_report_manager"})

Snapshot = Callable[[str, str], None]
Notices = Callable[..., list[Notice]]


# ----- snapshots ------------------------------------------------------------------------------


def test_every_example_renders_as_its_snapshot(
    example_name: str, examples: dict[str, Notice], company: CompanyConfig, snapshot: Snapshot
) -> None:
    email = render(examples[example_name], company)

    snapshot(f"{example_name}.txt", f"Subject: {email.subject}\n\n{email.text}")
    snapshot(f"{example_name}.html", email.html)


def test_every_template_has_a_rendered_example(examples: dict[str, Notice]) -> None:
    assert {notice.template for notice in examples.values()} == template_names()


def test_the_templates_on_disk_are_the_ones_recipients_knows() -> None:
    assert template_names() == TEMPLATES
    for name in TEMPLATES:
        assert (TEMPLATE_DIR / f"{name}.html").is_file(), f"{name}.html is missing"


def test_no_snapshot_is_left_without_its_example(examples: dict[str, Notice]) -> None:
    stale = {p.name for p in SNAPSHOTS.iterdir()} - {
        f"{name}.{kind}" for name in examples for kind in ("txt", "html")
    }
    assert not stale, f"snapshots without an example: {sorted(stale)}"


def test_every_email_greets_signs_and_names_its_thread(
    examples: dict[str, Notice], company: CompanyConfig
) -> None:
    for name, notice in examples.items():
        email = render(notice, company)
        assert email.text.startswith("Dear ") or email.text.startswith("Hello,"), name
        assert "Kind regards,\nBrightline Digital\n" in email.text, name
        if notice.template == "escalation_digest_manager":
            # Several threads: no token in the subject, each part keeps its own.
            assert "[#" not in email.subject, name
            assert email.text.count("[#thr-") == len(notice.context["parts"]), name
            continue
        if notice.template == "weekly_report_manager":
            # About no customer's thread: no token for intake to read back.
            assert "[#" not in email.subject, name
            assert email.html.startswith("<!DOCTYPE html>"), name
            continue
        assert email.subject.endswith(f" {TOKEN}"), name
        assert email.html.startswith("<!DOCTYPE html>"), name


# ----- escaping -------------------------------------------------------------------------------


def test_html_escapes_what_people_wrote(
    company: CompanyConfig,
    now: datetime,
    make_message: Callable[..., MessageReceived],
    make_opened: Callable[..., EscalationOpened],
    notices_of: Notices,
) -> None:
    script = "<script>alert('x')</script>"
    customer = Customer(email="dana@example.com", name=script)
    ack = acknowledgement_for(
        make_message(customer=customer, body=f"{script} & more"), company, due_by=now
    )
    (manager,) = notices_of(make_opened(customer=customer, reason=f"Because {script}"))

    for notice in (ack, manager):
        email = render(notice, company)
        assert "<script>" not in email.html
        assert "&lt;script&gt;" in email.html
        assert script in email.text  # plain text stays as written


def test_links_are_quoted_inside_their_attribute(
    examples: dict[str, Notice], company: CompanyConfig
) -> None:
    notice = examples["escalation_opened_manager"]
    options = [{**o, "url": 'https://x.example/"><script>'} for o in notice.context["options"]]
    changed = replace(notice, context={**notice.context, "options": options})

    html = render(changed, company).html

    assert 'href="https://x.example/&#34;&gt;&lt;script&gt;"' in html


# ----- subjects -------------------------------------------------------------------------------


def _hostile(value: Any) -> Any:
    """`value` with every piece of text in it made hostile, however deep."""
    if isinstance(value, str):
        return f"{HOSTILE} {value}"
    if isinstance(value, dict):
        return {k: _hostile(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hostile(v) for v in value]
    if isinstance(value, Customer):
        return Customer.model_construct(email=value.email, name=HOSTILE, phone=HOSTILE)
    return value


def _header_safe(subject: str) -> bool:
    return all(unicodedata.category(c) not in {"Cc", "Zl", "Zp"} for c in subject)


def test_a_subject_is_one_safe_line_whatever_people_wrote(
    examples: dict[str, Notice], company: CompanyConfig
) -> None:
    for name, notice in examples.items():
        hostile = replace(notice, recipient_name=HOSTILE, context=_hostile(dict(notice.context)))

        subject = render(hostile, company).subject

        assert "\r" not in subject, name
        assert "\n" not in subject, name
        assert _header_safe(subject), name
        assert "\u202e" not in subject, name
        assert len(subject) <= SUBJECT_LIMIT, name
        # A digest and the weekly report are about no one thread: no token.
        assert subject.endswith(f" {TOKEN}") or notice.template in UNTHREADED, name
        email = EmailMessage()  # as the sender will: this raises on a line break
        email["Subject"] = subject
        assert message_from_bytes(email.as_bytes()).keys() == ["Subject"], name  # no Bcc smuggled


def test_a_long_subject_is_cut_but_keeps_its_thread_token(
    company: CompanyConfig,
    notices_of: Notices,
    make_status_changed: Callable[..., CommitmentStatusChanged],
) -> None:
    (notice,) = notices_of(make_status_changed(text="Rank first " * 400))

    subject = render(notice, company).subject

    assert len(subject) <= SUBJECT_LIMIT
    assert subject.endswith(f"Rank… {TOKEN}")  # cut at a word


def test_a_thread_id_intake_cannot_read_back_gets_no_token(
    examples: dict[str, Notice], company: CompanyConfig
) -> None:
    odd = replace(examples["acknowledgement_customer"], thread_id="thr-1]\r\nBcc: x@example.com")

    subject = render(odd, company).subject

    assert "[#" not in subject
    assert subject == "We received your message: Where is my ranking report?"


OTHER_TOKEN = "[#thr-fedcba9876543210]"


@pytest.mark.parametrize(
    "subject",
    [
        f"Re: Where is my ranking report? {TOKEN}",  # a reply to one of our emails
        f"RE: Fwd: {TOKEN} Where is my ranking report? {TOKEN}",
        "Re: Where is my ranking report? [#thr-0123456789abcdef\u202e]",  # hidden by a control
        f"Re: {OTHER_TOKEN} Where is my ranking report?",  # another thread's: must not come first
    ],
)
def test_the_acknowledgement_of_a_reply_carries_the_thread_token_once(
    subject: str,
    company: CompanyConfig,
    now: datetime,
    make_message: Callable[..., MessageReceived],
) -> None:
    ack = acknowledgement_for(make_message(subject=subject), company, due_by=now)

    rendered = render(ack, company).subject

    assert rendered.count("[#") == 1
    assert rendered.endswith(f"Where is my ranking report? {TOKEN}")
    assert thread_in_subject(rendered) == "thr-0123456789abcdef"  # as intake reads it back


def test_productions_example_answer_names_the_thread(
    examples: dict[str, Notice], company: CompanyConfig
) -> None:
    # Intake knows the thread only of promises declared through it: one found in a reply needs
    # the thread in the answer, so the example carries it for every promise.
    for name in (
        "promise_awaiting_confirmation_production",
        "promise_awaiting_confirmation_production_at_risk",
    ):
        email = render(examples[name], company)
        for body in (email.text, html.unescape(email.html)):
            answer, _ = json.JSONDecoder().raw_decode(body[body.index('{"thread_id"') :])

            assert answer["thread_id"] == "thr-0123456789abcdef", name
            assert answer["answered_by"]["role"] == "production", name
            assert answer["verdict"] == "countered", name


@pytest.mark.parametrize(
    ("text", "limit", "safe"),
    [
        ("plain", 200, "plain"),
        ("  two\r\n lines\t", 200, "two lines"),
        ("a\u2028b\x85c\x00d", 200, "a b c d"),
        ("right\u202eto left", 200, "rightto left"),
        ("one two three four", 12, "one two…"),
        ("abcdefghijklmnop", 8, "abcdefg…"),
    ],
)
def test_header_safe(text: str, limit: int, safe: str) -> None:
    assert header_safe(text, limit) == safe


def test_header_safe_spaces_every_line_breaking_character_of_unicode() -> None:
    breaking = [chr(c) for c in range(sys.maxunicode + 1) if not _header_safe(chr(c))]

    assert (
        header_safe(f"a{'b'.join(breaking)}c", sys.maxsize)
        == "a" + " b" * (len(breaking) - 1) + " c"
    )


# ----- values in the company's time zone ------------------------------------------------------


def test_times_are_in_the_companys_zone_with_daylight_saving(
    examples: dict[str, Notice], company: CompanyConfig
) -> None:
    notice = examples["acknowledgement_customer"]
    summer = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)

    text = render(replace(notice, context={**notice.context, "due_by": summer}), company).text

    assert "by Wednesday 1 July 2026 at 12:00 EDT." in text


def test_amounts_and_waits_read_naturally(
    examples: dict[str, Notice], company: CompanyConfig
) -> None:
    notice = examples["escalation_opened_manager"]
    context = {
        **notice.context,
        "waiting_for": timedelta(hours=1),
        "first_entry_ago": timedelta(days=1, hours=1),
        "deposit": notice.context["deposit"].model_copy(update={"amount": Decimal("1234567.5")}),
    }

    text = render(replace(notice, context=context), company).text

    assert "Waiting for an answer for 60 minutes" in text
    assert "First entry in the timeline: 25 hours ago" in text
    assert "Deposit: 1,234,567.50 USD" in text
