"""Vague times: a promise that names no time a clock can check is reported for its maker."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from keepword_commitments.extraction import read_reply
from keepword_events import CommitmentKind

NEW_YORK = "America/New_York"
TUESDAY_10AM = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo(NEW_YORK))


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("We'll get back to you shortly.", "shortly"),
        ("We will update you as soon as possible.", "as soon as possible"),
        ("Our team will be in touch in due course.", "in due course"),
        ("I will send you the updated quote right away.", "right away"),
    ],
)
def test_a_promise_needing_a_time_with_a_vague_one_is_reported_not_recorded(
    text: str, phrase: str
) -> None:
    reading = read_reply(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK)

    assert reading.promises == []
    assert [found.vague_time for found in reading.vague] == [phrase]


def test_a_refund_with_a_vague_time_is_recorded_and_reported() -> None:
    reading = read_reply(
        "We will process your refund as soon as possible.", sent_at=TUESDAY_10AM, timezone=NEW_YORK
    )

    assert [(p.kind, p.due_at, p.vague_time) for p in reading.promises] == [
        (CommitmentKind.REFUND, None, "as soon as possible")
    ]
    assert reading.vague == reading.promises


def test_a_promise_with_a_real_time_is_not_vague() -> None:
    reading = read_reply(
        "We will respond within three hours.", sent_at=TUESDAY_10AM, timezone=NEW_YORK
    )

    assert [p.vague_time for p in reading.promises] == [None]
    assert reading.vague == []


def test_each_vague_clause_is_reported_once_in_text_order() -> None:
    text = "We'll get back to you shortly. Then we'll send the audit soon."

    reading = read_reply(text, sent_at=TUESDAY_10AM, timezone=NEW_YORK)

    assert [(p.kind.value, p.vague_time) for p in reading.vague] == [
        ("response_time", "shortly"),
        ("delivery", "soon"),
    ]
