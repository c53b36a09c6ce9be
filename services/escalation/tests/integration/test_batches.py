"""A consumed batch is folded in memory and written in a few statements (`Watch.on_events`),
against the real database: the same threads, timelines, escalations, ratings, timers and outbox
as event by event; a poison event in a batch is dead-lettered alone, the others handled once; a
batch redelivered changes nothing. Records are handed to the platform's consumer as Kafka hands
them over."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from keepword_escalation.app import SERVICE
from keepword_escalation.watch import INPUTS, SCHEMA, Watch
from keepword_events import (
    Channel,
    CommitmentKind,
    CommitmentSource,
    CommitmentStatus,
    CommitmentStatusChanged,
    Customer,
    CustomerRated,
    Envelope,
    Event,
    decode,
    new_envelope,
)
from keepword_platform.database import Connection
from keepword_platform.messaging.records import headers_from_json
from keepword_testkit.batch_harness import BatchHarness, Steps, consumed

from .conftest import FAST_SLA, Escalation
from .test_rules import CASEY, DANA, MORGAN, customer_message, reply, thread

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

NOW = datetime.now(UTC).replace(microsecond=0)  # every deadline of the scenario hours ahead


@pytest.fixture
def company_toml() -> str:
    """Hours rather than seconds: no deadline of these threads falls due during a test."""
    hours = FAST_SLA.replace('"4s"', '"4h"').replace('"3s"', '"3h"')
    return hours + '\n[feedback]\nenabled = true\nask_after = "2h"\n'


def harness(escalation: Escalation) -> BatchHarness:
    runtime = escalation.app.state.runtime
    return BatchHarness(SERVICE, SCHEMA, lambda: runtime.db, INPUTS.wants)


def steps_of(escalation: Escalation, poison: str | None = None) -> Steps:
    runtime = escalation.app.state.runtime
    return Steps(Watch(company=lambda: runtime.company, clock=lambda: NOW), poison)


def at(minutes: int) -> dict[str, Any]:
    moment = NOW - timedelta(hours=1) + timedelta(minutes=minutes)
    return {"sent_at": moment, "received_at": moment}


def broken(t: str, minutes: int) -> CommitmentStatusChanged:
    moment = NOW - timedelta(hours=1) + timedelta(minutes=minutes)
    return CommitmentStatusChanged(
        thread_id=t,
        correlation_id=t,
        commitment_id=f"cmt-{t}",
        status=CommitmentStatus.COUNTERED,
        previous_status=CommitmentStatus.AWAITING_CONFIRMATION,
        kind=CommitmentKind.OUTCOME,
        text="Guaranteed first-page rankings in 30 days",
        made_by=CASEY,
        customer=DANA,
        due_at=moment + timedelta(days=30),
        feasible_due_at=moment + timedelta(days=60),
        production_note="Page two in 60 days is feasible.",
        source=CommitmentSource(kind="extracted"),
        reason="production countered",
        changed_at=moment,
    )


def rated(t: str, rating: int, revision: int, minutes: int) -> CustomerRated:
    return CustomerRated(
        thread_id=t,
        correlation_id=t,
        rating=rating,
        comment="Too slow." if rating < 3 else None,
        rated_at=NOW - timedelta(hours=1) + timedelta(minutes=minutes),
        revision=revision,
    )


def scenario() -> tuple[list[Envelope[Event]], list[str]]:
    """Five threads, interleaved: a difficult conversation settled by a call (then feedback
    asked), repeated contact handed down by a manager ("handle it"), a promise gap on a thread
    not seen before followed by the customer's message, a low rating that opens an escalation and
    a better one that withdraws it, a stale rating revision, and unverified mail."""
    t1, t2, t3, t4, t5 = (thread() for _ in range(5))
    internal = Customer()
    angry = "This is unacceptable. I want my money back or I will talk to my lawyer."
    events: list[Event] = [
        customer_message(t1, body=angry, **at(1)),
        customer_message(t2, **at(2)),
        broken(t3, 3),
        customer_message(t2, body="Any news?", **at(4)),
        reply(t1, body="Reply by email.", **at(5)),
        customer_message(t3, body="When will I be on page one?", **at(6)),
        rated(t4, 1, 1, 7),
        customer_message(t2, body="Hello??", **at(8)),
        reply(t1, body="Called Dana, agreed a refund.", channel=Channel.PHONE, **at(9)),
        reply(t2, author=MORGAN, body="Handle it.", customer=internal, **at(10)),
        rated(t4, 5, 2, 11),
        rated(t5, 2, 2, 12),
        rated(t5, 5, 1, 13),  # an older revision, read after the newer one
        reply(t3, body="Sorted, refund sent.", sender_verified=False, **at(14)),
        reply(t3, body="Page two in 60 days: here is the plan.", **at(15)),
    ]
    envelopes = [
        new_envelope(event, source="/test", time=NOW + timedelta(seconds=i))
        for i, event in enumerate(events)
    ]
    return envelopes, [t1, t2, t3, t4, t5]


_ESCALATION_ID = re.compile(r"esc-[0-9a-f]{20}")


async def snapshot(
    conn: Connection, threads: list[str], outbox_after: int
) -> tuple[str, list[str]]:
    """The threads' rows, timelines, escalations, ratings, timers and their outbox rows written
    after `outbox_after` (as text, the escalations' random ids replaced by their order), and the
    kinds of the events in those outbox rows."""
    # Only the threads' rows: the running service may fire other tests' deadlines meanwhile.
    outbox = await conn.fetch(
        f"""SELECT topic, key, value, headers::text AS headers FROM {SCHEMA}.outbox
             WHERE id > $1 AND key = ANY($2::bytea[]) ORDER BY id""",
        outbox_after,
        [t.encode() for t in threads],
    )
    announced = [
        (row["topic"], row["key"], decode(row["value"], headers_from_json(row["headers"])).data)
        for row in outbox
    ]

    async def rows(query: str, *args: Any) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in row.items() if k != "updated_at"}
            for row in await conn.fetch(query, *args)
        ]

    escalations = await rows(
        f"""SELECT * FROM {SCHEMA}.escalations WHERE thread_id = ANY($1)
             ORDER BY thread_id, opened_at""",
        threads,
    )
    ids = [row["escalation_id"] for row in escalations]
    taken = {
        "threads": await rows(
            f"SELECT * FROM {SCHEMA}.threads WHERE thread_id = ANY($1) ORDER BY thread_id",
            threads,
        ),
        "timeline": await rows(
            f"""SELECT thread_id, at, what, event_id FROM {SCHEMA}.timeline
                 WHERE thread_id = ANY($1) ORDER BY id""",
            threads,
        ),
        "escalations": escalations,
        "ratings": await rows(
            f"SELECT * FROM {SCHEMA}.ratings WHERE thread_id = ANY($1) ORDER BY thread_id",
            threads,
        ),
        "timers": await rows(
            # An escalation's timers in the order of its thread: its id differs run to run.
            f"""SELECT kind, subject, fire_at FROM {SCHEMA}.timers AS t
                  LEFT JOIN {SCHEMA}.escalations AS e ON e.escalation_id = t.subject
                 WHERE subject = ANY($1) OR subject = ANY($2)
                 ORDER BY coalesce(e.thread_id, t.subject), kind""",
            threads,
            ids,
        ),
        "outbox": announced,
    }
    text = repr(taken)
    for n, found in enumerate(dict.fromkeys(_ESCALATION_ID.findall(text))):
        text = text.replace(found, f"escalation-{n}")
    return text, [type(data).__name__ for _, _, data in announced]


async def forget(conn: Connection, threads: list[str], events: list[str]) -> None:
    """All the threads' state and the inputs' inbox rows gone."""
    await conn.execute(
        f"""DELETE FROM {SCHEMA}.timers WHERE subject = ANY($1) OR subject IN (
                SELECT escalation_id FROM {SCHEMA}.escalations WHERE thread_id = ANY($1))""",
        threads,
    )
    for table in ("escalations", "timeline", "ratings", "threads"):
        await conn.execute(f"DELETE FROM {SCHEMA}.{table} WHERE thread_id = ANY($1)", threads)
    await conn.execute(f"DELETE FROM {SCHEMA}.inbox WHERE event_id = ANY($1)", events)


async def test_a_batch_makes_the_same_state_and_outbox_as_event_by_event(
    escalation: Escalation,
) -> None:
    envelopes, threads = scenario()
    records = consumed(envelopes)
    batched, single = steps_of(escalation), steps_of(escalation)

    as_batch, each = await harness(escalation).batch_then_each(
        records,
        batched,
        single,
        snapshot=lambda conn, mark: snapshot(conn, threads, mark),
        forget=lambda conn: forget(conn, threads, [e.id for e in envelopes]),
    )

    assert (batched.batches, batched.singles) == (1, 0)  # one step for the whole batch
    assert (single.batches, single.singles) == (0, len(records))
    assert as_batch == each
    # What the scenario makes, in order.
    assert as_batch[1] == [
        "EscalationOpened",  # t1: a difficult conversation
        "EscalationOpened",  # t3: the promise gap
        "EscalationOpened",  # t4: the low rating
        "EscalationOpened",  # t2: repeated contact
        "EscalationResolved",  # t1: the call
        "FeedbackRequested",  # t1: resolved, so asked at once
        "EscalationDecided",  # t2: handle it
        "EscalationResolved",  # t4: the better rating withdraws it
        "EscalationOpened",  # t5: the low rating; the older revision changes nothing
        "EscalationResolved",  # t3: a verified reply sent after the gap (not the unverified)
        "FeedbackRequested",  # t3
    ]


async def test_a_poison_event_in_a_batch_is_dead_lettered_alone_and_a_redelivery_changes_nothing(
    escalation: Escalation,
) -> None:
    envelopes, threads = scenario()
    poison = envelopes[4]  # t1's email reply
    records = consumed(envelopes)
    steps = steps_of(escalation, poison=poison.id)
    batches = harness(escalation)
    watch_consumer = batches.consumer(steps, batched=True)

    async with batches.pool().acquire() as conn:
        mark = await batches.last_outbox_id(conn)
        await watch_consumer.handle_batch(records)
        first = await snapshot(conn, threads, mark)
        inbox = await batches.inbox(conn, envelopes)
        await watch_consumer.handle_batch(records)  # Kafka delivers the batch again
        again = await snapshot(conn, threads, mark)

    # The whole batch first, then event by event: the poison, tried `max_attempts` times, set
    # aside; the others once.
    tries = watch_consumer.max_attempts
    assert (steps.batches, steps.singles) == (1, len(records) - 1 + tries)
    assert {r["event_id"]: r["outcome"] for r in inbox} == {
        e.id: "dead_lettered" if e is poison else "handled" for e in envelopes
    }
    assert first[1].count("EscalationResolved") == 3  # t1, t3 and t4, as without the poison
    assert again == first  # nothing new: no state, no outbox row, no timer
    assert steps.batches == 1  # the redelivered batch claimed nothing, so no step ran
