"""One readable line per event: the timeline the demo prints and the tests show on failure."""

from __future__ import annotations

from datetime import datetime

from keepword_events import (
    CommitmentAnswered,
    CommitmentDeclared,
    CommitmentStatus,
    CommitmentStatusChanged,
    Envelope,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    EscalationWarned,
    Event,
    MessageReceived,
    NotificationFailed,
    NotificationSent,
    Person,
    ReplySent,
)

# What kind of moment each line is, for the demo's symbols and colours.
MESSAGE, REQUEST, PROMISE, WARNING, ESCALATION, DECISION, RESOLVED, EMAIL, FAILURE, OTHER = (
    "message",
    "request",
    "promise",
    "warning",
    "escalation",
    "decision",
    "resolved",
    "email",
    "failure",
    "other",
)


def _who(person: Person) -> str:
    return person.name or str(person.email)


def _quote(text: str | None, limit: int = 60) -> str:
    flat = " ".join((text or "").split())
    return f"“{flat[:limit].rstrip()}{'…' if len(flat) > limit else ''}”"


def _in(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "no due time"
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 120:
        return f"due in {seconds:.0f} s" if seconds >= 0 else f"due {-seconds:.0f} s ago"
    return f"due {moment:%Y-%m-%d %H:%M} UTC"


def describe(envelope: Envelope[Event]) -> tuple[str, str]:
    """(kind, text): what the event says, in a line."""
    e = envelope.data
    if isinstance(e, MessageReceived):
        deposit = f", deposit {e.deposit.amount} {e.deposit.currency}" if e.deposit else ""
        return MESSAGE, f"message in ({e.channel.value}{deposit}) from {_who(e.author)}: " + (
            _quote(e.subject) if e.subject else _quote(e.body)
        )
    if isinstance(e, ReplySent):
        how = "logged a phone call" if e.channel.value == "phone" else f"replied ({e.channel})"
        if e.automatic:
            how = "sent an automatic acknowledgement"
        return MESSAGE, f"{_who(e.author)} ({e.author.role.value}) {how}: {_quote(e.body)}"
    if isinstance(e, CommitmentDeclared):
        return REQUEST, f"{_who(e.made_by)} declares a promise: {_quote(e.text, 70)}"
    if isinstance(e, CommitmentAnswered):
        return REQUEST, f"{_who(e.answered_by)} answers: {e.verdict.value}"
    if isinstance(e, CommitmentStatusChanged):
        return PROMISE, _promise(e, envelope.time)
    if isinstance(e, EscalationWarned):
        return WARNING, f"warning ({e.rule.value}): {e.reason}"
    if isinstance(e, EscalationOpened):
        first = e.options[0].kind.value if e.options else "none"
        return ESCALATION, (
            f"escalation opened ({e.rule.value}) → {_who(e.manager)}, level {e.level}; "
            f"{len(e.options)} options, first {first}: {e.reason}"
        )
    if isinstance(e, EscalationRaised):
        return ESCALATION, f"raised to level {e.level} → {_who(e.manager)}: {e.reason}"
    if isinstance(e, EscalationDecided):
        note = f" ({_quote(e.note)})" if e.note else ""
        return DECISION, f"decision: {e.option.value} by {_who(e.decided_by)}{note}"
    if isinstance(e, EscalationResolved):
        return RESOLVED, f"resolved: {e.resolution}"
    if isinstance(e, NotificationSent):
        return EMAIL, f"email sent → {e.recipient} ({e.recipient_role.value}): {e.subject}"
    if isinstance(e, NotificationFailed):
        return FAILURE, f"email FAILED → {e.recipient}: {e.error}"
    return OTHER, e.ce_type


def _promise(e: CommitmentStatusChanged, now: datetime) -> str:
    text = _quote(e.text, 70)
    if e.status is CommitmentStatus.DECLARED and e.previous_status is None:
        found = "promise found in a reply" if e.source.kind == "extracted" else "promise declared"
        return f"{found} by {_who(e.made_by)}: {text} ({e.kind.value}, {_in(e.due_at, now)})"
    if e.status is CommitmentStatus.AWAITING_CONFIRMATION and e.previous_status is None:
        return f"promise declared by {_who(e.made_by)}: {text}; awaiting production's answer"
    if e.status is CommitmentStatus.REJECTED:
        return f"production's answer: rejected {text}: {_quote(e.production_note, 80)}"
    if e.status is CommitmentStatus.CONFIRMED:
        return f"production's answer: confirmed {text}"
    if e.status is CommitmentStatus.COUNTERED:
        return f"production's answer: countered {text}"
    if e.status is e.previous_status and e.at_risk:
        return f"promise at risk: {text} ({_in(e.due_at, now)})"
    return f"promise {e.status.value}: {text}" + (f" ({e.reason})" if e.reason else "")
