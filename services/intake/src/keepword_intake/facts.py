"""What intake publishes for each accepted request: pure functions from requests to events."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keepword_events import (
    CommitmentAnswered,
    CommitmentCancelled,
    CommitmentDeclared,
    CommitmentFulfilled,
    Direction,
    MessageReceived,
    ReplySent,
)
from keepword_events.thread_refs import new_thread_id

from .contract import AnswerIn, CancellationIn, CommitmentIn, FulfilmentIn, MessageIn


def new_id(prefix: str) -> str:
    """A fresh id such as `msg-1f0c...` (128 random bits, hex)."""
    return f"{prefix}-{os.urandom(16).hex()}"


def new_event_id() -> str:
    """A fresh CloudEvents id: a random (version 4) UUID.

    Formatted by hand: `uuid.uuid4()` costs several microseconds, a visible share of intake's
    per-message budget in batches.
    """
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True, slots=True)
class MessageIds:
    """The ids a message gets when intake accepts it; planned before publishing."""

    thread_id: str
    message_id: str
    event_id: str

    def as_json(self) -> dict[str, str]:
        """The 202 body."""
        return {
            "thread_id": self.thread_id,
            "event_id": self.event_id,
            "message_id": self.message_id,
        }


def plan_message(body: MessageIn) -> MessageIds:
    """Ids for a new message: its thread (given, or a new one), message and event ids."""
    return MessageIds(
        thread_id=body.thread_id or new_thread_id(),
        message_id=new_id("msg"),
        event_id=new_event_id(),
    )


def message_event(
    body: MessageIn, ids: MessageIds, received_at: datetime
) -> MessageReceived | ReplySent:
    """The fact of a message: received from the customer, or a reply sent to them."""
    common: dict[str, Any] = {
        "thread_id": ids.thread_id,
        "correlation_id": ids.thread_id,
        "message_id": ids.message_id,
        "channel": body.channel,
        "customer": body.customer,
        "author": body.author,
        "subject": body.subject,
        "body": body.body,
        "sent_at": body.sent_at or received_at,
        "received_at": received_at,
    }
    if body.direction is Direction.INBOUND:
        return MessageReceived(**common, deposit=body.deposit)
    return ReplySent(**common, automatic=body.automatic)


def commitment_declared(body: CommitmentIn, commitment_id: str) -> CommitmentDeclared:
    """The fact that sales or marketing made a promise."""
    return CommitmentDeclared(
        thread_id=body.thread_id,
        correlation_id=body.thread_id,
        commitment_id=commitment_id,
        made_by=body.made_by,
        kind=body.kind,
        text=body.text,
        due_at=body.due_at,
        customer=body.customer,
        supersedes=body.supersedes,
    )


def commitment_answered(body: AnswerIn, commitment_id: str, thread_id: str) -> CommitmentAnswered:
    """The fact that production answered a promise."""
    return CommitmentAnswered(
        thread_id=thread_id,
        correlation_id=thread_id,
        commitment_id=commitment_id,
        answered_by=body.answered_by,
        verdict=body.verdict,
        note=body.note,
        feasible_due_at=body.feasible_due_at,
    )


def commitment_fulfilled(
    body: FulfilmentIn, commitment_id: str, thread_id: str
) -> CommitmentFulfilled:
    """The fact that a promise was reported kept or not."""
    return CommitmentFulfilled(
        thread_id=thread_id,
        correlation_id=thread_id,
        commitment_id=commitment_id,
        reported_by=body.reported_by,
        kept=body.kept,
        note=body.note,
    )


def commitment_cancelled(
    body: CancellationIn, commitment_id: str, thread_id: str
) -> CommitmentCancelled:
    """The fact that a promise was withdrawn."""
    return CommitmentCancelled(
        thread_id=thread_id,
        correlation_id=thread_id,
        commitment_id=commitment_id,
        cancelled_by=body.cancelled_by,
        reason=body.reason,
    )


def fingerprint(route: str, canonical_body: str) -> bytes:
    """What makes two requests "the same" for an Idempotency-Key: route and canonical body."""
    return hashlib.sha256(f"{route}\n{canonical_body}".encode()).digest()
