"""A consumed batch is folded in memory and written in a few statements (`Ledger.on_events`),
against the real database: the same ledger, history, timers and outbox as event by event; a
poison event in a batch is dead-lettered alone, the others handled once; a batch redelivered
changes nothing. Records are handed to the platform's consumer as Kafka hands them over."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from keepword_commitments.app import SERVICE
from keepword_commitments.handlers import INPUTS, SCHEMA
from keepword_commitments.handlers import Ledger as LedgerRules
from keepword_events import (
    Channel,
    CommitmentCancelled,
    CommitmentFulfilled,
    CommitmentKind,
    Envelope,
    Event,
    ReplySent,
    Verdict,
    decode,
    new_envelope,
    topics,
)
from keepword_platform.database import Connection
from keepword_platform.messaging.records import DLQ_REASON, headers_from_json
from keepword_testkit.batch_harness import BatchHarness, Steps, consumed

from .conftest import Ledger
from .test_ledger import DANA, PRODUCTION, SALES, answered, declared, new_thread

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def harness(ledger: Ledger) -> BatchHarness:
    runtime = ledger.app.state.runtime
    return BatchHarness(SERVICE, SCHEMA, lambda: runtime.db, INPUTS.wants)


def steps_of(ledger: Ledger) -> Steps:
    return Steps(LedgerRules(lambda: ledger.app.state.runtime.company))


def reply(thread: str, body: str, at: datetime, channel: Channel = Channel.EMAIL) -> ReplySent:
    return ReplySent(
        thread_id=thread,
        correlation_id=thread,
        message_id=f"msg-{uuid.uuid4().hex}",
        channel=channel,
        customer=DANA,
        author=SALES,
        body=body,
        sent_at=at,
        received_at=at,
    )


def scenario() -> tuple[list[Envelope[Event]], list[str]]:
    """Inputs on three threads, interleaved, several of them on one commitment: countered and
    superseded, confirmed and kept, kept by a reply, declared and cancelled, and a promise found
    in a reply. Their times are a second apart, in record order."""
    t1, t2, t3 = new_thread(), new_thread(), new_thread()
    a, b, c, d, e = (f"cmt-{n}-{uuid.uuid4().hex[:8]}" for n in "abcde")
    now = datetime.now(UTC).replace(microsecond=0)
    soon = now + timedelta(hours=2)
    events: list[Event] = [
        declared(t1, a),
        declared(t2, c, kind=CommitmentKind.RESPONSE_TIME, made_by=SALES, due_at=soon),
        declared(t3, e, kind=CommitmentKind.DELIVERY),
        answered(t1, a, Verdict.COUNTERED, feasible_due_at=now + timedelta(days=60), note="60"),
        declared(t2, d, kind=CommitmentKind.CALLBACK, made_by=SALES, due_at=soon),
        declared(t1, b, text="Page two within 60 days", supersedes=a),
        reply(t2, "Here is the report you asked for.", now + timedelta(minutes=5)),
        answered(t3, e, Verdict.CONFIRMED),
        answered(t1, b, Verdict.CONFIRMED),
        CommitmentCancelled(
            thread_id=t2,
            correlation_id=t2,
            commitment_id=d,
            cancelled_by=SALES,
            reason="customer called in",
        ),
        reply(t3, "Thanks Dana. We will respond within three hours.", now + timedelta(minutes=9)),
        CommitmentFulfilled(
            thread_id=t1, correlation_id=t1, commitment_id=b, reported_by=PRODUCTION, kept=True
        ),
    ]
    envelopes = [
        new_envelope(event, source="/test", time=now + timedelta(seconds=i))
        for i, event in enumerate(events)
    ]
    return envelopes, [t1, t2, t3]


async def snapshot(conn: Connection, threads: list[str], outbox_after: int) -> Any:
    """The threads' ledger rows, history, timers and the outbox rows written after
    `outbox_after`, with the ids of the events the ledger made replaced by their order."""
    # The threads' rows only (keyed by thread): the running ledger may meanwhile set aside
    # another test's poison record from the session's broker.
    outbox = await conn.fetch(
        f"""SELECT event_id, topic, key, value, headers::text AS headers FROM {SCHEMA}.outbox
             WHERE id > $1 AND key = ANY($2::bytea[]) ORDER BY id""",
        outbox_after,
        [thread.encode() for thread in threads],
    )
    made = {row["event_id"]: f"made-{i}" for i, row in enumerate(outbox)}
    announced = []
    for row in outbox:
        envelope = decode(row["value"], headers_from_json(row["headers"]))
        announced.append((row["topic"], row["key"], made[row["event_id"]], envelope.data))
    ledger = await conn.fetch(
        f"""SELECT * FROM {SCHEMA}.commitments WHERE thread_id = ANY($1)
             ORDER BY commitment_id""",
        threads,
    )
    ids = [row["commitment_id"] for row in ledger]
    history = await conn.fetch(
        f"""SELECT commitment_id, at, from_status, to_status, at_risk, reason, event_id
              FROM {SCHEMA}.commitment_history WHERE commitment_id = ANY($1) ORDER BY id""",
        ids,
    )
    timers = await conn.fetch(
        f"""SELECT kind, subject, fire_at FROM {SCHEMA}.timers WHERE subject = ANY($1)
             ORDER BY subject, kind""",
        ids,
    )
    return {
        "ledger": [dict(row) for row in ledger],
        "history": [dict(row) | {"event_id": made[row["event_id"]]} for row in history],
        "timers": [dict(row) for row in timers],
        "outbox": announced,
    }


async def forget(conn: Connection, threads: list[str], events: list[str]) -> None:
    """The threads' commitments, their history and timers, and the inputs' inbox rows gone."""
    ids = await conn.fetchval(
        f"SELECT array_agg(commitment_id) FROM {SCHEMA}.commitments WHERE thread_id = ANY($1)",
        threads,
    )
    await conn.execute(
        f"DELETE FROM {SCHEMA}.commitment_history WHERE commitment_id = ANY($1)",
        ids,
    )
    await conn.execute(f"DELETE FROM {SCHEMA}.commitments WHERE commitment_id = ANY($1)", ids)
    await conn.execute(f"DELETE FROM {SCHEMA}.timers WHERE subject = ANY($1)", ids)
    await conn.execute(f"DELETE FROM {SCHEMA}.inbox WHERE event_id = ANY($1)", events)


async def test_a_batch_makes_the_same_ledger_history_timers_and_outbox_as_event_by_event(
    ledger: Ledger,
) -> None:
    envelopes, threads = scenario()
    records = consumed(envelopes)
    batched, single = steps_of(ledger), steps_of(ledger)

    as_batch, each = await harness(ledger).batch_then_each(
        records,
        batched,
        single,
        snapshot=lambda conn, mark: snapshot(conn, threads, mark),
        forget=lambda conn: forget(conn, threads, [e.id for e in envelopes]),
    )

    assert (batched.batches, batched.singles) == (1, 0)  # one step for the whole batch
    assert (single.batches, single.singles) == (0, len(records))
    assert as_batch == each
    # What the scenario makes: 12 inputs, 13 moves (a promise found in the second reply).
    assert len(as_batch["history"]) == 13
    statuses = {row["commitment_id"]: row["status"] for row in as_batch["ledger"]}
    assert sorted(statuses.values()) == [
        "cancelled",  # d
        "confirmed",  # e, not yet delivered
        "declared",  # the promise found in the second reply
        "kept",  # b, reported kept
        "kept",  # c, by the first reply
        "renegotiated",  # a, superseded by b
    ]
    # Timers only for what is still open with a due time: e and the promise found in the reply.
    assert {row["subject"] for row in as_batch["timers"]} == {
        c for c, status in statuses.items() if status in ("confirmed", "declared")
    }


async def test_a_poison_event_in_a_batch_is_dead_lettered_alone_and_a_redelivery_changes_nothing(
    ledger: Ledger,
) -> None:
    thread = new_thread()
    a, b = f"cmt-a-{thread}", f"cmt-b-{thread}"
    envelopes = [
        new_envelope(event, source="/test")
        for event in [
            declared(thread, a),
            answered(thread, a, Verdict.REJECTED),
            answered(thread, a, Verdict.CONFIRMED),  # refused: a was rejected
            declared(thread, b),
            answered(thread, b, Verdict.CONFIRMED),
        ]
    ]
    poison = envelopes[2]
    records = consumed(envelopes)
    poison_record = records[2]
    steps = steps_of(ledger)
    batches = harness(ledger)
    ledger_consumer = batches.consumer(steps, batched=True)

    async with batches.pool().acquire() as conn:
        mark = await batches.last_outbox_id(conn)
        await ledger_consumer.handle_batch(records)
        first = await snapshot(conn, [thread], mark)
        inbox = await batches.inbox(conn, envelopes)
        # This test's own letters only: the running ledger may set aside another test's poison
        # record from the session's broker meanwhile.
        letters = await conn.fetch(
            f"""SELECT key, headers::text AS headers FROM {SCHEMA}.outbox
                 WHERE id > $1 AND topic = $2 AND key = $3""",
            mark,
            f"{topics.COMMITMENT_REQUESTS}.dlq",
            poison_record.key,
        )
        await ledger_consumer.handle_batch(records)  # Kafka delivers the batch again
        again = await snapshot(conn, [thread], mark)

    # The whole batch first, then event by event: the refusal set aside, the others once.
    assert (steps.batches, steps.singles) == (1, len(records))
    assert {r["event_id"]: r["outcome"] for r in inbox} == {
        e.id: "dead_lettered" if e is poison else "handled" for e in envelopes
    }
    [letter] = letters
    assert dict(headers_from_json(letter["headers"]))[DLQ_REASON].decode() == (
        f"rejected: commitment {a} is rejected; production can no longer answer it"
    )
    moves = [(row["commitment_id"], row["to_status"]) for row in first["history"]]
    assert moves == [
        (a, "awaiting_confirmation"),
        (a, "rejected"),
        (b, "awaiting_confirmation"),
        (b, "confirmed"),
    ]
    assert [
        data.status.value for topic, _, _, data in first["outbox"] if topic == topics.COMMITMENTS
    ] == [
        "awaiting_confirmation",
        "rejected",
        "awaiting_confirmation",
        "confirmed",
    ]
    assert again == first  # nothing new: no history, no outbox row, no timer
    assert steps.batches == 1  # the redelivered batch claimed nothing, so no step ran
