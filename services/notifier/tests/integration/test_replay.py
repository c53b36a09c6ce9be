"""Replaying the input topics from the start (the consumer group rewound, as an operator would)
sends no second email — and neither does a replay that finds the inbox gone: the send log
alone knows every email already due."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from keepword_events import Customer, topics
from keepword_testkit.kafka_probe import TopicProbe

from .conftest import settle
from .mail import catching
from .running import (
    customer_message,
    escalation,
    group_lag,
    new_thread,
    own_pool,
    rewind_group,
    send_events,
    start_notifier,
    until,
    waiting,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]


async def test_replaying_the_input_topics_sends_nothing_twice(
    fresh_kafka: str, database_url: str, tmp_path: Path
) -> None:
    db = await own_pool(database_url)
    threads = [new_thread() for _ in range(6)]
    customer = Customer(email="dana.replay@example.com", name="Dana Whitfield")
    managers = [f"manager.{t[4:12]}@brightline.example" for t in threads[3:]]
    events = [customer_message(customer, t) for t in threads[:3]] + [
        escalation(m, t) for m, t in zip(managers, threads[3:], strict=True)
    ]
    recipients = [str(customer.email), *managers]
    try:
        async with db.acquire() as conn:
            await settle(conn)
        with catching() as (catcher, port):

            def ours() -> list[str]:
                return sorted(
                    m.message_id
                    for r in recipients
                    for m in catcher.to(r)
                    if any(t in m.message_id for t in threads)
                )

            async def delivered_all() -> bool:
                return len(ours()) == len(threads)

            async def nothing_left() -> bool:
                return await group_lag(fresh_kafka) == 0 and await waiting(db) == 0

            async def run_until_caught_up() -> None:
                service = start_notifier(tmp_path, fresh_kafka, database_url, port)
                try:
                    await asyncio.to_thread(service.wait_healthy, 60)
                    await until(nothing_left, "the notifier to consume everything")
                    await until(delivered_all, "every email")  # the first run's, or still them
                finally:
                    service.stop()

            await send_events(fresh_kafka, events)
            await run_until_caught_up()
            first = ours()
            assert len(first) == len(threads)  # three acknowledgements, three escalations

            async with TopicProbe(fresh_kafka, [topics.NOTIFICATIONS]) as probe:
                # An operator replays the input topics from the beginning.
                assert set((await rewind_group(fresh_kafka)).values()) == {0}
                assert await group_lag(fresh_kafka) >= len(events)
                await run_until_caught_up()
                assert ours() == first

                # Even with the inbox lost, the send log alone holds: the same emails are
                # found due again, and each is already there.
                await db.execute(
                    "DELETE FROM notifier.inbox WHERE event_id IN ("
                    " SELECT source_event_id FROM notifier.sends"
                    "  WHERE thread_id = ANY($1::text[]))",
                    threads,
                )
                await rewind_group(fresh_kafka)
                await run_until_caught_up()
                assert ours() == first
                announced = [
                    r for r in await probe.records() if r.key and r.key.decode() in threads
                ]
            assert announced == []  # no NotificationSent a second time either
    finally:
        await db.close()
