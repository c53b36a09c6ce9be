"""A staff reply that promises a time no clock can keep, through the real broker and database:
the ledger records nothing for it and tells its maker (keepword.commitment.vague-time.v1)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRecord
from keepword_events import (
    Channel,
    CommitmentKind,
    CommitmentStatusChanged,
    Customer,
    Event,
    Person,
    ReplySent,
    Role,
    VagueTimePromised,
    decode,
    topics,
)

from .conftest import Ledger

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SALES = Person(email="sam.sales@brightline.example", name="Sam Ortega", role=Role.SALES)
DANA = Customer(email="dana@example.com", name="Dana Whitfield")


def on_thread(records: list[ConsumerRecord[bytes, bytes]], thread: str) -> list[Event]:
    return [
        decode(record.value, record.headers).data
        for record in records
        if record.topic == topics.COMMITMENTS and record.key == thread.encode()
    ]


def reply(thread: str, body: str) -> ReplySent:
    now = datetime.now(UTC)
    return ReplySent(
        thread_id=thread,
        correlation_id=thread,
        message_id=f"msg-{uuid.uuid4().hex}",
        channel=Channel.EMAIL,
        customer=DANA,
        author=SALES,
        body=body,
        sent_at=now,
        received_at=now,
    )


async def test_as_soon_as_possible_is_told_to_its_maker_not_recorded(ledger: Ledger) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    vague = reply(thread, "Hi Dana,\n\nWe'll get back to you as soon as possible.\n\nSam")
    sent = await ledger.send(vague)
    # A second reply on the thread, with a real time: once its promise is out, the first
    # reply (handled before it, same partition) has said all it will.
    await ledger.send(reply(thread, "We will respond within three hours."))

    records = await ledger.wait_for(
        lambda r: any(isinstance(e, CommitmentStatusChanged) for e in on_thread(r, thread))
    )

    told, made = on_thread(records, thread)
    assert isinstance(made, CommitmentStatusChanged)
    assert made.kind is CommitmentKind.RESPONSE_TIME
    assert made.due_at is not None  # the only commitment: the vague promise was not recorded
    assert told == VagueTimePromised(
        thread_id=thread,
        correlation_id=thread,
        causation_id=sent.id,
        message_id=vague.message_id,
        made_by=SALES,
        kind=CommitmentKind.RESPONSE_TIME,
        vague_time="as soon as possible",
        text="We'll get back to you as soon as possible.",
        recorded=False,
        customer=DANA,
        sent_at=vague.sent_at,
    )
