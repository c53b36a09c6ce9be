"""`keepword groups reset`: move a stopped consumer group's committed offsets.

The services' consumers are idempotent by event id (each service's inbox), so moving a group
back re-reads events without repeating their effects; moving it forward skips events for good.
A group with running members would overwrite the new offsets with its own: the command refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from . import clients
from .errors import OpsError


@dataclass(frozen=True, slots=True)
class Move:
    """One partition's committed offset, before and after."""

    topic: str
    partition: int
    before: int | None
    after: int


def parse_target(text: str) -> str | datetime:
    """`earliest`, `latest`, or an RFC 3339 time with an offset (ValueError otherwise)."""
    if text in ("earliest", "latest"):
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not earliest, latest or an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment


async def _members(bootstrap: str, group: str) -> int:
    async with clients.admin_client(bootstrap) as admin:
        responses = await admin.describe_consumer_groups([group])
    return sum(
        len(described[5])
        for response in responses
        for described in response.groups
        if described[0] == 0 and described[1] == group
    )


async def reset_group(
    bootstrap: str,
    group: str,
    target: str | datetime,
    topics: Sequence[str] = (),
    *,
    dry_run: bool = False,
) -> list[Move]:
    """Commit `target` (earliest, latest, or the first offset at or after a time) for `group`
    on `topics` (default: every topic it has committed offsets on)."""
    async with clients.kafka_errors(bootstrap):
        members = await _members(bootstrap, group)
        if members:
            raise OpsError(f"group {group} has {members} running member(s): stop them first")
        async with clients.admin_client(bootstrap) as admin:
            committed = await clients.group_offsets(admin, group)
        chosen = list(topics) or sorted({tp.topic for tp in committed})
        if not chosen:
            raise OpsError(f"group {group} has committed nothing: name the topics with --topic")
        partitions = await clients.partitions_of(bootstrap, chosen)
        async with clients.consumer(bootstrap) as consumer:
            if target == "earliest":
                offsets = await consumer.beginning_offsets(partitions)
            else:
                offsets = await consumer.end_offsets(partitions)
            if isinstance(target, datetime):
                stamp = int(target.timestamp() * 1000)
                found = await consumer.offsets_for_times({tp: stamp for tp in partitions})
                offsets |= {tp: at.offset for tp, at in found.items() if at is not None}
        moves = [
            Move(tp.topic, tp.partition, _offset(committed.get(tp)), offsets[tp])
            for tp in partitions
        ]
        if not dry_run:
            async with clients.consumer(bootstrap, group_id=group) as committer:
                committer.assign(partitions)
                await committer.commit({tp: offsets[tp] for tp in partitions})
    return moves


def _offset(meta: object) -> int | None:
    offset = getattr(meta, "offset", None)
    return offset if isinstance(offset, int) and offset >= 0 else None


def format_moves(group: str, moves: Sequence[Move], *, dry_run: bool) -> list[str]:
    """A line per partition: before -> after, and what was (or would be) done."""
    lines = [
        f"{group}  {m.topic} {m.partition}: {'-' if m.before is None else m.before} -> {m.after}"
        for m in moves
    ]
    verb = "would move" if dry_run else "moved"
    changed = sum(1 for m in moves if m.before != m.after)
    return [*lines, f"{verb} {changed} of {len(moves)} partition(s)"]
