"""`keepword lag`: how far each consumer group is behind, per topic and partition.

Lag is the end offset minus the group's committed offset. A partition of a topic the group
reads but has not committed yet counts from the log start (the services start new groups at the
earliest offset) and shows no committed offset.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from aiokafka.structs import TopicPartition

from . import clients


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """One group's position on one partition."""

    group: str
    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int


def lag_of(committed: int | None, start: int, end: int) -> int:
    """Records the group has still to read (never negative; uncommitted: from the log start)."""
    position = committed if committed is not None and committed >= 0 else start
    return max(0, end - max(position, start))


def totals(lags: Sequence[PartitionLag]) -> dict[str, int]:
    """Each group's total lag, groups in name order."""
    found: dict[str, int] = {}
    for item in sorted(lags, key=lambda lag: lag.group):
        found[item.group] = found.get(item.group, 0) + item.lag
    return found


def over(lags: Sequence[PartitionLag], threshold: int) -> dict[str, int]:
    """The groups whose total lag exceeds `threshold`."""
    return {group: total for group, total in totals(lags).items() if total > threshold}


def format_table(lags: Sequence[PartitionLag]) -> list[str]:
    """A table: a line per group and partition, a total line per group, then the grand total."""
    lines = [f"{'group':32} {'topic':36} {'partition':>9} {'committed':>10} {'end':>10} {'lag':>8}"]
    by_group = totals(lags)
    for group, total in by_group.items():
        mine = sorted(
            (lag for lag in lags if lag.group == group), key=lambda lag: (lag.topic, lag.partition)
        )
        for item in mine:
            committed = "-" if item.committed is None else str(item.committed)
            lines.append(
                f"{group:32} {item.topic:36} {item.partition:>9} {committed:>10} "
                f"{item.end:>10} {item.lag:>8}"
            )
        lines.append(f"{group:32} {'(total)':36} {'':>9} {'':>10} {'':>10} {total:>8}")
    lines.append(f"{'all groups':32} {'':36} {'':>9} {'':>10} {'':>10} {sum(by_group.values()):>8}")
    return lines


def format_json(lags: Sequence[PartitionLag]) -> str:
    """The same as JSON: groups with their total and partitions, and the grand total."""
    by_group = totals(lags)
    return json.dumps(
        {
            "groups": [
                {
                    "group": group,
                    "lag": total,
                    "partitions": [
                        {k: v for k, v in asdict(lag).items() if k != "group"}
                        for lag in sorted(lags, key=lambda lag: (lag.topic, lag.partition))
                        if lag.group == group
                    ],
                }
                for group, total in by_group.items()
            ],
            "total": sum(by_group.values()),
        },
        indent=2,
    )


def _chosen(group: str, patterns: Sequence[str]) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(group, pattern) for pattern in patterns)


async def consumer_lag(bootstrap: str, groups: Sequence[str] = ()) -> list[PartitionLag]:
    """Every chosen group's lag on every partition of the topics it has committed offsets on.

    `groups` are names or shell patterns (`keepword-*`); none means every group.
    """
    async with clients.kafka_errors(bootstrap), clients.admin_client(bootstrap) as admin:
        listed = await admin.list_consumer_groups()
        names = sorted({entry[0] for entry in listed if _chosen(entry[0], groups)})
        committed: dict[str, dict[TopicPartition, int]] = {}
        for name in names:
            offsets = await clients.group_offsets(admin, name)
            committed[name] = {tp: meta.offset for tp, meta in offsets.items()}
    topics = sorted({tp.topic for offsets in committed.values() for tp in offsets})
    if not topics:
        return []
    async with clients.kafka_errors(bootstrap):
        partitions = await clients.partitions_of(bootstrap, topics, skip_missing=True)
    async with clients.kafka_errors(bootstrap), clients.consumer(bootstrap) as consumer:
        starts: dict[TopicPartition, int] = await consumer.beginning_offsets(partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
    found: list[PartitionLag] = []
    for name, offsets in committed.items():
        read = {tp.topic for tp in offsets}
        for tp in partitions:
            if tp.topic not in read:
                continue
            at = offsets.get(tp)
            at = at if at is not None and at >= 0 else None
            lag = lag_of(at, starts[tp], ends[tp])
            found.append(PartitionLag(name, tp.topic, tp.partition, at, ends[tp], lag))
    return found
