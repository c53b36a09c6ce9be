"""The CloudEvents 1.0 envelope over the Kafka protocol binding, binary content mode.

Attributes travel as `ce_*` headers, the data as JSON in the record value, and the record key is
the thread id. The codec is written out here rather than built on the CloudEvents SDK because it
sits on every hot path (intake's publish, every consumer) and the SDK would build a generic event
and a dict per record; the SDK is the test oracle instead: it must read every record written here,
and records it writes must decode here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final, Generic, TypeVar

from pydantic import ValidationError

from .base import Event
from .registry import EVENT_TYPES

SPECVERSION: Final = "1.0"
CONTENT_TYPE: Final = "application/json"

H_ID: Final = "ce_id"
H_SOURCE: Final = "ce_source"
H_TYPE: Final = "ce_type"
H_SPECVERSION: Final = "ce_specversion"
H_TIME: Final = "ce_time"
H_SUBJECT: Final = "ce_subject"
H_CORRELATION: Final = "ce_correlationid"  # extension attributes: lowercase, no punctuation
H_CAUSATION: Final = "ce_causationid"
H_CONTENT_TYPE: Final = "content-type"

E = TypeVar("E", bound=Event)
E_co = TypeVar("E_co", bound=Event, covariant=True)

# Kafka allows a header without a value (null): such a record is not an event.
Headers = Mapping[str, bytes | str | None] | Iterable[tuple[str, bytes | str | None]]


class EventDecodeError(ValueError):
    """A record is not a valid Keepword event; `reason` says why, in words ops can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownEventType(EventDecodeError):
    """A well-formed CloudEvent of a type this code does not know (perhaps a newer producer)."""

    def __init__(self, ce_type: str) -> None:
        super().__init__(f"unknown event type {ce_type!r}")
        self.ce_type = ce_type


@dataclass(frozen=True, slots=True)
class Envelope(Generic[E_co]):
    """An event with its CloudEvents attributes."""

    id: str
    source: str
    time: datetime
    data: E_co

    @property
    def type(self) -> str:
        """The versioned CloudEvents type of the data."""
        return self.data.ce_type

    @property
    def subject(self) -> str:
        """The thread the event belongs to."""
        return self.data.thread_id


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """What goes onto Kafka for one event: topic, key, value and headers."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def new_envelope(
    data: E, *, source: str, event_id: str | None = None, time: datetime | None = None
) -> Envelope[E]:
    """Wrap `data` with a fresh id and the current time, unless given."""
    return Envelope(
        id=event_id or str(uuid.uuid4()),
        source=source,
        time=time or datetime.now(UTC),
        data=data,
    )


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, as CloudEvents readers expect."""
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_SPECVERSION_BYTES = SPECVERSION.encode()
_CONTENT_TYPE_BYTES = CONTENT_TYPE.encode()


@lru_cache(maxsize=64)
def _encoded_time(moment: datetime) -> bytes:
    # Events of one batch share their time; this saves re-formatting it for each.
    return format_time(moment).encode()


@lru_cache(maxsize=256)
def _encoded(text: str) -> bytes:
    return text.encode()


def encode(envelope: Envelope[Event]) -> KafkaRecord:
    """The Kafka record (binary content mode) of an envelope."""
    data = envelope.data
    thread = data.thread_id.encode()
    headers = [
        (H_ID, envelope.id.encode()),
        (H_SOURCE, _encoded(envelope.source)),
        (H_TYPE, _encoded(data.ce_type)),
        (H_SPECVERSION, _SPECVERSION_BYTES),
        (H_TIME, _encoded_time(envelope.time)),
        (H_SUBJECT, thread),
        (H_CORRELATION, data.correlation_id.encode()),
        (H_CONTENT_TYPE, _CONTENT_TYPE_BYTES),
    ]
    if data.causation_id is not None:
        headers.append((H_CAUSATION, data.causation_id.encode()))
    return KafkaRecord(
        topic=data.topic,
        key=thread,
        value=data.__pydantic_serializer__.to_json(data),
        headers=tuple(headers),
    )


def _header_map(headers: Headers) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, str] = {}
    for name, raw in items:
        if raw is None:
            raise EventDecodeError(f"header {name!r} has no value (null)")
        try:
            found[name.lower()] = raw.decode() if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            raise EventDecodeError(f"header {name!r} is not UTF-8") from None
    return found


def _required(found: Mapping[str, str], name: str) -> str:
    value = found.get(name)
    if not value:
        raise EventDecodeError(f"missing CloudEvents header {name!r}")
    return value


def decode(value: bytes | None, headers: Headers) -> Envelope[Event]:
    """The envelope of a Kafka record; raises `EventDecodeError` when it is not a valid event."""
    found = _header_map(headers)
    specversion = _required(found, H_SPECVERSION)
    if specversion != SPECVERSION:
        raise EventDecodeError(f"unsupported CloudEvents specversion {specversion!r}")
    ce_type = _required(found, H_TYPE)
    model = EVENT_TYPES.get(ce_type)
    if model is None:
        raise UnknownEventType(ce_type)
    content_type = found.get(H_CONTENT_TYPE, CONTENT_TYPE)
    if content_type.split(";")[0].strip() != CONTENT_TYPE:
        raise EventDecodeError(f"unsupported content-type {content_type!r}")
    raw_time = _required(found, H_TIME)
    try:
        time = datetime.fromisoformat(raw_time)
    except ValueError:
        raise EventDecodeError(f"ce_time {raw_time!r} is not RFC 3339") from None
    if time.tzinfo is None:
        raise EventDecodeError(f"ce_time {raw_time!r} has no offset")
    if not value:
        raise EventDecodeError("record has no data")
    try:
        data = model.model_validate_json(value)
    except ValidationError as error:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in error.errors()
        )
        raise EventDecodeError(f"invalid {ce_type} data: {fields}") from None
    subject = found.get(H_SUBJECT)
    if subject is not None and subject != data.thread_id:
        raise EventDecodeError("ce_subject does not match the data's thread_id")
    return Envelope(
        id=_required(found, H_ID), source=_required(found, H_SOURCE), time=time, data=data
    )
