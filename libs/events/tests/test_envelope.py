"""The CloudEvents envelope: every event type round-trips; bad records raise one clear error."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from keepword_events import (
    EVENT_MODELS,
    EventDecodeError,
    MessageReceived,
    UnknownEventType,
    decode,
    encode,
    new_envelope,
)
from keepword_events.examples import every_event
from pydantic import ValidationError

EXAMPLES = every_event("thr-unit-1")


def test_examples_cover_every_event_type() -> None:
    assert {type(e) for e in EXAMPLES} == set(EVENT_MODELS)


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.ce_type)
def test_every_event_type_round_trips(event: MessageReceived) -> None:
    envelope = new_envelope(event, source="/test")
    record = encode(envelope)

    decoded = decode(record.value, record.headers)

    assert decoded == envelope
    assert record.key == b"thr-unit-1"
    assert record.topic == event.topic
    headers = dict(record.headers)
    assert headers["ce_type"] == event.ce_type.encode()
    assert headers["ce_subject"] == b"thr-unit-1"
    assert headers["content-type"] == b"application/json"


def test_time_is_rfc3339_utc_with_z() -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    record = encode(new_envelope(EXAMPLES[0], source="/t", time=moment))
    assert dict(record.headers)["ce_time"] == b"2026-03-29T01:30:00Z"


def test_unknown_fields_are_ignored_so_old_readers_survive_new_writers() -> None:
    record = encode(new_envelope(EXAMPLES[0], source="/t"))
    data = json.loads(record.value)
    data["a_field_from_the_future"] = {"x": 1}

    decoded = decode(json.dumps(data).encode(), record.headers)

    assert decoded.data == EXAMPLES[0]


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        EXAMPLES[0].thread_id = "other"  # type: ignore[misc]


def _headers_without(name: str) -> list[tuple[str, bytes]]:
    record = encode(new_envelope(EXAMPLES[0], source="/t"))
    return [(k, v) for k, v in record.headers if k != name]


@pytest.mark.parametrize("missing", ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time"])
def test_missing_required_header_is_a_decode_error(missing: str) -> None:
    record = encode(new_envelope(EXAMPLES[0], source="/t"))
    with pytest.raises(EventDecodeError, match=missing):
        decode(record.value, _headers_without(missing))


@pytest.mark.parametrize(
    ("value", "header", "reason"),
    [
        (b"{not json", None, "invalid keepword.message.received.v1 data"),
        (b'{"thread_id": "t"}', None, "correlation_id"),
        (b"", None, "no data"),
        (None, None, "no data"),
        (None, ("ce_specversion", b"0.3"), "specversion"),
        (None, ("ce_time", b"yesterday"), "RFC 3339"),
        (None, ("ce_time", b"2026-01-01T00:00:00"), "no offset"),
        (None, ("content-type", b"application/xml"), "content-type"),
        (None, ("ce_subject", b"another-thread"), "ce_subject"),
        (None, ("ce_id", b"\xff\xfe"), "not UTF-8"),
    ],
)
def test_bad_records_raise_one_clear_error(
    value: bytes | None, header: tuple[str, bytes] | None, reason: str
) -> None:
    record = encode(new_envelope(EXAMPLES[0], source="/t"))
    headers = dict(record.headers)
    if header is not None:
        headers[header[0]] = header[1]
    body = record.value if value is None and header is not None else value

    with pytest.raises(EventDecodeError, match=reason):
        decode(body, headers)


def test_unknown_type_is_its_own_error_so_consumers_can_skip_it() -> None:
    record = encode(new_envelope(EXAMPLES[0], source="/t"))
    headers = dict(record.headers) | {"ce_type": b"keepword.something.new.v9"}

    with pytest.raises(UnknownEventType) as caught:
        decode(record.value, headers)

    assert caught.value.ce_type == "keepword.something.new.v9"


def test_header_text_refuses_control_characters() -> None:
    data = EXAMPLES[0].model_dump() | {"subject": "Hello\r\nBcc: victim@example.com"}
    with pytest.raises(ValidationError, match="subject"):
        MessageReceived.model_validate(data)


def test_naive_times_are_refused_when_encoding() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        encode(new_envelope(EXAMPLES[0], source="/t", time=datetime(2026, 1, 1)))
