"""The stories' own machinery, without the system: the catalog is consistent, a digest is read
as one letter per thread with that thread's links, and expectations match as they should."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from keepword_events import Customer as EventCustomer
from keepword_events import (
    EscalationOpened,
    EscalationRule,
    Option,
    OptionKind,
    Person,
    Role,
    new_envelope,
)
from keepword_testkit.stories import STORIES, Story
from keepword_testkit.stories.checks import event_matches, field_at, letter_matches
from keepword_testkit.stories.mailbox import letters_of
from keepword_testkit.stories.model import AnswerEmail, AwaitEmail, ChooseOption, CustomerWrites
from keepword_testkit.stories.player import _decision_links

A, B = "thr-00000000000000aa", "thr-00000000000000bb"


@pytest.mark.parametrize("story", STORIES, ids=lambda s: s.key)
def test_every_story_starts_a_thread_and_uses_only_emails_it_kept(story: Story) -> None:
    assert isinstance(story.steps[0], CustomerWrites)
    kept: set[str] = set()
    for step in story.steps:
        if isinstance(step, AnswerEmail | ChooseOption):
            assert step.email in kept, f"{story.key}: {step.email} used before it is kept"
        if isinstance(step, AwaitEmail):
            kept.add(step.name)
    assert story.expected_emails
    assert story.expected_events


def _digest() -> EmailMessage:
    email = EmailMessage()
    email["From"] = "Brightline Digital <support@brightline.example>"
    email["To"] = "morgan.lead@brightline.example"
    email["Subject"] = "2 escalations need your decision"
    email["Message-ID"] = "<kw.digest.0123456789ab@brightline.example>"
    email.set_content(
        "2 escalations need your decision.\n\n"
        f"1 OF 2: Decision needed by 9 Nov 10:00 EST: Oliver Grant [#{A}]\n---\nWhy: a\n\n"
        f"2 OF 2: Decision needed by 9 Nov 10:01 EST: Priya Raman [#{B}]\n---\nWhy: b\n"
    )
    email.add_alternative(
        "<p>2 escalations need your decision.</p>"
        f"<h2>1 of 2: Decision needed by 9 Nov 10:00 EST: Oliver Grant [#{A}]</h2>"
        '<ul><li><a href="http://esc/decisions/AAA">Refund the deposit of 1500.00 USD</a></li>'
        '<li><a href="http://esc/decisions/AAB">Call Oliver Grant</a></li></ul>'
        f"<h2>2 of 2: Decision needed by 9 Nov 10:01 EST: Priya Raman [#{B}]</h2>"
        '<ul><li><a href="http://esc/decisions/BBA">Refund the disputed amount</a></li></ul>',
        subtype="html",
    )
    return email


def test_a_digest_is_one_letter_per_thread_with_its_own_links() -> None:
    first, second = letters_of(_digest())

    assert (first.thread_id, second.thread_id) == (A, B)
    assert first.subject.startswith("Decision needed by 9 Nov 10:00 EST: Oliver Grant")
    assert letter_matches(first, "Morgan.Lead@brightline.example", r"^decision needed")
    assert [href for href, _ in _decision_links(first.html)] == [
        "http://esc/decisions/AAA",
        "http://esc/decisions/AAB",
    ]
    assert _decision_links(second.html) == [
        ("http://esc/decisions/BBA", "Refund the disputed amount")
    ]
    assert first.in_digest
    assert second.in_digest


def test_an_email_about_one_thread_is_one_letter() -> None:
    email = EmailMessage()
    email["To"] = "Oliver Grant <oliver.grant@example.com>"
    email["Subject"] = f"We received your message [#{A}]"
    email["X-Keepword-Thread"] = A
    email.set_content("Thank you for writing to us.")

    [letter] = letters_of(email)

    assert letter.thread_id == A
    assert not letter.in_digest
    assert letter.to == {"oliver.grant@example.com"}
    assert not letter_matches(letter, "oliver.grant@example.com", r"decision needed")


def test_events_match_on_dotted_fields() -> None:
    opened = EscalationOpened(
        thread_id=A,
        correlation_id=A,
        escalation_id="esc-1",
        rule=EscalationRule.DIFFICULT_CONVERSATION,
        level=1,
        manager=Person(email="morgan.lead@brightline.example", role=Role.MANAGEMENT),
        customer=EventCustomer(email="m@example.net"),
        reason="angry",
        options=(Option(kind=OptionKind.PHONE_CALL, summary="Call"),),
        decide_by=datetime(2026, 1, 1, tzinfo=UTC),
    )
    envelope = new_envelope(opened, source="/test")

    wanted = {"options.0.kind": "phone_call", "level": 1, "rule": "difficult_conversation"}
    assert event_matches(envelope, opened.ce_type, wanted)
    assert not event_matches(envelope, opened.ce_type, {"options.1.kind": "refund"})
    assert not event_matches(envelope, "keepword.escalation.raised.v1")
    assert field_at({"a": [{"b": 2}]}, "a.0.b") == 2
