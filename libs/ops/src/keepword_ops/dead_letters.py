"""Dead letters as ops sees them, and how far a replay got: pure functions, no I/O.

A dead letter is the original record (key, value, CloudEvents headers) plus the `keepword-dlq-*`
headers the consuming service added (`keepword_platform.messaging.records`). Replaying one writes
the original back onto its source topic with a `keepword-replay-of` header that says where it
came from.

How far replays got is kept per dead-letter partition as a `ReplayMark`: a watermark (every dead
letter below it was replayed, or is gone) and the offsets above it replayed out of order (a replay
filtered by reason or event id skips others). It is stored as the committed offset and metadata
of a dedicated consumer group, so it lives with the topic and needs no other store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

from keepword_events.envelope import H_ID, H_TYPE
from keepword_events.topics import DLQ_SUFFIX
from keepword_platform.messaging import records

REPLAY_OF: Final = records.REPLAY_OF  # the services take a replayed dead letter up again by it
DLQ_HEADER_PREFIX: Final = "keepword-dlq"
# Kafka keeps at most offset.metadata.max.bytes (4096 by default) of commit metadata.
MAX_MARK_METADATA: Final = 4000


class DeadLetterRecord(Protocol):
    """The parts of a consumed record of a `.dlq` topic that we use."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes | None]]: ...  # Kafka allows a null value


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record of a `.dlq` topic: where it sits, where it came from and why."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes | None], ...]
    reason: str
    source_topic: str
    source_partition: int | None
    source_offset: int | None
    service: str
    at: datetime
    attempts: int | None
    event_type: str | None
    event_id: str | None
    replay_of: str | None

    @property
    def thread_id(self) -> str:
        """The record key: the thread the dead letter belongs to."""
        return self.key.decode("utf-8", "replace")

    def original_headers(self) -> tuple[tuple[str, bytes | None], ...]:
        """The headers the record had before it was dead-lettered (CloudEvents and others)."""
        return tuple(
            (name, value)
            for name, value in self.headers
            if not name.startswith(DLQ_HEADER_PREFIX) and name != REPLAY_OF
        )

    def replay_headers(self) -> tuple[tuple[str, bytes | None], ...]:
        """The headers of its replay: the original ones, and where the replay came from."""
        where = f"{self.topic}:{self.partition}:{self.offset}".encode()
        return (*self.original_headers(), (REPLAY_OF, where))


def _text(headers: dict[str, bytes | None], name: str) -> str | None:
    raw = headers.get(name)
    return None if raw is None else raw.decode("utf-8", "replace")


def _number(headers: dict[str, bytes | None], name: str) -> int | None:
    text = _text(headers, name)
    return int(text) if text is not None and text.strip().lstrip("-").isdigit() else None


def record_time(timestamp_ms: int) -> datetime:
    """A Kafka record timestamp (milliseconds since the epoch) as an aware datetime."""
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC)


def source_of(dlq_topic: str) -> str:
    """The topic whose dead letters `dlq_topic` holds: replays go back there, nowhere else."""
    return dlq_topic.removesuffix(DLQ_SUFFIX)


def read_dead_letter(record: DeadLetterRecord) -> DeadLetter:
    """The dead letter in a record of a `.dlq` topic (headers missing: what can be said)."""
    headers = {name.lower(): value for name, value in record.headers}
    at_text = _text(headers, records.DLQ_AT)
    try:
        at = datetime.fromisoformat(at_text) if at_text else record_time(record.timestamp)
    except ValueError:
        at = record_time(record.timestamp)
    return DeadLetter(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key or b"",
        value=record.value or b"",
        headers=tuple(record.headers),
        reason=_text(headers, records.DLQ_REASON) or "(no reason given)",
        source_topic=_text(headers, records.DLQ_TOPIC) or source_of(record.topic),
        source_partition=_number(headers, records.DLQ_PARTITION),
        source_offset=_number(headers, records.DLQ_OFFSET),
        service=_text(headers, records.DLQ_SERVICE) or "?",
        at=at,
        attempts=_number(headers, records.DLQ_ATTEMPTS),
        event_type=_text(headers, H_TYPE),
        event_id=_text(headers, H_ID),
        replay_of=_text(headers, REPLAY_OF),
    )


@dataclass(frozen=True, slots=True)
class Selection:
    """Which dead letters a command is about; empty fields select everything."""

    topics: tuple[str, ...] = ()
    reason: str | None = None
    event_ids: tuple[str, ...] = ()

    def dlq_topics(self, catalog: Sequence[str]) -> tuple[str, ...]:
        """The `.dlq` topics to read, from source or `.dlq` names (unknown names: ValueError)."""
        if not self.topics:
            return tuple(catalog)
        wanted: list[str] = []
        for name in self.topics:
            dlq = name if name.endswith(DLQ_SUFFIX) else name + DLQ_SUFFIX
            if dlq not in catalog:
                raise ValueError(f"{name} is not a topic of the catalog")
            if dlq not in wanted:
                wanted.append(dlq)
        return tuple(wanted)

    def matches(self, letter: DeadLetter) -> bool:
        """Whether the reason (a case-insensitive substring) and event id match."""
        if self.reason is not None and self.reason.lower() not in letter.reason.lower():
            return False
        return not self.event_ids or letter.event_id in self.event_ids


@dataclass(frozen=True, slots=True)
class ReplayMark:
    """How far replays of one dead-letter partition got."""

    watermark: int = 0
    replayed: frozenset[int] = frozenset()

    def done(self, offset: int) -> bool:
        """Whether the dead letter at `offset` was replayed already."""
        return offset < self.watermark or offset in self.replayed

    def metadata(self) -> str:
        """What goes into the commit's metadata: the offsets replayed above the watermark."""
        return json.dumps({"replayed": sorted(self.replayed)}, separators=(",", ":"))

    @classmethod
    def stored(cls, offset: int | None, metadata: str | None) -> ReplayMark:
        """The mark from a committed offset and its metadata (nothing committed: offset 0)."""
        replayed: frozenset[int] = frozenset()
        if metadata:
            try:
                replayed = frozenset(int(o) for o in json.loads(metadata).get("replayed", ()))
            except (ValueError, TypeError, AttributeError):
                replayed = frozenset()
        watermark = offset if offset is not None and offset >= 0 else 0
        return cls(watermark, frozenset(o for o in replayed if o >= watermark))

    def after(
        self, seen: Iterable[int], replayed: Iterable[int], *, start: int, end: int
    ) -> ReplayMark:
        """The mark once `replayed` went out, having read every record in [`start`, `end`).

        `seen` are the offsets of all records read there; offsets in between that are not seen
        hold no record (gone, or transaction markers). The watermark moves over every done
        record from where it stood (or from `start`, when older records are gone) for as far as
        they are contiguous; what stays undone keeps it there.
        """
        done = set(self.replayed) | set(replayed)
        watermark = max(self.watermark, start)
        for offset in sorted(o for o in seen if start <= o < end):
            if offset < watermark:
                continue
            if offset not in done:
                break
            watermark = offset + 1
        else:
            watermark = max(watermark, end)
        return ReplayMark(watermark, frozenset(o for o in done if o >= watermark))
