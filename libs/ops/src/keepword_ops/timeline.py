"""A thread's events as lines a person can read: pure functions, no I/O (`tail` does that).

Each record becomes a `TimelineEntry`: when it happened, where it sits, its type and its gist
(who did what, never a message body). Dead letters are entries too, at the time they were set
aside and with their reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka.partitioner import murmur2
from keepword_events import (
    CommitmentAnswered,
    CommitmentCancelled,
    CommitmentDeclared,
    CommitmentFulfilled,
    CommitmentStatusChanged,
    CustomerRated,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    EscalationWarned,
    Event,
    EventDecodeError,
    FeedbackRequested,
    MessageReceived,
    NotificationFailed,
    NotificationSent,
    ReplySent,
    VagueTimePromised,
    WeeklyReportDue,
    decode,
)
from keepword_events.envelope import H_ID, H_TYPE
from keepword_events.topics import DLQ_SUFFIX

from .dead_letters import DeadLetterRecord, read_dead_letter, record_time

GIST_TEXT_MAX = 80


def partition_for(thread_id: str, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as aiokafka's) gives the thread's key."""
    hashed: int = murmur2(thread_id.encode())
    return (hashed & 0x7FFFFFFF) % partitions


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One record of a thread, ready to print."""

    time: datetime
    topic: str
    partition: int
    offset: int
    event_type: str
    event_id: str | None
    thread_id: str
    gist: str
    data: Any = None
    dead_letter: bool = False

    def sort_key(self) -> tuple[datetime, str, int]:
        """Time order; records of one partition keep their order when times are equal."""
        return (self.time, self.topic, self.offset)


def _short(text: str, limit: int = GIST_TEXT_MAX) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def gist(event: Event) -> str:
    """What an event says, in one line: who, what, which promise or escalation."""
    match event:
        case MessageReceived():
            text = f"{event.channel} from {event.author.email}"
            if event.subject:
                text += f': "{_short(event.subject)}"'
            if event.deposit is not None:
                text += f" (deposit {event.deposit.amount} {event.deposit.currency})"
            return text
        case ReplySent():
            text = f"{event.channel} reply by {event.author.email} ({event.author.role})"
            if event.subject:
                text += f': "{_short(event.subject)}"'
            return text + (" [automatic]" if event.automatic else "")
        case CommitmentDeclared():
            return (
                f"{event.commitment_id} {event.kind} promised by {event.made_by.email}, "
                f'due {_when(event.due_at)}: "{_short(event.text)}"'
            )
        case CommitmentAnswered():
            text = f"{event.commitment_id} {event.verdict} by {event.answered_by.email}"
            if event.feasible_due_at is not None:
                text += f", feasible by {_when(event.feasible_due_at)}"
            return text
        case CommitmentFulfilled():
            kept = "kept" if event.kept else "not kept"
            return f"{event.commitment_id} {kept}, reported by {event.reported_by.email}"
        case CommitmentCancelled():
            by = event.cancelled_by.email
            return f"{event.commitment_id} cancelled by {by}: {_short(event.reason)}"
        case CommitmentStatusChanged():
            before = f"{event.previous_status} -> " if event.previous_status else ""
            text = f"{event.commitment_id} {before}{event.status}"
            if event.at_risk:
                text += " (at risk)"
            return text + (f": {_short(event.reason)}" if event.reason else "")
        case VagueTimePromised():
            ledger = f"recorded as {event.commitment_id}" if event.recorded else "not recorded"
            return (
                f'{event.kind} promised by {event.made_by.email} "{_short(event.vague_time)}", '
                f"a time no clock can check ({ledger})"
            )
        case EscalationOpened() | EscalationRaised():
            return (
                f"{event.escalation_id} {event.rule}, level {event.level} to "
                f"{event.manager.email}: {_short(event.reason)}"
            )
        case EscalationWarned():
            return f"{event.escalation_id} {event.rule}, due {_when(event.due_at)}: " + _short(
                event.reason
            )
        case EscalationDecided():
            return f"{event.escalation_id} {event.option} chosen by {event.decided_by.email}"
        case EscalationResolved():
            return f"{event.escalation_id} resolved: {_short(event.resolution)}"
        case NotificationSent():
            return (
                f"{event.template} to {event.recipient} ({event.recipient_role}): "
                f'"{_short(event.subject)}"'
            )
        case NotificationFailed():
            kind = "permanently" if event.permanent else "for now"
            return f"{event.template} to {event.recipient} failed {kind}: {_short(event.error)}"
        case FeedbackRequested():
            return f"rating asked of {event.customer.email or 'the customer'} ({event.occasion})"
        case CustomerRated():
            # The comment is the customer's own words: like a body, it stays out of the line.
            said = ", with a comment" if event.comment else ""
            return f"rated {event.rating} of 5 (revision {event.revision}){said}"
        case WeeklyReportDue():
            return f"weekly report {event.week} due to {event.manager.email}"
    return type(event).__name__


def _header(record: DeadLetterRecord, name: str) -> str | None:
    for key, value in record.headers:
        if key.lower() == name:
            return None if value is None else value.decode("utf-8", "replace")
    return None


def entry_of(record: DeadLetterRecord) -> TimelineEntry:
    """The timeline entry of any record of the catalog (an event, a dead letter, or junk)."""
    thread = (record.key or b"").decode("utf-8", "replace")
    if record.topic.endswith(DLQ_SUFFIX):
        letter = read_dead_letter(record)
        return TimelineEntry(
            time=letter.at,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            event_type=letter.event_type or "?",
            event_id=letter.event_id,
            thread_id=thread,
            gist=f"dead letter from {letter.service}: {_short(letter.reason, 160)}",
            dead_letter=True,
        )
    try:
        envelope = decode(record.value, record.headers)
    except EventDecodeError as error:
        return TimelineEntry(
            time=record_time(record.timestamp),
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            event_type=_header(record, H_TYPE) or "?",
            event_id=_header(record, H_ID),
            thread_id=thread,
            gist=f"undecodable: {_short(error.reason, 160)}",
        )
    return TimelineEntry(
        time=envelope.time,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        event_type=envelope.type,
        event_id=envelope.id,
        thread_id=thread,
        gist=gist(envelope.data),
        data=envelope.data.model_dump(mode="json"),
    )


def _short_name(name: str) -> str:
    return name.removeprefix("keepword.")


def format_line(entry: TimelineEntry) -> str:
    """One entry as a line: time, topic, event type, gist."""
    moment = entry.time.astimezone(UTC)
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    kind = _short_name(entry.event_type).removesuffix(".v1")
    return f"{stamp}  {_short_name(entry.topic):24} {kind:30} {entry.gist}"


def format_json(entry: TimelineEntry) -> str:
    """One entry as a JSON line, for machines."""
    return json.dumps(
        {
            "time": entry.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "topic": entry.topic,
            "partition": entry.partition,
            "offset": entry.offset,
            "type": entry.event_type,
            "id": entry.event_id,
            "thread_id": entry.thread_id,
            "dead_letter": entry.dead_letter,
            "gist": entry.gist,
            "data": entry.data,
        },
        ensure_ascii=False,
    )
