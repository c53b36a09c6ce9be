"""`keepword dlq list` and `keepword dlq replay`: the dead letters, and sending them back.

A replay writes each chosen dead letter onto its source topic with its original key (so onto the
thread's partition), value and headers (CloudEvents included, so its event id is unchanged and
the consumers' inboxes drop a second copy), plus `keepword-replay-of`. What was replayed is
committed afterwards as the offsets of the consumer group `keepword-ops-dlq-replay` (see
`dead_letters.ReplayMark`), so the next replay does not send it again. A replay interrupted
between writing and committing sends those records again next time: at least once, never lost.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiokafka.structs import TopicPartition
from keepword_events.topics import EVENT_TOPICS, dead_letter_topic

from . import clients
from .dead_letters import (
    MAX_MARK_METADATA,
    DeadLetter,
    ReplayMark,
    Selection,
    read_dead_letter,
    source_of,
)
from .errors import OpsError

REPLAY_GROUP: Final = "keepword-ops-dlq-replay"
DLQ_TOPICS: Final[tuple[str, ...]] = tuple(dead_letter_topic(t) for t in EVENT_TOPICS)


@dataclass(frozen=True, slots=True)
class Listed:
    """A dead letter, and whether it was replayed already."""

    letter: DeadLetter
    replayed: bool


@dataclass
class ReplayOutcome:
    """What a replay did (or, in a dry run, would do)."""

    dry_run: bool
    replayed: list[DeadLetter] = field(default_factory=list)
    already_replayed: int = 0
    not_chosen: int = 0


def _topics(selection: Selection) -> tuple[str, ...]:
    try:
        return selection.dlq_topics(DLQ_TOPICS)
    except ValueError as error:
        raise OpsError(str(error)) from None


async def _marks(bootstrap: str, group: str) -> dict[TopicPartition, ReplayMark]:
    async with clients.admin_client(bootstrap) as admin:
        offsets = await clients.group_offsets(admin, group)
    return {tp: ReplayMark.stored(meta.offset, meta.metadata) for tp, meta in offsets.items()}


async def list_dead_letters(
    bootstrap: str, selection: Selection, *, group: str = REPLAY_GROUP
) -> list[Listed]:
    """Every chosen dead letter still on its topic, in topic, partition and offset order."""
    topics = _topics(selection)
    async with clients.kafka_errors(bootstrap):
        marks = await _marks(bootstrap, group)
        partitions = await clients.partitions_of(bootstrap, topics)
        async with clients.consumer(bootstrap) as consumer:
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            found: list[Listed] = []
            async for batch in clients.read_to_end(consumer, ends):
                for record in batch:
                    letter = read_dead_letter(record)
                    if selection.matches(letter):
                        mark = marks.get(TopicPartition(record.topic, record.partition))
                        found.append(Listed(letter, mark is not None and mark.done(record.offset)))
    return sorted(found, key=_position)


def _position(item: Listed) -> tuple[str, int, int]:
    return (item.letter.topic, item.letter.partition, item.letter.offset)


async def replay(
    bootstrap: str, selection: Selection, *, dry_run: bool = False, group: str = REPLAY_GROUP
) -> ReplayOutcome:
    """Write the chosen dead letters not yet replayed back onto their source topics."""
    topics = _topics(selection)
    outcome = ReplayOutcome(dry_run=dry_run)
    async with clients.kafka_errors(bootstrap):
        marks = await _marks(bootstrap, group)
        new_marks: dict[TopicPartition, ReplayMark] = {}
        partitions = await clients.partitions_of(bootstrap, topics)
        async with clients.consumer(bootstrap) as consumer:
            consumer.assign(partitions)
            starts = await consumer.beginning_offsets(partitions)
            ends = await consumer.end_offsets(partitions)
            for tp in partitions:
                start = max(marks.get(tp, ReplayMark()).watermark, starts[tp])
                consumer.seek(tp, start)
                # Dead-letter topics hold no transaction markers: offsets are contiguous.
                outcome.already_replayed += start - starts[tp]
            seen: dict[TopicPartition, list[int]] = {tp: [] for tp in partitions}
            chosen: dict[TopicPartition, list[DeadLetter]] = {tp: [] for tp in partitions}
            async for batch in clients.read_to_end(consumer, ends):
                for record in batch:
                    tp = TopicPartition(record.topic, record.partition)
                    seen[tp].append(record.offset)
                    letter = read_dead_letter(record)
                    if marks.get(tp, ReplayMark()).done(record.offset):
                        outcome.already_replayed += 1
                    elif selection.matches(letter):
                        chosen[tp].append(letter)
                    else:
                        outcome.not_chosen += 1
            for tp in partitions:
                mark = marks.get(tp, ReplayMark())
                start = max(mark.watermark, starts[tp])
                offsets = [letter.offset for letter in chosen[tp]]
                after = mark.after(seen[tp], offsets, start=start, end=ends[tp])
                if after != mark:
                    new_marks[tp] = after
                outcome.replayed.extend(chosen[tp])
        if dry_run:
            return outcome
        await _write_back(bootstrap, outcome.replayed)
        await _remember(bootstrap, group, new_marks)
    return outcome


async def _write_back(bootstrap: str, letters: Sequence[DeadLetter]) -> None:
    async with clients.producer(bootstrap) as producer:
        sent: list[asyncio.Future[Any]] = [
            await producer.send(
                source_of(letter.topic),
                letter.value,
                key=letter.key,
                headers=list(letter.replay_headers()),
            )
            for letter in letters
        ]
        await asyncio.gather(*sent)


async def _remember(bootstrap: str, group: str, marks: dict[TopicPartition, ReplayMark]) -> None:
    if not marks:
        return
    too_long = [tp for tp, mark in marks.items() if len(mark.metadata()) > MAX_MARK_METADATA]
    if too_long:
        raise OpsError(
            f"replayed, but too many dead letters out of order on {too_long[0].topic} to "
            "remember them: replay that topic without filters"
        )
    async with clients.consumer(bootstrap, group_id=group) as committer:
        committer.assign(list(marks))
        offsets = {tp: (mark.watermark, mark.metadata()) for tp, mark in marks.items()}
        await committer.commit(offsets)


def format_listed(item: Listed) -> list[str]:
    """One dead letter as two lines: which, when, what and whose; then where from and why."""
    letter = item.letter
    state = "replayed" if item.replayed else "waiting"
    kind = (letter.event_type or "?").removeprefix("keepword.")
    first = (
        f"{letter.partition}@{letter.offset}  {letter.at:%Y-%m-%d %H:%M:%S}  {state}  {kind}  "
        f"id {letter.event_id or '-'}  thread {letter.thread_id}"
    )
    source = f"{letter.source_topic}/{letter.source_partition}@{letter.source_offset}"
    attempts = "" if letter.attempts is None else f" after {letter.attempts} attempt(s)"
    again = f" (a replay of {letter.replay_of})" if letter.replay_of else ""
    second = f"    from {source}{again}, set aside by {letter.service}{attempts}: {letter.reason}"
    return [first, second]


def format_listing(items: Sequence[Listed]) -> list[str]:
    """The dead letters grouped under their `.dlq` topic, with a count per topic."""
    lines: list[str] = []
    topic: str | None = None
    for item in items:
        if item.letter.topic != topic:
            topic = item.letter.topic
            count = sum(1 for other in items if other.letter.topic == topic)
            lines.append(f"{topic} ({count})")
        lines.extend("  " + line for line in format_listed(item))
    return lines or ["no dead letters"]


def listed_json(item: Listed) -> str:
    """One dead letter as a JSON line (the value is not included: it may carry a body)."""
    letter = item.letter
    return json.dumps(
        {
            "topic": letter.topic,
            "partition": letter.partition,
            "offset": letter.offset,
            "at": letter.at.isoformat(),
            "reason": letter.reason,
            "source_topic": letter.source_topic,
            "source_partition": letter.source_partition,
            "source_offset": letter.source_offset,
            "service": letter.service,
            "attempts": letter.attempts,
            "type": letter.event_type,
            "id": letter.event_id,
            "thread_id": letter.thread_id,
            "replay_of": letter.replay_of,
            "replayed": item.replayed,
        },
        ensure_ascii=False,
    )
