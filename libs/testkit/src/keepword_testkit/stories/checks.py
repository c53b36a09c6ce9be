"""Does what came out of the system match what a story expects?"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from keepword_events import Envelope, Event, NotificationSent

from .catalog import CUSTOMER_SUBJECTS
from .mailbox import Letter
from .model import ExpectedEmail, ExpectedEvent, Story

_MISSING = object()


@dataclass(frozen=True)
class Finding:
    """One expectation and whether it holds."""

    ok: bool
    what: str


def field_at(data: Mapping[str, object], path: str) -> object:
    """The value at a dotted path (`options.0.kind`), or a marker that it is absent."""
    value: object = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list | tuple) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def event_matches(
    envelope: Envelope[Event], type_: str, where: Mapping[str, object] | None = None
) -> bool:
    """The event has this CloudEvents type and these field values."""
    if envelope.type != type_:
        return False
    if not where:
        return True
    data = envelope.data.model_dump(mode="json")
    return all(field_at(data, path) == wanted for path, wanted in where.items())


def letter_matches(letter: Letter, to: str, subject_pattern: str) -> bool:
    """The letter went to `to` and its subject matches the pattern (case-insensitive)."""
    return to.lower() in letter.to and bool(
        re.search(subject_pattern, letter.subject, re.IGNORECASE)
    )


def check_story(
    story: Story, events: Sequence[Envelope[Event]], letters: Sequence[Letter]
) -> list[Finding]:
    """Every expectation of the story against the thread's events and emails."""
    findings = [_email_finding(e, letters) for e in story.expected_emails]
    findings += [_event_finding(e, events) for e in story.expected_events]
    findings.append(_customer_finding(story, events, letters))
    return findings


def _email_finding(expected: ExpectedEmail, letters: Sequence[Letter]) -> Finding:
    found = any(letter_matches(e, expected.to, expected.subject) for e in letters)
    return Finding(found, f"email to {expected.to} /{expected.subject}/: {expected.why}")


def _event_finding(expected: ExpectedEvent, events: Sequence[Envelope[Event]]) -> Finding:
    found = any(event_matches(e, expected.type, expected.where) for e in events)
    short = expected.type.removeprefix("keepword.").removesuffix(".v1")
    where = ", ".join(f"{k}={v}" for k, v in expected.where.items())
    return Finding(found, f"event {short}{f' ({where})' if where else ''}: {expected.why}")


def _customer_finding(
    story: Story, events: Sequence[Envelope[Event]], letters: Sequence[Letter]
) -> Finding:
    """The customer received customer emails only: no internal mail, no decision links."""
    address = story.customer.email.lower()
    theirs = [e for e in letters if address in e.to]
    wrong = [
        e.subject
        for e in theirs
        if e.in_digest
        or not any(re.search(p, e.subject, re.IGNORECASE) for p in CUSTOMER_SUBJECTS)
        or "/decisions/" in e.text + e.html
    ]
    wrong += [
        f"{e.data.subject} (sent as {e.data.recipient_role.value} mail)"
        for e in events
        if isinstance(e.data, NotificationSent)
        and e.data.recipient.lower() == address
        and e.data.recipient_role.value != "customer"
    ]
    what = f"the customer got customer emails only ({len(theirs)} emails)"
    return Finding(not wrong, what + (f"; internal: {wrong}" if wrong else ""))
