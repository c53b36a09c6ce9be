"""Promises that named only a vague time ("as soon as possible"): no clock can keep or break
them, so their maker is told, to give the customer a date and time. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from keepword_events import ReplySent, VagueTimePromised

from .extraction import FoundPromise, Reading

VAGUE_TIME_LIMIT = 60
"""The contract's bound on the vague words (the extractor's longest phrase is about 30)."""
TEXT_LIMIT = 2000
"""The contract's bound on the sentence (the extractor reads sentences of 400 at most)."""

log = structlog.get_logger(__name__)


def vague_times_told(
    reading: Reading,
    reply: ReplySent,
    *,
    event_id: str,
    recorded: Mapping[FoundPromise, str],
) -> list[VagueTimePromised]:
    """One event for each promise of the reply that named only a vague time, in text order.

    `event_id` is the reply's (the events' cause); `recorded` maps each promise the ledger
    records to its commitment id (a refund "as soon as possible" is recorded with no due time,
    a response "shortly" is not recorded at all). Each is logged, without the reply's words."""
    told = []
    for found in reading.vague:
        if found.vague_time is None:  # a vague promise always has its words; kept for mypy
            continue
        commitment_id = recorded.get(found)
        log.info(
            "promise with a vague time: its maker should name a time",
            thread_id=reply.thread_id,
            event_id=event_id,
            message_id=reply.message_id,
            kind=found.kind.value,
            rule=found.rule,
            vague_time=found.vague_time,
            recorded=commitment_id is not None,
        )
        told.append(
            VagueTimePromised(
                thread_id=reply.thread_id,
                correlation_id=reply.correlation_id,
                causation_id=event_id,
                message_id=reply.message_id,
                made_by=reply.author,
                kind=found.kind,
                vague_time=found.vague_time[:VAGUE_TIME_LIMIT],
                text=found.sentence[:TEXT_LIMIT],
                recorded=commitment_id is not None,
                commitment_id=commitment_id,
                customer=reply.customer,
                sent_at=reply.sent_at,
            )
        )
    return told
