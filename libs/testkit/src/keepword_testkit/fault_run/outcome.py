"""What a run produced, in a form two runs can be compared in.

Thread ids, escalation and commitment ids, links, clock times and waiting times differ from
run to run; everything else in an email (who gets it, the subject, every sentence) must not.
Emails are compared with those values replaced by placeholders and thread ids by the plan's
label; escalation events by (thread, type, rule, level), counting distinct event ids (a topic
may carry a record twice, at least once; a reader deduplicates by id).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from keepword_events import EventDecodeError, UnknownEventType, decode

from keepword_testkit.kafka_probe import TopicProbe

from .catcher import Caught

_WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_VOLATILE = (
    (re.compile(r"https?://\S+"), "<link>"),
    (re.compile(r"\besc-[0-9a-f]{8,}\b"), "<escalation>"),
    (re.compile(r"\bcmt-[0-9a-z-]+\b"), "<commitment>"),
    (
        re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"),
        "<time>",
    ),
    (
        re.compile(rf"(?:{_WEEKDAY} )?\d{{1,2}} {_MONTH}(?: \d{{4}})?(?: at)? \d{{2}}:\d{{2}}"),
        "<time>",
    ),
    (re.compile(r"\b\d+ (?:second|minute|hour|day|week)s?\b"), "<duration>"),
)
_THREAD = re.compile(r"thr-[0-9a-f]{16}")


def normalize(text: str, labels: Mapping[str, str]) -> str:
    """`text` with what differs between runs replaced (thread ids by their labels)."""
    text = _THREAD.sub(lambda m: labels.get(m.group(0), "<unknown thread>"), text)
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    return text


@dataclass(frozen=True, order=True)
class Email:
    """An email as two runs must agree on it."""

    to: tuple[str, ...]
    subject: str
    text: str


def email_of(caught: Caught, labels: Mapping[str, str]) -> Email:
    """The comparable form of one caught email (its plain-text part)."""
    message = caught.message
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return Email(
        to=tuple(sorted(caught.rcpt_tos)),
        subject=normalize(str(message["Subject"] or ""), labels),
        text=normalize(text, labels),
    )


@dataclass
class Outcome:
    """Everything a run produced that the comparison looks at."""

    emails: Counter[Email] = field(default_factory=Counter)  # one per Message-ID
    message_ids: Counter[str] = field(default_factory=Counter)
    escalations: Counter[tuple[str, str, str, int]] = field(default_factory=Counter)
    # Message-IDs received again with other bytes: a different email under a used Message-ID.
    altered_copies: list[str] = field(default_factory=list)

    def duplicate_message_ids(self) -> list[str]:
        """Message-IDs the catcher received more than once."""
        return sorted(mid for mid, count in self.message_ids.items() if count > 1)

    def copies(self) -> int:
        """How many emails arrived again under a Message-ID already received."""
        return sum(count - 1 for count in self.message_ids.values())

    def differences(self, expected: Outcome) -> list[str]:
        """How this outcome differs from `expected`, one line per difference (none: equal); an
        email whose text differs is shown as a diff of the two texts."""
        lines = []
        by_heading: dict[tuple[tuple[str, ...], str], list[Email]] = {}
        for email in sorted(set(self.emails) | set(expected.emails)):
            have, want = self.emails[email], expected.emails[email]
            if have != want:
                lines.append(f"email to {email.to} {email.subject!r}: {have} instead of {want}")
                by_heading.setdefault((email.to, email.subject), []).append(email)
        for emails in by_heading.values():
            if len(emails) == 2:
                one, other = (e.text.splitlines() for e in emails)
                lines += ["  " + d for d in difflib.unified_diff(one, other, lineterm="", n=1)]
        for key in sorted(set(self.escalations) | set(expected.escalations)):
            have, want = self.escalations[key], expected.escalations[key]
            if have != want:
                lines.append(f"escalation event {key}: {have} instead of {want}")
        return lines


def emails_outcome(caught: Sequence[Caught], labels: Mapping[str, str]) -> Outcome:
    """The emails part of an outcome: each Message-ID's email once, copies counted apart."""
    outcome = Outcome()
    first: dict[str, bytes] = {}
    for one in caught:
        message_id = str(one.message["Message-ID"])
        outcome.message_ids[message_id] += 1
        if message_id in first:
            if one.raw != first[message_id]:
                outcome.altered_copies.append(message_id)
            continue
        first[message_id] = one.raw
        outcome.emails[email_of(one, labels)] += 1
    return outcome


async def escalation_counts(
    bootstrap: str, topic: str, labels: Mapping[str, str]
) -> Counter[tuple[str, str, str, int]]:
    """(thread label, event type, rule, level) -> distinct events on the escalations topic."""
    seen: dict[str, tuple[str, str, str, int]] = {}
    for record in await TopicProbe(bootstrap, [topic]).records():  # from the topic's start
        try:
            envelope = decode(record.value, record.headers)
        except (EventDecodeError, UnknownEventType):
            continue
        data = envelope.data
        rule = getattr(data, "rule", "")
        level = int(getattr(data, "level", 0))
        label = labels.get(data.thread_id, "<unknown thread>")
        seen[envelope.id] = (label, envelope.type, str(rule), level)
    return Counter(seen.values())
